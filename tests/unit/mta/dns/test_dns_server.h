// TestDnsServer: a tiny authoritative DNS server for unit tests, on 127.0.0.1 with UDP and TCP on
// the same port (as a real server, so a resolver's TCP retry finds it). Answers A, AAAA and MX
// from a table set up before Start(); a name with no records at all is NXDOMAIN. UDP answers
// over 512 bytes (or every UDP answer, with truncate_udp) are cut at a record boundary and get
// the TC bit, as real servers do. Runs its own thread; the table must not change after Start().
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
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace ec::dns::testing {

class TestDnsServer {
 public:
  enum class TcpMode {
    kAnswer,   // one framed answer
    kDribble,  // an unrelated frame (wrong id) first, then the answer 3 bytes per write
    kClose,    // read the query, close without answering
    kSilent,   // read the query, keep the connection open, never answer
  };

  // May change while the server runs.
  std::atomic<bool> truncate_udp{false};  // TC on every UDP answer, even a small one
  std::atomic<size_t> udp_limit{512};     // answers cut to this many bytes over UDP
  std::atomic<TcpMode> tcp_mode{TcpMode::kAnswer};

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
      if (::bind(t, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || ::listen(t, 16) != 0) {
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

  // The answer to `query`, cut to `limit` bytes at a record boundary (TC set) when longer.
  std::string Answer(const std::string& query, size_t limit, bool force_tc) const {
    if (query.size() < 17) return "";
    size_t pos = 12;
    std::string name;
    while (pos < query.size() && query[pos] != 0) {
      size_t len = static_cast<uint8_t>(query[pos]);
      if (!name.empty()) name += '.';
      name += query.substr(pos + 1, len);
      pos += 1 + len;
    }
    pos += 1;
    if (pos + 4 > query.size()) return "";
    uint16_t type = static_cast<uint16_t>((static_cast<uint8_t>(query[pos]) << 8) |
                                          static_cast<uint8_t>(query[pos + 1]));
    std::string question = query.substr(12, pos + 4 - 12);
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
      pollfd fds[2] = {{udp_, POLLIN, 0}, {tcp_, POLLIN, 0}};
      if (::poll(fds, 2, 20) <= 0) continue;
      if (fds[0].revents & POLLIN) {
        char buf[1500];
        sockaddr_storage from{};
        socklen_t len = sizeof from;
        ssize_t n = ::recvfrom(udp_, buf, sizeof buf, 0, reinterpret_cast<sockaddr*>(&from), &len);
        if (n > 0) {
          ++udp_queries_;
          std::string a = Answer(std::string(buf, static_cast<size_t>(n)), udp_limit, truncate_udp);
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
};

}  // namespace ec::dns::testing
