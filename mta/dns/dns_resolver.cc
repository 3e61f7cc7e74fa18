#include "mta/dns/dns_resolver.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <random>
#include <sstream>

#include "common/event/timer.h"
#include "common/log/logger.h"

namespace ec::dns {

struct DnsResolver::Query {
  DnsResolver* owner = nullptr;
  uint64_t key = 0;
  uint16_t id = 0;
  std::string name;
  RecordType type = RecordType::kA;
  std::string packet;
  int tries = 0;
  event::SocketAddress server;  // of the current try
  int fd = -1;
  event::EventPtr ev;
  std::optional<DnsResponse> truncated;  // the TC answer over UDP, while TCP is asked
  std::unique_ptr<TcpExchange> tcp;
  std::function<void(Result<DnsResponse>)> done;
  ~Query() { CloseUdp(); }
  void CloseUdp() {
    ev.reset();
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
};

Result<ResolverConfig> ParseResolvConf(std::string_view text) {
  ResolverConfig c;
  std::istringstream in{std::string(text)};
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    std::istringstream words(line);
    std::string key;
    if (!(words >> key) || key[0] == '#' || key[0] == ';') continue;
    if (key == "nameserver") {
      std::string server;
      words >> server;
      std::string text_addr = server;
      // "IP" (port 53), "IP:PORT", "[v6]:PORT", or a bare v6 address.
      size_t colons = std::count(server.begin(), server.end(), ':');
      if (colons == 0)
        text_addr = server + ":53";
      else if (colons > 1 && server.front() != '[')
        text_addr = "[" + server + "]:53";
      auto a = event::SocketAddress::ParseHostPort(text_addr);
      if (!a.ok()) {
        return InvalidArgument("resolv.conf line " + std::to_string(n) + ": nameserver \"" +
                               server + "\": " + a.status().message());
      }
      c.nameservers.push_back(*a);
    } else if (key == "options") {
      std::string opt;
      while (words >> opt) {
        try {
          if (opt.rfind("timeout:", 0) == 0) {
            c.timeout = std::chrono::milliseconds(std::max(1, std::stoi(opt.substr(8))) * 1000);
          } else if (opt.rfind("attempts:", 0) == 0) {
            c.attempts = std::clamp(std::stoi(opt.substr(9)), 1, 5);
          }
        } catch (...) {
          return InvalidArgument("resolv.conf line " + std::to_string(n) + ": bad option \"" + opt +
                                 "\"");
        }
      }
    }
  }
  return c;
}

DnsResolver::DnsResolver(event::EventBase& base, ResolverConfig config)
    : base_(base), config_(std::move(config)) {
  std::random_device rd;
  next_id_ = static_cast<uint16_t>(rd());
}

DnsResolver::~DnsResolver() = default;

void DnsResolver::LookupMx(const std::string& name, MxCallback done) {
  Send(RecordType::kMx, name, [done = std::move(done)](Result<DnsResponse> r) {
    if (!r.ok()) return done(r.status());
    done(std::move(r->mx));
  });
}

namespace {

// The addresses of one family from an answer (a server may add records nobody asked for).
Result<std::vector<std::string>> OfFamily(Result<DnsResponse> r, bool v6) {
  if (!r.ok()) return r.status();
  std::vector<std::string> out;
  for (std::string& a : r->addresses) {
    if ((a.find(':') != std::string::npos) == v6) out.push_back(std::move(a));
  }
  return out;
}

}  // namespace

Result<std::vector<std::string>> MergeAddressLookups(Result<std::vector<std::string>> v4,
                                                     Result<std::vector<std::string>> v6) {
  std::vector<std::string> all;
  if (v4.ok()) all = *v4;
  if (v6.ok()) all.insert(all.end(), v6->begin(), v6->end());
  if (!all.empty()) return all;
  for (const auto* r : {&v4, &v6}) {
    if (!r->ok() && r->status().code() != StatusCode::kNotFound) return r->status();
  }
  if (!v4.ok()) return v4.status();
  if (!v6.ok()) return v6.status();
  return all;
}

void DnsResolver::LookupAddresses(const std::string& name, bool ipv6, AddressCallback done) {
  if (!ipv6) {
    Send(RecordType::kA, name,
         [done = std::move(done)](Result<DnsResponse> r) { done(OfFamily(std::move(r), false)); });
    return;
  }
  // A and AAAA in parallel; the answer when both are in.
  struct Both {
    std::optional<Result<std::vector<std::string>>> v4, v6;
    AddressCallback done;
  };
  auto both = std::make_shared<Both>();
  both->done = std::move(done);
  auto maybe_done = [both] {
    if (both->v4 && both->v6) both->done(MergeAddressLookups(*both->v4, *both->v6));
  };
  Send(RecordType::kA, name, [both, maybe_done](Result<DnsResponse> r) {
    both->v4 = OfFamily(std::move(r), false);
    maybe_done();
  });
  Send(RecordType::kAaaa, name, [both, maybe_done](Result<DnsResponse> r) {
    both->v6 = OfFamily(std::move(r), true);
    maybe_done();
  });
}

void DnsResolver::Send(RecordType type, const std::string& name,
                       std::function<void(Result<DnsResponse>)> done) {
  if (config_.nameservers.empty()) {
    base_.RunInLoop([done, name] {
      done(Unavailable("no nameserver configured (resolv_conf) to look up " + name));
    });
    return;
  }
  auto q = std::make_unique<Query>();
  q->owner = this;
  q->key = next_key_++;
  q->id = next_id_++;
  q->name = name;
  q->type = type;
  q->done = std::move(done);
  auto packet = BuildQuery(q->id, name, type);
  if (!packet.ok()) {
    base_.RunInLoop([done = q->done, s = packet.status()] { done(s); });
    return;
  }
  q->packet = std::move(packet).value();
  Query* raw = q.get();
  queries_[q->key] = std::move(q);
  Try(raw);
}

void DnsResolver::Try(Query* q) {
  const int total = config_.attempts * static_cast<int>(config_.nameservers.size());
  if (q->tries >= total) {
    Finish(q->key,
           Status(StatusCode::kDeadlineExceeded, "DNS lookup of " + q->name + " timed out"));
    return;
  }
  const event::SocketAddress& server =
      config_.nameservers[static_cast<size_t>(q->tries) % config_.nameservers.size()];
  ++q->tries;
  q->server = server;
  q->CloseUdp();
  q->fd = ::socket(server.family(), SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (q->fd < 0 || ::connect(q->fd, server.get(), server.size()) != 0 ||
      ::send(q->fd, q->packet.data(), q->packet.size(), 0) < 0) {
    Finish(q->key, Unavailable("DNS query to " + server.ToString() + ": " + std::strerror(errno)));
    return;
  }
  q->ev.reset(event_new(base_.get(), q->fd, EV_READ | EV_PERSIST, &OnSocket, q));
  timeval tv = event::ToTimeval(config_.timeout);
  event_add(q->ev.get(), &tv);
}

void DnsResolver::OnSocket(evutil_socket_t fd, short what, void* arg) {
  Query* q = static_cast<Query*>(arg);
  DnsResolver* self = q->owner;
  if (what & EV_TIMEOUT) {
    self->Try(q);
    return;
  }
  char buf[4096];
  ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EINTR) return;
    // ICMP port unreachable and the like: next server.
    self->Try(q);
    return;
  }
  auto r = ParseResponse(std::string_view(buf, static_cast<size_t>(n)));
  if (!r.ok() || r->id != q->id) return;  // not ours: keep waiting
  if (r->rcode == 0 && r->truncated) {
    self->OnTruncated(q, std::move(r).value());
  } else {
    self->Finish(q->key, Classify(q->name, std::move(r).value()));
  }
}

