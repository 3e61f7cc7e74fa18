#include "mta/dns/dns_resolver.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
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
  int fd = -1;
  event::EventPtr ev;
  std::function<void(Result<DnsResponse>)> done;
  ~Query() {
    ev.reset();
    if (fd >= 0) ::close(fd);
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
      if (colons == 0) text_addr = server + ":53";
      else if (colons > 1 && server.front() != '[') text_addr = "[" + server + "]:53";
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
          return InvalidArgument("resolv.conf line " + std::to_string(n) + ": bad option \"" +
                                 opt + "\"");
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

void DnsResolver::LookupAddresses(const std::string& name, bool ipv6, AddressCallback done) {
  Send(RecordType::kA, name, [this, name, ipv6, done = std::move(done)](Result<DnsResponse> r) {
    if (!r.ok()) return done(r.status());
    if (!ipv6) return done(std::move(r->addresses));
    std::vector<std::string> v4 = std::move(r->addresses);
    Send(RecordType::kAaaa, name, [v4, done](Result<DnsResponse> r6) mutable {
      if (r6.ok()) v4.insert(v4.end(), r6->addresses.begin(), r6->addresses.end());
      done(std::move(v4));
    });
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
    Finish(q->key, Status(StatusCode::kDeadlineExceeded, "DNS lookup of " + q->name + " timed out"));
    return;
  }
  const event::SocketAddress& server =
      config_.nameservers[static_cast<size_t>(q->tries) % config_.nameservers.size()];
  ++q->tries;
  q->ev.reset();
  if (q->fd >= 0) ::close(q->fd);
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
  uint64_t key = q->key;
  if (r->rcode == 3) {
    self->Finish(key, NotFound(q->name + " does not exist (NXDOMAIN)"));
  } else if (r->rcode != 0) {
    self->Finish(key, Unavailable("DNS lookup of " + q->name + " failed, rcode " +
                                      std::to_string(r->rcode)));
  } else {
    self->Finish(key, std::move(r));
  }
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

Result<std::unique_ptr<Resolver>> MakeResolver(event::EventBase& base, const std::string& path) {
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
  return std::unique_ptr<Resolver>(new DnsResolver(base, std::move(config)));
}

}  // namespace ec::dns
