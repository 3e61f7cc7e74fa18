#include "mta/dns/dns_resolver.h"

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "common/log/logger.h"
#include "mta/dns/cares_channel.h"

namespace ec::dns {

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

namespace {

// The answer in `bytes`, or why there is none (no answer, or a malformed one).
Result<DnsAnswer> Parse(const std::string& name, Result<std::string> bytes) {
  if (!bytes.ok()) return bytes.status();
  auto a = ParseAnswer(*bytes);
  if (!a.ok())
    return Unavailable("DNS answer for " + name + " is malformed: " + a.status().message());
  return a;
}

// A whole answer by its rcode: the records, NXDOMAIN, or a transient failure.
Result<DnsAnswer> Classify(const std::string& name, DnsAnswer a) {
  if (a.rcode == 3) return NotFound(name + " does not exist (NXDOMAIN)");
  if (a.rcode != 0) {
    return Unavailable("DNS lookup of " + name + " failed, rcode " + std::to_string(a.rcode));
  }
  return a;
}

}  // namespace

DnsResolver::DnsResolver(event::EventBase& base, ResolverConfig config) : base_(base) {
  if (config.nameservers.empty()) {
    broken_ = Unavailable("no nameserver configured (resolv_conf)");
    return;
  }
  ChannelOptions options{.servers = std::move(config.nameservers),
                         .timeout = config.timeout,
                         .tries = config.attempts};
  auto udp = CaresChannel::Create(base_, options);
  if (!udp.ok()) {
    broken_ = Unavailable(udp.status().message());
    return;
  }
  if (config.tcp_fallback) {
    // One try per server: the UDP answer already said the server is there.
    options.tcp = true;
    options.tries = 1;
    auto tcp = CaresChannel::Create(base_, options);
    if (!tcp.ok()) {
      broken_ = Unavailable(tcp.status().message());
      return;
    }
    tcp_ = std::move(tcp).value();
  }
  udp_ = std::move(udp).value();
}

DnsResolver::~DnsResolver() = default;

void DnsResolver::LookupMx(const std::string& name, MxCallback done) {
  Lookup(name, RecordType::kMx, [done = std::move(done)](Result<DnsAnswer> a) {
    if (!a.ok()) return done(a.status());
    done(std::move(a->mx));
  });
}

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
  auto addresses = [](Result<DnsAnswer> a) -> Result<std::vector<std::string>> {
    if (!a.ok()) return a.status();
    return std::move(a->addresses);
  };
  if (!ipv6) {
    Lookup(name, RecordType::kA, [addresses, done = std::move(done)](Result<DnsAnswer> a) {
      done(addresses(std::move(a)));
    });
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
  Lookup(name, RecordType::kA, [both, addresses, maybe_done](Result<DnsAnswer> a) {
    both->v4 = addresses(std::move(a));
    maybe_done();
  });
  Lookup(name, RecordType::kAaaa, [both, addresses, maybe_done](Result<DnsAnswer> a) {
    both->v6 = addresses(std::move(a));
    maybe_done();
  });
}

void DnsResolver::Lookup(const std::string& name, RecordType type, AnswerCallback done) {
  if (!udp_) {
    base_.RunInLoop([done, s = broken_.WithContext("cannot look up " + name)] { done(s); });
    return;
  }
  // The channels call back only while they (and so this resolver) exist.
  udp_->Query(name, static_cast<uint16_t>(type),
              [this, name, done = std::move(done)](Result<std::string> bytes) {
                Result<DnsAnswer> a = Parse(name, std::move(bytes));
                if (!a.ok()) return done(a.status());
                if (a->rcode == 0 && a->truncated) return OnTruncated(name, std::move(*a), done);
                done(Classify(name, std::move(*a)));
              });
}

void DnsResolver::OnTruncated(const std::string& name, DnsAnswer truncated, AnswerCallback done) {
  const std::string what = "DNS answer for " + name;
  if (!tcp_) {
    // Used as far as it goes; with nothing usable in it, a later try may fare better.
    if (IsUsable(truncated)) return done(std::move(truncated));
    return done(Unavailable(what + " was truncated with no usable records, and "
                                   "dns_fallback_to_tcp is off"));
  }
  const uint16_t type = truncated.question_type;
  tcp_->Query(name, type,
              [name, what, truncated = std::move(truncated),
               done = std::move(done)](Result<std::string> bytes) {
                Result<DnsAnswer> a = Parse(name, std::move(bytes));
                if (a.ok()) return done(Classify(name, std::move(*a)));
                if (IsUsable(truncated)) {
                  EC_LOG(kWarn, "DNS over TCP failed; using the truncated UDP answer")
                      .Field("name", name)
                      .Field("error", a.status().message());
                  return done(truncated);
                }
                done(Unavailable(what + " was truncated over UDP and asking over TCP failed: " +
                                 a.status().message()));
              });
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
