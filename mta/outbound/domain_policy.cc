#include "mta/outbound/domain_policy.h"

#include <algorithm>

#include "common/config/resolve.h"
#include "common/config/text_util.h"
#include "common/tls/tls_context.h"

namespace ec::outbound {
namespace {

using config::Optional;
using config::ScopePath;

Status Millis(const config::Config& c, const ScopePath& p, const char* option,
              std::chrono::milliseconds* out) {
  double s = static_cast<double>(out->count()) / 1000.0;
  EC_RETURN_IF_ERROR(Optional(config::EvalSeconds(c, p, option), &s));
  *out = std::chrono::milliseconds(static_cast<int64_t>(s * 1000.0));
  return Status::Ok();
}

Status Secs(const config::Config& c, const ScopePath& p, const char* option,
            std::chrono::seconds* out) {
  double s = static_cast<double>(out->count());
  EC_RETURN_IF_ERROR(Optional(config::EvalSeconds(c, p, option), &s));
  *out = std::chrono::seconds(static_cast<int64_t>(s));
  return Status::Ok();
}

Status RateOption(const config::Config& c, const ScopePath& p, const char* option,
                  config::Rate* out) {
  auto r = config::Eval(c, config::DefaultSchema(), p, option);
  if (!r.ok()) return r.status().code() == StatusCode::kNotFound ? Status::Ok() : r.status();
  EC_ASSIGN_OR_RETURN(*out, r->value.AsRate());
  return Status::Ok();
}

}  // namespace

std::chrono::seconds DomainPolicy::RetryDelay(uint32_t failures) const {
  int64_t delay = std::max<int64_t>(retry_interval.count(), 1);
  const int64_t cap = std::max<int64_t>(max_retry_interval.count(), delay);
  for (uint32_t i = 1; i < failures && delay < cap; ++i) delay *= 2;
  return std::chrono::seconds(std::min(delay, cap));
}

Result<GlobalOutbound> BuildGlobalOutbound(std::shared_ptr<const config::Config> config,
                                           const std::string& default_hostname) {
  const config::Config& c = *config;
  GlobalOutbound g;
  EC_ASSIGN_OR_RETURN(BindingTable bindings, BindingTable::Build(config));
  g.bindings = std::make_shared<BindingTable>(std::move(bindings));
  ScopePath global;
  // The node's `hostname` names it in EHLO and DSNs, as it does in the 220 greeting.
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, global, "hostname"), &g.hostname));
  if (g.hostname.empty()) g.hostname = default_hostname;
  EC_RETURN_IF_ERROR(Optional(config::EvalInt(c, global, "server_max_outbound_connections"),
                              &g.server_max_connections));
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, global, "resolv_conf"), &g.resolv_conf));
  EC_RETURN_IF_ERROR(
      Optional(config::EvalBool(c, global, "dns_fallback_to_tcp"), &g.dns_fallback_to_tcp));
  // Build every binding's and every named domain's policy once now. "/regex/" scopes are
  // checked through the domains that use them.
  for (const BindingRef& b : g.bindings->all()) {
    EC_RETURN_IF_ERROR(BuildDomainPolicy(c, "", g.hostname, b).status());
  }
  for (const config::Scope* d : c.root.Children("domain")) {
    const std::string name = d->name.value_or("");
    if (name.empty() || name.front() == '/') continue;
    EC_RETURN_IF_ERROR(BuildDomainPolicy(c, name, g.hostname).status());
  }
  return g;
}

