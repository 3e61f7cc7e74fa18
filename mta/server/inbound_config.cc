#include "mta/server/inbound_config.h"

#include "common/config/resolve.h"
#include "common/tls/tls_context.h"

namespace ec::mta {
namespace {

using config::Optional;
using config::ScopePath;

Status ApplyLineLength(const std::string& text, size_t* out) {
  if (text.empty() || text == "ignore" || text == "fix" || text == "pedantic") {
    // "pedantic" without a number means RFC 5322's 998 octets.
    *out = text == "pedantic" ? 998 : 0;
    return Status::Ok();
  }
  try {
    *out = static_cast<size_t>(std::stoul(text));
  } catch (...) {
    return InvalidArgument("rfc2822_max_line_length \"" + text +
                           "\": expected ignore, pedantic, fix or a number");
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<InboundConfig>> InboundConfig::Build(
    std::shared_ptr<const config::Config> config, std::string default_hostname) {
  std::shared_ptr<InboundConfig> in(new InboundConfig());
  in->config_ = std::move(config);
  in->default_hostname_ = std::move(default_hostname);
  const config::Config& c = *in->config_;

  for (const config::Scope* listener : c.root.Children("esmtp_listener")) {
    int64_t service = 0;
    EC_RETURN_IF_ERROR(Optional(
        config::EvalInt(c, ScopePath{.listener = "esmtp_listener"}, "service_sessions"), &service));
    in->service_sessions_ = static_cast<size_t>(service);
    for (const config::Scope* listen : listener->Children("listen")) {
      const std::string& name = listen->name.value_or("");
      ScopePath path{.listen = name};
      bool enabled = true;
      EC_RETURN_IF_ERROR(Optional(config::EvalBool(c, path, "enable"), &enabled));
      if (!enabled) continue;
      auto address = event::SocketAddress::ParseHostPort(name);
      if (!address.ok()) {
        return InvalidArgument(listen->location.ToString() + ": Listen \"" + name +
                               "\": " + address.status().message());
      }
      int64_t backlog = 500, sessions = 0;
      EC_RETURN_IF_ERROR(Optional(config::EvalInt(c, path, "listen_backlog"), &backlog));
      EC_RETURN_IF_ERROR(Optional(config::EvalInt(c, path, "listener_sessions"), &sessions));
      in->listens_.push_back(
          ListenSpec{.name = name, .address = *address, .backlog = static_cast<int>(backlog)});
      in->listener_sessions_[name] = static_cast<size_t>(sessions);
      // Resolve once now so configuration mistakes surface at load time.
      auto settings = in->Resolve(name, "");
      if (!settings.ok()) {
        return settings.status().WithContext("Listen \"" + name + "\"");
      }
    }
  }
  return in;
}

size_t InboundConfig::ListenerSessions(const std::string& listen) const {
  auto it = listener_sessions_.find(listen);
  return it == listener_sessions_.end() ? 0 : it->second;
}

Result<std::shared_ptr<const ListenSettings>> InboundConfig::SettingsFor(
    const std::string& listen, const std::string& client_ip) {
  std::string key = listen + '\0' + client_ip;
  auto it = cache_.find(key);
  if (it != cache_.end()) return it->second;
  EC_ASSIGN_OR_RETURN(auto settings, Resolve(listen, client_ip));
  // Bounded: a flood of distinct clients must not grow memory without end.
  if (cache_.size() >= 4096) cache_.clear();
  cache_.emplace(std::move(key), settings);
  return settings;
}

Result<std::shared_ptr<const ListenSettings>> InboundConfig::Resolve(const std::string& listen,
                                                                     const std::string& client_ip) {
  const config::Config& c = *config_;
  ScopePath path{.listen = listen, .peer = client_ip};
  auto policy = std::make_shared<smtp::SessionPolicy>();
  auto settings = std::make_shared<ListenSettings>();
  settings->listen_name = listen;

  std::string hostname = default_hostname_;
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, ScopePath{}, "hostname"), &hostname));
  policy->banner_hostname = hostname;
  EC_RETURN_IF_ERROR(
      Optional(config::EvalString(c, path, "banner_hostname"), &policy->banner_hostname));
  EC_RETURN_IF_ERROR(
      Optional(config::EvalString(c, path, "received_hostname"), &policy->received_hostname));
  EC_RETURN_IF_ERROR(
      Optional(config::EvalString(c, path, "static_banner"), &policy->static_banner));
  // The greeting is sent verbatim: anything but a 220 line would break every client.
  if (!policy->static_banner.empty() && policy->static_banner.rfind("220", 0) != 0) {
    return InvalidArgument("static_banner \"" + policy->static_banner +
                           "\": must begin with 220 (it replaces the whole greeting line)");
  }