Result<DnsResponse> DnsResolver::Classify(const std::string& name, DnsResponse r) {
  if (r.rcode == 3) return NotFound(name + " does not exist (NXDOMAIN)");
  if (r.rcode != 0) {
    return Unavailable("DNS lookup of " + name + " failed, rcode " + std::to_string(r.rcode));
  }
  return r;
}

void DnsResolver::OnTruncated(Query* q, DnsResponse r) {
  const std::string what = "DNS answer for " + q->name + " from " + q->server.ToString();
  if (!config_.tcp_fallback) {
    // Used as far as it goes; with nothing usable in it, a later try may fare better.
    if (IsUsable(r, q->type)) return Finish(q->key, std::move(r));
    return Finish(q->key, Unavailable(what + " was truncated with no usable records, and "
                                             "dns_fallback_to_tcp is off"));
  }
  q->CloseUdp();
  q->truncated = std::move(r);
  uint64_t key = q->key;
  q->tcp = std::make_unique<TcpExchange>(
      base_, q->server, q->id, config_.timeout,
      [this, key](Result<DnsResponse> answer) { OnTcpAnswer(key, std::move(answer)); });
  Status s = q->tcp->Start(q->packet);
  if (!s.ok()) OnTcpAnswer(key, s);
}

void DnsResolver::OnTcpAnswer(uint64_t key, Result<DnsResponse> r) {
  auto it = queries_.find(key);
  if (it == queries_.end()) return;
  Query* q = it->second.get();
  if (r.ok()) return Finish(key, Classify(q->name, std::move(r).value()));
  if (q->truncated && IsUsable(*q->truncated, q->type)) {
    EC_LOG(kWarn, "DNS over TCP failed; using the truncated UDP answer")
        .Field("name", q->name)
        .Field("error", r.status().message());
    return Finish(key, std::move(*q->truncated));
  }
  Finish(key, Unavailable("DNS answer for " + q->name + " was truncated over UDP and asking " +
                          q->server.ToString() + " over TCP failed: " + r.status().message()));
}

void DnsResolver::Finish(uint64_t key, Result<DnsResponse> r) {
  auto it = queries_.find(key);
  if (it == queries_.end()) return;
  std::unique_ptr<Query> q = std::move(it->second);
  queries_.erase(it);
  auto done = std::move(q->done);
  q.reset();
  done(std::move(r));
}

Result<std::unique_ptr<Resolver>> MakeResolver(event::EventBase& base, const std::string& path,
                                               bool tcp_fallback) {
  std::string file = path.empty() ? "/etc/resolv.conf" : path;
  std::ifstream in(file);
  ResolverConfig config;
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    auto parsed = ParseResolvConf(ss.str());
    if (!parsed.ok()) return parsed.status().WithContext(file);
    config = std::move(parsed).value();
  } else if (!path.empty()) {
    return NotFound("resolv_conf " + file + " cannot be read");
  }
  config.tcp_fallback = tcp_fallback;
  return std::unique_ptr<Resolver>(new DnsResolver(base, std::move(config)));
}

}  // namespace ec::dns