Result<std::shared_ptr<const DomainPolicy>> BuildDomainPolicy(const config::Config& c,
                                                              const std::string& domain,
                                                              const std::string& hostname,
                                                              const BindingRef& binding) {
  auto p = std::make_shared<DomainPolicy>();
  p->domain = config::ToLower(domain);
  p->binding = binding;
  const ScopePath path{
      .binding_group = binding.group, .binding = binding.name, .domain = p->domain};
  const ScopePath binding_path{.binding_group = binding.group, .binding = binding.name};
  auto where = [&](const Status& s) {
    std::string b = binding.name == kDefaultBinding ? "" : "binding \"" + binding.name + "\"";
    std::string d = p->domain.empty() ? "" : "domain \"" + p->domain + "\"";
    return s.WithContext(b.empty() || d.empty() ? b + d : b + " " + d);
  };

  std::string gateway;
  std::vector<std::string> routes;
  if (Status s = Optional(config::EvalString(c, path, "gateway"), &gateway); !s.ok())
    return where(s);
  if (Status s = Optional(config::EvalList(c, path, "routes"), &routes); !s.ok()) return where(s);
  if (!gateway.empty()) {
    auto t = ParseGateway(gateway);
    if (!t.ok()) return where(t.status().WithContext("gateway \"" + gateway + "\""));
    p->routes.push_back(*t);
  } else if (!routes.empty()) {
    auto r = ParseRoutes(routes);
    if (!r.ok()) return where(r.status());
    p->routes = std::move(r).value();
  }

  int64_t port = 25, batch = 100;
  Status s;
  auto step = [&](Status st) {
    if (s.ok() && !st.ok()) s = st;
  };
  step(Optional(config::EvalInt(c, path, "remote_smtp_port"), &port));
  step(Optional(config::EvalInt(c, path, "max_outbound_connections"), &p->max_connections));
  step(Optional(config::EvalInt(c, path, "max_recipients_per_batch"), &batch));
  step(Optional(config::EvalInt(c, path, "max_deliveries_per_connection"),
                &p->max_deliveries_per_connection));
  step(RateOption(c, path, "outbound_throttle_messages", &p->throttle_messages));
  step(RateOption(c, path, "outbound_throttle_connections", &p->throttle_connections));
  step(Secs(c, path, "retry_interval", &p->retry_interval));
  step(Secs(c, path, "max_retry_interval", &p->max_retry_interval));
  step(Secs(c, path, "message_expiration", &p->message_expiration));
  step(Optional(config::EvalBool(c, path, "never_retry"), &p->never_retry));
  step(Optional(config::EvalBool(c, path, "suspend_delivery"), &p->suspended));
  step(Millis(c, path, "connect_timeout", &p->timeouts.connect));
  step(Millis(c, path, "ehlo_timeout", &p->timeouts.ehlo));
  step(Millis(c, path, "mailfrom_timeout", &p->timeouts.mailfrom));
  step(Millis(c, path, "rcptto_timeout", &p->timeouts.rcptto));
  step(Millis(c, path, "body_timeout", &p->timeouts.body));
  step(Millis(c, path, "rset_timeout", &p->timeouts.rset));
  step(Millis(c, path, "idle_timeout", &p->timeouts.idle));
  step(Optional(config::EvalString(c, path, "ehlo_hostname"), &p->ehlo_hostname));
  step(Optional(config::EvalString(c, binding_path, "bind_address"), &p->bind_address));
  step(Optional(config::EvalBool(c, path, "generate_bounces"), &p->generate_bounces));
  step(Optional(config::EvalBool(c, ScopePath{}, "use_ipv6"), &p->use_ipv6));
  step(Optional(config::EvalBool(c, ScopePath{}, "prefer_ipv6_mxs"), &p->prefer_ipv6));
  std::vector<std::string> prohibited;
  step(Optional(config::EvalList(c, ScopePath{}, "prohibited_hosts"), &prohibited));
  if (auto set = net::CidrSet::Parse(prohibited); set.ok()) {
    p->prohibited_hosts = std::move(set).value();
  } else {
    step(set.status());
  }
  step(Optional(config::EvalString(c, path, "mailerdaemon"), &p->mailerdaemon));
  std::string inline_text = "headers", tls = "no", verify = "no", ca, cert, key, ciphers;
  step(Optional(config::EvalString(c, path, "bounces_inline_original"), &inline_text));
  step(Optional(config::EvalString(c, path, "tls"), &tls));
  step(Optional(config::EvalString(c, path, "tls_verify"), &verify));
  step(Optional(config::EvalString(c, path, "tls_ca"), &ca));
  step(Optional(config::EvalString(c, path, "tls_certificate"), &cert));
  step(Optional(config::EvalString(c, path, "tls_key"), &key));
  step(Optional(config::EvalString(c, path, "tls_ciphers"), &ciphers));
  if (!s.ok()) return where(s);

  if (p->bind_address == "*") p->bind_address.clear();
  if (std::string a = p->bind_address; !a.empty()) {
    if (a.size() > 2 && a.front() == '[' && a.back() == ']') a = a.substr(1, a.size() - 2);
    if (!IsIpLiteral(a)) {
      return where(InvalidArgument("bind_address \"" + p->bind_address +
                                   "\" is not an IPv4 or IPv6 address"));
    }
    p->bind_address = a;
  }
  p->port = static_cast<uint16_t>(port);
  p->max_recipients_per_batch = static_cast<size_t>(std::max<int64_t>(batch, 1));
  if (p->ehlo_hostname.empty() || p->ehlo_hostname == "__hostname__" ||
      p->ehlo_hostname == "__message__") {
    p->ehlo_hostname = hostname;
  }
  if (p->mailerdaemon.empty()) p->mailerdaemon = "mailer-daemon@" + hostname;
  inline_text = config::ToLower(inline_text);
  p->bounces_inline = inline_text == "all"    ? DomainPolicy::Inline::kAll
                      : inline_text == "none" ? DomainPolicy::Inline::kNone
                                              : DomainPolicy::Inline::kHeaders;
  tls = config::ToLower(tls);
  p->tls = tls == "required"      ? TlsMode::kRequired
           : tls == "ifavailable" ? TlsMode::kIfAvailable
                                  : TlsMode::kNo;
  if (p->tls != TlsMode::kNo) {
    verify = config::ToLower(verify);
    tls::ClientTlsOptions o{.ca_file = ca,
                            .verify_peer = verify == "ca" || verify == "host",
                            .certificate_file = cert,
                            .key_file = key,
                            .ciphers = ciphers};
    p->tls_verify_host = verify == "host";
    auto ctx = tls::MakeClientContext(o);
    if (!ctx.ok()) return where(ctx.status());
    p->tls_context = std::move(ctx).value();
  }
  return std::shared_ptr<const DomainPolicy>(std::move(p));
}

}  // namespace ec::outbound
