// TestDnsServer: a tiny authoritative DNS server for unit tests, on 127.0.0.1 with UDP and TCP on
// the same port (as a real server, so a resolver's TCP retry finds it). Answers A, AAAA and MX
// from a table set up before Start(); a name with no records at all is NXDOMAIN. UDP answers
// over 512 bytes (or every UDP answer, with truncate_udp) are cut at a record boundary and get
// the TC bit, as real servers do. With `forge` set, every UDP answer is preceded by a forged one
// on the same id and port (an off-path spoofer that guessed both), carrying "evil" records: for
// another question, or for the right question with records owned by another name. Runs its own
// thread; the table must not change after Start().
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "mta/dns/resolver.h"

namespace ec::dns {

// gtest prints MX records in failure messages with this.
inline void PrintTo(const MxRecord& mx, std::ostream* os) {
  *os << mx.preference << " " << mx.exchange;
}

}  // namespace ec::dns

namespace ec::dns::testing {

class TestDnsServer {
 public:
  enum class TcpMode {
    kAnswer,   // one framed answer
    kDribble,  // an unrelated frame (wrong id) first, then the answer 3 bytes per write
    kClose,    // read the query, close without answering
    kSilent,   // read the query, keep the connection open, never answer
  };

  enum class Forge {
    kNone,
    kWrongQuestion,  // the question's name with "forged." in front; records for it
    kWrongOwner,     // the right question; the records' owner is evil.test
  };
  // The address, AAAA and MX exchange a forged answer carries.
  static constexpr const char* kEvilA = "127.0.0.66";
  static constexpr const char* kEvilAaaa = "::66";
  static constexpr const char* kEvilMx = "evil.test";

  // May change while the server runs.
  std::atomic<Forge> forge{Forge::kNone};
  std::atomic<bool> truncate_udp{false};  // TC on every UDP answer, even a small one
  std::atomic<size_t> udp_limit{512};     // answers cut to this many bytes over UDP
  std::atomic<TcpMode> tcp_mode{TcpMode::kAnswer};
  bool tcp_listener = true;  // set before Start(); false: nothing listens for TCP on the port

  void AddA(const std::string& name, const std::string& ip) { AddAddress(name, 1, AF_INET, ip); }
  void AddAaaa(const std::string& name, const std::string& ip) {
    AddAddress(name, 28, AF_INET6, ip);
  }
  void AddMx(const std::string& name, uint16_t pref, const std::string& exchange) {
    records_[{name, 15}].push_back(U16(pref) + Name(exchange));
  }

  // Binds UDP and TCP on one free port and starts answering. False if no port could be had.
  bool Start() {
    for (int attempt = 0; attempt < 20 && port_ == 0; ++attempt) {
      int u = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t len = sizeof a;
      if (::bind(u, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          ::getsockname(u, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        ::close(u);
        continue;
      }
      int t = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      // Without a listener the port is still bound, so nobody else listens there either.
      if (::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
          (tcp_listener && ::listen(t, 16) != 0)) {
        ::close(u);
        ::close(t);
        continue;
      }
      udp_ = u;
      tcp_ = t;
      port_ = ntohs(a.sin_port);
    }
    if (port_ == 0) return false;
    thread_ = std::thread([this] { Serve(); });
    return true;
  }

  ~TestDnsServer() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    for (int fd : silent_) ::close(fd);
    if (udp_ >= 0) ::close(udp_);
    if (tcp_ >= 0) ::close(tcp_);
  }

  uint16_t port() const { return port_; }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  int udp_queries() const { return udp_queries_; }
  int tcp_queries() const { return tcp_queries_; }
  // The id and source port of every UDP query, in order of arrival.
  struct Query {
    uint16_t id = 0;
    uint16_t port = 0;
  };
  std::vector<Query> queries() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queries_;
  }

