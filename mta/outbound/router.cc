#include "mta/outbound/router.h"

#include <sys/socket.h>

#include <algorithm>

namespace ec::outbound {
namespace {

Result<event::SocketAddress> MakeAddress(const std::string& ip, uint16_t port) {
  std::string text = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
  return event::SocketAddress::ParseHostPort(text + ":" + std::to_string(port));
}

// Which address families a lookup asks for and how one preference level is ordered.
struct Families {
  bool use_ipv6 = false;
  bool prefer_ipv6 = false;
};

// One name to resolve, in the final order of the list.
struct Pending {
  std::string host;
  uint16_t port = 25;
  int group = 0;  // consecutive items of one group (one MX preference) are ordered by family
  std::vector<Hop> hops;
  Status error;
  bool done = false;
};

// Collects the lookups of one route; finishes when every name has answered.
class Resolution : public std::enable_shared_from_this<Resolution> {
 public:
  Resolution(dns::Resolver* resolver, const Families& families, RouteCallback done)
      : resolver_(resolver), families_(families), done_(std::move(done)) {}

  void AddHost(std::string host, uint16_t port, int group) {
    auto p = std::make_shared<Pending>();
    p->host = std::move(host);
    p->port = port;
    p->group = group;
    items_.push_back(p);
  }
  void AddAddress(const std::string& ip, uint16_t port, int group) {
    auto p = std::make_shared<Pending>();
    p->group = group;
    auto a = MakeAddress(ip, port);
    if (a.ok()) {
      p->hops.push_back(Hop{*a, ip});
    } else {
      p->error = a.status();
    }
    p->done = true;
    items_.push_back(p);
  }
  void Start() {
    if (!resolver_) {
      for (auto& p : items_) {
        if (!p->done) {
          p->done = true;
          p->error = FailedPrecondition("no DNS resolver configured to look up " + p->host);
        }
      }
    }
    auto self = shared_from_this();
    bool any = false;
    for (auto& p : items_) {
      if (p->done) continue;
      any = true;
      const bool ipv6 = families_.use_ipv6;
      resolver_->LookupAddresses(
          p->host, ipv6, [self, p, ipv6](Result<std::vector<std::string>> r) {
            p->done = true;
            if (!r.ok()) {
              p->error = r.status();
            } else if (r->empty()) {
              // NODATA; with use_ipv6 off, AAAA records are ignored as if absent.
              p->error = NotFound(p->host + (ipv6 ? " has no A or AAAA record"
                                                  : " has no A record (AAAA records are not "
                                                    "used: use_ipv6 is off)"));
            } else {
              for (const std::string& ip : *r) {
                auto a = MakeAddress(ip, p->port);
                if (a.ok()) p->hops.push_back(Hop{*a, p->host});
              }
            }
            self->MaybeFinish();
          });
    }
    if (!any) MaybeFinish();
  }

 private:
  void MaybeFinish() {
    if (finished_) return;
    for (auto& p : items_) {
      if (!p->done) return;
    }
    finished_ = true;
    std::vector<Hop> hops;
    Status first_transient, first_error;
    size_t group_start = 0;
    for (size_t i = 0; i < items_.size(); ++i) {
      const auto& p = items_[i];
      if (i > 0 && p->group != items_[i - 1]->group) {
        OrderByFamily(&hops, group_start);
        group_start = hops.size();
      }
      hops.insert(hops.end(), p->hops.begin(), p->hops.end());
      if (!p->error.ok()) {
        if (first_error.ok()) first_error = p->error;
        if (p->error.code() != StatusCode::kNotFound && first_transient.ok()) {
          first_transient = p->error;
        }
      }
    }
    OrderByFamily(&hops, group_start);
    if (!hops.empty()) {
      done_(std::move(hops));
    } else if (!first_transient.ok()) {
      done_(first_transient);
    } else if (!first_error.ok()) {
      done_(first_error);
    } else {
      done_(NotFound("no address found"));
    }
  }

  // Hops [from, end) are one preference: IPv4 first, or IPv6 first with prefer_ipv6_mxs.
  void OrderByFamily(std::vector<Hop>* hops, size_t from) const {
    const int first = families_.prefer_ipv6 ? AF_INET6 : AF_INET;
    std::stable_partition(hops->begin() + static_cast<std::ptrdiff_t>(from), hops->end(),
                          [first](const Hop& h) { return h.address.family() == first; });
  }