  std::vector<std::string> extensions;
  EC_RETURN_IF_ERROR(Optional(config::EvalList(c, path, "smtp_extensions"), &extensions));
  if (!extensions.empty()) {
    EC_ASSIGN_OR_RETURN(policy->extensions, smtp::ParseSmtpExtensions(extensions));
  }

  int64_t n = 0;
  EC_RETURN_IF_ERROR(Optional(config::EvalBytes(c, path, "max_message_size"), &n));
  policy->max_message_size = static_cast<uint64_t>(n);
  n = 0;
  EC_RETURN_IF_ERROR(Optional(config::EvalInt(c, path, "max_recipients_per_message"), &n));
  policy->max_recipients_per_message = static_cast<size_t>(n);
  n = 0;
  EC_RETURN_IF_ERROR(Optional(config::EvalInt(c, path, "max_receptions_per_connection"), &n));
  policy->max_receptions_per_connection = static_cast<size_t>(n);
  n = 0;
  EC_RETURN_IF_ERROR(Optional(config::EvalInt(c, path, "sessions_per_client_address"), &n));
  settings->sessions_per_address = static_cast<size_t>(n);
  // Only a Peer scope can say false here: a disabled Listen is never opened.
  bool enabled = true;
  EC_RETURN_IF_ERROR(Optional(config::EvalBool(c, path, "enable"), &enabled));
  settings->refused = !enabled;

  EC_RETURN_IF_ERROR(Optional(config::EvalBool(c, path, "require_ehlo"), &policy->require_ehlo));
  EC_RETURN_IF_ERROR(Optional(config::EvalBool(c, path, "allow_null_envelope_sender"),
                              &policy->allow_null_envelope_sender));
  EC_RETURN_IF_ERROR(
      Optional(config::EvalBool(c, path, "allow_ip_literal"), &policy->allow_ip_literal));