  // Wire-format helpers, also for tests that build packets by hand.
  static std::string U16(unsigned v) {
    return {static_cast<char>((v >> 8) & 0xff), static_cast<char>(v & 0xff)};
  }
  static std::string Name(const std::string& n) {
    std::string out;
    size_t start = 0;
    while (start < n.size()) {
      size_t dot = n.find('.', start);
      if (dot == std::string::npos) dot = n.size();
      out.push_back(static_cast<char>(dot - start));
      out += n.substr(start, dot - start);
      start = dot + 1;
    }
    return out + std::string(1, '\0');
  }

 private:
  void AddAddress(const std::string& name, uint16_t type, int family, const std::string& ip) {
    unsigned char buf[16];
    if (::inet_pton(family, ip.c_str(), buf) != 1) std::abort();
    records_[{name, type}].push_back(
        std::string(reinterpret_cast<char*>(buf), family == AF_INET ? 4 : 16));
  }

  struct Question {
    std::string name;
    uint16_t type = 0;
    std::string wire;  // the question section as the query has it
  };

  // The question of `query`; false if there is none.
  static bool ReadQuestion(const std::string& query, Question* q) {
    if (query.size() < 17) return false;
    size_t pos = 12;
    q->name.clear();
    while (pos < query.size() && query[pos] != 0) {
      size_t len = static_cast<uint8_t>(query[pos]);
      if (!q->name.empty()) q->name += '.';
      q->name += query.substr(pos + 1, len);
      pos += 1 + len;
    }
    pos += 1;
    if (pos + 4 > query.size()) return false;
    q->type = static_cast<uint16_t>((static_cast<uint8_t>(query[pos]) << 8) |
                                    static_cast<uint8_t>(query[pos + 1]));
    q->wire = query.substr(12, pos + 4 - 12);
    return true;
  }

  // One evil record of `type` owned by the (wire-format) name `owner`.
  static std::string EvilRecord(const std::string& owner, uint16_t type) {
    std::string rdata;
    unsigned char buf[16];
    if (type == 1 && ::inet_pton(AF_INET, kEvilA, buf) == 1) {
      rdata.assign(reinterpret_cast<char*>(buf), 4);
    } else if (type == 28 && ::inet_pton(AF_INET6, kEvilAaaa, buf) == 1) {
      rdata.assign(reinterpret_cast<char*>(buf), 16);
    } else {
      rdata = U16(1) + Name(kEvilMx);
    }
    return owner + U16(type) + U16(1) + U16(0) + U16(60) +
           U16(static_cast<unsigned>(rdata.size())) + rdata;
  }

  // The forged answer to `query` that arrives before the real one ("" for kNone).
  static std::string Forged(const std::string& query, Forge kind) {
    Question q;
    if (kind == Forge::kNone || !ReadQuestion(query, &q)) return "";
    std::string question = q.wire;
    std::string record = EvilRecord(U16(0xc00c), q.type);
    if (kind == Forge::kWrongQuestion) {
      question = Name("forged." + q.name) + q.wire.substr(q.wire.size() - 4);
    } else {
      record = EvilRecord(Name("evil.test"), q.type);
    }
    return query.substr(0, 2) + U16(0x8180) + U16(1) + U16(1) + U16(0) + U16(0) + question + record;
  }

  // The answer to `query`, cut to `limit` bytes at a record boundary (TC set) when longer.
  std::string Answer(const std::string& query, size_t limit, bool force_tc) const {
    Question q;
    if (!ReadQuestion(query, &q)) return "";
    const std::string& name = q.name;
    const uint16_t type = q.type;
    const std::string& question = q.wire;
    bool known = false;
    for (const auto& [key, rr] : records_) known = known || key.first == name;
    std::vector<std::string> answers;
    auto it = records_.find({name, type});
    if (it != records_.end()) {
      for (const std::string& rdata : it->second) {
        answers.push_back(U16(0xc00c) + U16(type) + U16(1) + U16(0) + U16(60) +
                          U16(static_cast<unsigned>(rdata.size())) + rdata);
      }
    }
    std::string body = question;
    size_t count = 0;
    bool tc = force_tc;
    for (const std::string& rr : answers) {
      if (12 + body.size() + rr.size() > limit) {
        tc = true;
        break;
      }
      body += rr;
      ++count;
    }
    unsigned flags = 0x8180 | (tc ? 0x0200 : 0) | (known ? 0 : 3);
    return query.substr(0, 2) + U16(flags) + U16(1) + U16(static_cast<unsigned>(count)) + U16(0) +
           U16(0) + body;
  }