  dns::Resolver* resolver_;
  Families families_;
  RouteCallback done_;
  std::vector<std::shared_ptr<Pending>> items_;
  bool finished_ = false;
};

// The MX records of `name`, each resolved; no MX: `name` itself (implicit MX).
void ResolveMx(dns::Resolver* resolver, const Families& families, const std::string& name,
               uint16_t port, RouteCallback done) {
  if (!resolver) {
    done(FailedPrecondition("no DNS resolver configured to look up the MX of " + name));
    return;
  }
  resolver->LookupMx(name,
                     [resolver, families, name, port, done](Result<std::vector<dns::MxRecord>> r) {
                       if (!r.ok()) {
                         done(r.status().WithContext("MX lookup of " + name));
                         return;
                       }
                       auto res = std::make_shared<Resolution>(resolver, families, done);
                       if (r->empty()) {
                         res->AddHost(name, port, 0);
                       } else if (r->size() == 1 && (*r)[0].exchange.empty()) {
                         done(NotFound(name + " accepts no mail (null MX)"));
                         return;
                       } else {
                         for (const dns::MxRecord& mx : *r) {
                           if (IsIpLiteral(mx.exchange)) {
                             res->AddAddress(mx.exchange, port, mx.preference);
                           } else {
                             res->AddHost(mx.exchange, port, mx.preference);
                           }
                         }
                       }
                       res->Start();
                     });
}

// Drops prohibited addresses from a successful resolution; none left is a permanent failure.
RouteCallback WithoutProhibited(const DomainPolicy& policy, RouteCallback done) {
  if (policy.prohibited_hosts.empty()) return done;
  return [prohibited = policy.prohibited_hosts, domain = policy.domain,
          done = std::move(done)](Result<std::vector<Hop>> r) {
    if (!r.ok() || r->empty()) return done(std::move(r));
    std::vector<Hop> allowed;
    for (Hop& hop : *r) {
      if (!prohibited.Contains(hop.address.host())) allowed.push_back(std::move(hop));
    }
    if (allowed.empty()) {
      return done(NotFound("every address of " + domain + " is in prohibited_hosts"));
    }
    done(std::move(allowed));
  };
}

}  // namespace

void ResolveRoute(dns::Resolver* resolver, const DomainPolicy& policy, RouteCallback done) {
  const Families families{.use_ipv6 = policy.use_ipv6, .prefer_ipv6 = policy.prefer_ipv6};
  done = WithoutProhibited(policy, std::move(done));
  if (policy.routes.empty()) {
    ResolveMx(resolver, families, policy.domain, policy.port, std::move(done));
    return;
  }
  // Static entries first (written order by preference), then the MX hosts of the first
  // MX-type entry (only that one is followed). Each static entry is its own group.
  auto statics = [&policy](Resolution* res) {
    int group = 0;
    for (const RouteTarget& t : policy.routes) {
      uint16_t port = t.port ? t.port : policy.port;
      if (t.kind == RouteTarget::Kind::kAddress) res->AddAddress(t.host, port, group++);
      if (t.kind == RouteTarget::Kind::kHost) res->AddHost(t.host, port, group++);
    }
  };
  auto mx = std::find_if(policy.routes.begin(), policy.routes.end(),
                         [](const RouteTarget& t) { return t.kind == RouteTarget::Kind::kMx; });
  if (mx == policy.routes.end()) {
    auto res = std::make_shared<Resolution>(resolver, families, std::move(done));
    statics(res.get());
    res->Start();
    return;
  }
  std::string mx_name = mx->host.empty() ? policy.domain : mx->host;
  uint16_t mx_port = mx->port ? mx->port : policy.port;
  auto state = std::make_shared<int>(2);
  auto mx_hops = std::make_shared<Result<std::vector<Hop>>>(NotFound("pending"));
  auto static_result = std::make_shared<Result<std::vector<Hop>>>(NotFound("pending"));
  auto finish = [state, static_result, mx_hops, done] {
    if (--*state > 0) return;
    std::vector<Hop> all;
    if (static_result->ok()) all = **static_result;
    if (mx_hops->ok()) all.insert(all.end(), (*mx_hops)->begin(), (*mx_hops)->end());
    if (!all.empty()) {
      done(std::move(all));
    } else {
      done(mx_hops->ok() ? static_result->status() : mx_hops->status());
    }
  };
  auto res = std::make_shared<Resolution>(resolver, families, [static_result, finish](auto r) {
    *static_result = std::move(r);
    finish();
  });
  statics(res.get());
  res->Start();
  ResolveMx(resolver, families, mx_name, mx_port, [mx_hops, finish](Result<std::vector<Hop>> r) {
    *mx_hops = std::move(r);
    finish();
  });
}

}  // namespace ec::outbound