  std::vector<std::string> relay_hosts, relay_domains;
  EC_RETURN_IF_ERROR(Optional(config::EvalList(c, path, "relay_hosts"), &relay_hosts));
  EC_ASSIGN_OR_RETURN(policy->relay.relay_hosts, net::CidrSet::Parse(relay_hosts));
  EC_RETURN_IF_ERROR(Optional(config::EvalList(c, path, "relay_domains"), &relay_domains));
  policy->relay.relay_domains = smtp::DomainPatternList(relay_domains);
  EC_RETURN_IF_ERROR(Optional(config::EvalBool(c, path, "open_relay"), &policy->relay.open_relay));

  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "set_binding"), &settings->binding));
  EC_RETURN_IF_ERROR(
      Optional(config::EvalString(c, path, "set_binding_group"), &settings->binding_group));
  EC_RETURN_IF_ERROR(
      Optional(config::EvalString(c, path, "shared_throttle"), &settings->shared_throttle));

  std::string text;
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "reconfig_message"), &text));
  if (!text.empty()) policy->reconfig_message = text;

  text.clear();
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "rfc2822_lone_lf_in_body"), &text));
  policy->lone_lf_in_body =
      text == "pedantic" ? smtp::LineEndingPolicy::kPedantic : smtp::LineEndingPolicy::kFix;
  text.clear();
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "rfc2822_max_line_length"), &text));
  EC_RETURN_IF_ERROR(ApplyLineLength(text, &policy->max_line_length));
  text.clear();
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "rfc2822_date_header"), &text));
  policy->date_header = text == "ignore"     ? smtp::DateHeaderPolicy::kIgnore
                        : text == "pedantic" ? smtp::DateHeaderPolicy::kPedantic
                                             : smtp::DateHeaderPolicy::kIfNeeded;
  text.clear();
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "rfc2822_messageid_header"), &text));
  policy->messageid_header =
      text == "ignore" ? smtp::MessageIdPolicy::kIgnore : smtp::MessageIdPolicy::kIfNeeded;
  EC_RETURN_IF_ERROR(
      Optional(config::EvalBool(c, path, "rfc2822_trace_headers"), &policy->trace_headers));
  text.clear();
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "starttls_injection_policy"), &text));
  // "allow" is treated as "ignore": commands pipelined behind STARTTLS are never executed.
  policy->starttls_injection = text == "reject" || text.empty()
                                   ? smtp::StartTlsInjectionPolicy::kReject
                                   : smtp::StartTlsInjectionPolicy::kIgnore;

  // STARTTLS: offered when a certificate is configured for this client.
  tls::ServerTlsOptions tls;
  EC_RETURN_IF_ERROR(
      Optional(config::EvalString(c, path, "tls_certificate"), &tls.certificate_file));
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "tls_key"), &tls.key_file));
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "tls_ciphers"), &tls.ciphers));
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "tls_client_ca"), &tls.client_ca_file));
  text.clear();
  EC_RETURN_IF_ERROR(Optional(config::EvalString(c, path, "tls_verify_mode"), &text));
  tls.require_client_certificate = text == "require";
  if (!tls.certificate_file.empty() && tls.certificate_file != "none") {
    if (tls.key_file.empty()) tls.key_file = tls.certificate_file;
    std::string key = tls.certificate_file + '\0' + tls.key_file + '\0' + tls.ciphers + '\0' +
                      tls.client_ca_file + (tls.require_client_certificate ? "\1" : "\0");
    auto it = tls_contexts_.find(key);
    if (it == tls_contexts_.end()) {
      EC_ASSIGN_OR_RETURN(auto ctx, tls::MakeServerContext(tls));
      it = tls_contexts_.emplace(key, std::move(ctx)).first;
    }
    settings->tls = it->second;
    policy->tls_available = true;
  }

  // AUTH: a file:// backend for PLAIN and/or LOGIN.
  std::string auth_uri;
  bool plain = false, login = false;
  for (const char* option : {"authplainparameters", "authloginparameters"}) {
    auto r = config::Eval(c, config::DefaultSchema(), path, option);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kNotFound) continue;
      return r.status();
    }
    const config::Value* uri = r->value.Find("uri");
    if (uri == nullptr) {
      return InvalidArgument(r->location.ToString() + ": " + option +
                             " needs uri = \"file:///...\"");
    }
    auth_uri = uri->text();
    (std::string_view(option) == "authplainparameters" ? plain : login) = true;
  }
  if (!auth_uri.empty()) {
    EC_ASSIGN_OR_RETURN(std::string file, auth::PasswordFile::PathFromUri(auth_uri));
    EC_ASSIGN_OR_RETURN(settings->passwords, Passwords(file));
    policy->auth_available = true;
    policy->extensions.auth_plain = policy->extensions.auth_plain && plain;
    policy->extensions.auth_login = policy->extensions.auth_login && login;
  }

  double idle = 300;
  EC_RETURN_IF_ERROR(Optional(config::EvalSeconds(c, path, "idle_time"), &idle));
  settings->idle_timeout = std::chrono::milliseconds(static_cast<int64_t>(idle * 1000));
  double total = 1800;
  EC_RETURN_IF_ERROR(Optional(config::EvalSeconds(c, path, "max_session_time"), &total));
  settings->total_timeout = std::chrono::milliseconds(static_cast<int64_t>(total * 1000));
  settings->policy = std::move(policy);
  return std::shared_ptr<const ListenSettings>(std::move(settings));
}

Result<std::shared_ptr<const auth::PasswordFile>> InboundConfig::Passwords(const std::string& path) {
  auto it = password_files_.find(path);
  if (it != password_files_.end()) return it->second;
  EC_ASSIGN_OR_RETURN(auto file, auth::PasswordFile::Load(path));
  password_files_.emplace(path, file);
  return file;
}

}  // namespace ec::mta
