#include "mta/outbound/router.h"

#include <algorithm>

namespace ec::outbound {
namespace {

Result<event::SocketAddress> MakeAddress(const std::string& ip, uint16_t port) {
  std::string text = ip.find(':') != std::string::npos ? "[" + ip + "]" : ip;
  return event::SocketAddress::ParseHostPort(text + ":" + std::to_string(port));
}

// One name to resolve, in the final order of the list.
struct Pending {
  std::string host;
  uint16_t port = 25;
  std::vector<Hop> hops;
  Status error;
  bool done = false;
};

// Collects the lookups of one route; finishes when every name has answered.
class Resolution : public std::enable_shared_from_this<Resolution> {
 public:
  Resolution(dns::Resolver* resolver, RouteCallback done)
      : resolver_(resolver), done_(std::move(done)) {}

  void AddHost(std::string host, uint16_t port) {
    auto p = std::make_shared<Pending>();
    p->host = std::move(host);
    p->port = port;
    items_.push_back(p);
  }
  void AddAddress(const std::string& ip, uint16_t port) {
    auto p = std::make_shared<Pending>();
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
      resolver_->LookupAddresses(p->host, false,
                                 [self, p](Result<std::vector<std::string>> r) {
                                   p->done = true;
                                   if (!r.ok()) {
                                     p->error = r.status();
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
    for (auto& p : items_) {
      hops.insert(hops.end(), p->hops.begin(), p->hops.end());
      if (!p->error.ok()) {
        if (first_error.ok()) first_error = p->error;
        if (p->error.code() != StatusCode::kNotFound && first_transient.ok()) {
          first_transient = p->error;
        }
      }
    }
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

  dns::Resolver* resolver_;
  RouteCallback done_;
  std::vector<std::shared_ptr<Pending>> items_;
  bool finished_ = false;
};

// The MX records of `name`, each resolved; no MX: `name` itself (implicit MX).
void ResolveMx(dns::Resolver* resolver, const std::string& name, uint16_t port,
               RouteCallback done) {
  if (!resolver) {
    done(FailedPrecondition("no DNS resolver configured to look up the MX of " + name));
    return;
  }
  resolver->LookupMx(name, [resolver, name, port, done](Result<std::vector<dns::MxRecord>> r) {
    if (!r.ok()) {
      done(r.status().WithContext("MX lookup of " + name));
      return;
    }
    auto res = std::make_shared<Resolution>(resolver, done);
    if (r->empty()) {
      res->AddHost(name, port);
    } else if (r->size() == 1 && (*r)[0].exchange.empty()) {
      done(NotFound(name + " accepts no mail (null MX)"));
      return;
    } else {
      for (const dns::MxRecord& mx : *r) {
        if (IsIpLiteral(mx.exchange)) {
          res->AddAddress(mx.exchange, port);
        } else {
          res->AddHost(mx.exchange, port);
        }
      }
    }
    res->Start();
  });
}

}  // namespace

void ResolveRoute(dns::Resolver* resolver, const DomainPolicy& policy, RouteCallback done) {
  if (policy.routes.empty()) {
    ResolveMx(resolver, policy.domain, policy.port, std::move(done));
    return;
  }
  // Only the first MX-type entry is followed; with static entries it is one more source.
  auto res = std::make_shared<Resolution>(resolver, done);
  const RouteTarget* mx = nullptr;
  for (const RouteTarget& t : policy.routes) {
    uint16_t port = t.port ? t.port : policy.port;
    switch (t.kind) {
      case RouteTarget::Kind::kAddress: res->AddAddress(t.host, port); break;
      case RouteTarget::Kind::kHost: res->AddHost(t.host, port); break;
      case RouteTarget::Kind::kMx:
        if (!mx) mx = &t;
        break;
    }
  }
  if (!mx) {
    res->Start();
    return;
  }
  std::string mx_name = mx->host.empty() ? policy.domain : mx->host;
  uint16_t mx_port = mx->port ? mx->port : policy.port;
  // Static entries first (written order by preference), then the MX hosts.
  auto statics = std::make_shared<std::vector<Hop>>();
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
  auto res2 = std::make_shared<Resolution>(resolver, [static_result, finish](auto r) {
    *static_result = std::move(r);
    finish();
  });
  for (const RouteTarget& t : policy.routes) {
    uint16_t port = t.port ? t.port : policy.port;
    if (t.kind == RouteTarget::Kind::kAddress) res2->AddAddress(t.host, port);
    if (t.kind == RouteTarget::Kind::kHost) res2->AddHost(t.host, port);
  }
  res2->Start();
  ResolveMx(resolver, mx_name, mx_port, [mx_hops, finish](Result<std::vector<Hop>> r) {
    *mx_hops = std::move(r);
    finish();
  });
}

}  // namespace ec::outbound