  void Serve() {
    while (!stop_) {
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_listener ? tcp_ : -1, POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        char buf[1500];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) {
          ++udp_queries_;
          std::string query(buf, static_cast<size_t>(n));
          if (query.size() >= 2 && from.ss_family == AF_INET) {
            std::lock_guard<std::mutex> lock(mu_);
            queries_.push_back({static_cast<uint16_t>((static_cast<uint8_t>(query[0]) << 8) |
                                                      static_cast<uint8_t>(query[1])),
                                ntohs(reinterpret_cast<sockaddr_in*>(&from)->sin_port)});
          }
          std::string forged = Forged(query, forge);
          if (!forged.empty()) {
            ::sendto(udp_, forged.data(), forged.size(), 0, reinterpret_cast<sockaddr*>(&from),
                     len);
          }
          std::string a = Answer(query, udp_limit, truncate_udp);
          ::sendto(udp_, a.data(), a.size(), 0, reinterpret_cast<sockaddr*>(&from), len);
        }
      }
      if (fds[1].revents & POLLIN) ServeTcp();
    }
  }

  // Reads exactly `n` bytes within a second; false on EOF or timeout.
  bool ReadFull(int fd, char* out, size_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
    size_t got = 0;
    while (got < n && std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      ssize_t r = ::recv(fd, out + got, n - got, 0);
      if (r <= 0) return false;
      got += static_cast<size_t>(r);
    }
    return got == n;
  }

  void ServeTcp() {
    int c = ::accept4(tcp_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) return;
    char len_bytes[2];
    if (ReadFull(c, len_bytes, 2)) {
      size_t len = (static_cast<size_t>(static_cast<uint8_t>(len_bytes[0])) << 8) |
                   static_cast<uint8_t>(len_bytes[1]);
      std::string query(len, '\0');
      if (ReadFull(c, query.data(), len)) {
        ++tcp_queries_;
        std::string a = Answer(query, 65535, false);
        std::string framed = U16(static_cast<unsigned>(a.size())) + a;
        const TcpMode mode = tcp_mode;
        if (mode == TcpMode::kSilent) {
          silent_.push_back(c);
          return;
        }
        if (mode == TcpMode::kAnswer) {
          ::send(c, framed.data(), framed.size(), MSG_NOSIGNAL);
        } else if (mode == TcpMode::kDribble) {
          std::string other = a;
          other[0] = static_cast<char>(other[0] ^ 0x5a);  // a different id
          std::string first = U16(static_cast<unsigned>(other.size())) + other;
          ::send(c, first.data(), first.size(), MSG_NOSIGNAL);
          for (size_t at = 0; at < framed.size(); at += 3) {
            std::string piece = framed.substr(at, 3);
            ::send(c, piece.data(), piece.size(), MSG_NOSIGNAL);
            std::this_thread::sleep_for(std::chrono::microseconds(200));
          }
        }
      }
    }
    ::close(c);
  }

  std::map<std::pair<std::string, uint16_t>, std::vector<std::string>> records_;
  int udp_ = -1;
  int tcp_ = -1;
  uint16_t port_ = 0;
  std::vector<int> silent_;  // kSilent connections, closed at the end; server thread only
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<int> udp_queries_{0};
  std::atomic<int> tcp_queries_{0};
  mutable std::mutex mu_;
  std::vector<Query> queries_;  // guarded by mu_
};

}  // namespace ec::dns::testing
