#include "common/control/listener_config.h"

#include <grp.h>

#include <charconv>
#include <vector>

#include "common/config/resolve.h"

namespace ec::control {
namespace {

// The option on the Listen scope, else on the Control_Listener.
const config::Option* Find(const config::Scope& listener, const config::Scope* listen,
                           std::string_view name) {
  if (listen != nullptr) {
    if (const config::Option* o = listen->FindOption(name)) return o;
  }
  return listener.FindOption(name);
}

std::string At(const config::Option& o) { return o.location.ToString() + ": "; }

Result<mode_t> ParseMode(const config::Option& o) {
  std::string_view text = o.value.text();
  unsigned mode = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), mode, 8);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || mode > 0777) {
    return InvalidArgument(At(o) + "file_mode: expected an octal mode such as \"0660\"");
  }
  // Others never get the console: a world-writable socket is root's shell for everyone.
  if (mode & 0007) {
    return InvalidArgument(At(o) + "file_mode " + std::string(text) +
                           ": the console socket must not be open to others (use 0660 and group)");
  }
  return static_cast<mode_t>(mode);
}

Result<gid_t> ParseGroup(const config::Option& o) {
  const std::string& name = o.value.text();
  gid_t gid = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), gid);
  if (!name.empty() && ec == std::errc() && end == name.data() + name.size()) return gid;
  std::vector<char> buf(16384);
  group entry{};
  group* found = nullptr;
  if (getgrnam_r(name.c_str(), &entry, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return InvalidArgument(At(o) + "group \"" + name + "\": no such group");
  }
  return found->gr_gid;
}

Status ReadUsers(const config::Option& o, ServerOptions* options) {
  const config::Value* uri = o.value.Find("uri");
  if (uri == nullptr) {
    return InvalidArgument(At(o) + "AuthLoginParameters needs uri = \"file:///...\"");
  }
  Result<std::string> path = auth::PasswordFile::PathFromUri(uri->text());
  if (!path.ok()) return InvalidArgument(At(o) + path.status().message());
  Result<std::shared_ptr<const auth::PasswordFile>> users =
      auth::PasswordFile::Load(*path, {.hashed_only = true});
  if (!users.ok()) return InvalidArgument(At(o) + users.status().message());
  options->tcp_users = std::move(users).value();
  return Status::Ok();
}

}  // namespace

Result<ServerOptions> ServerOptionsFromConfig(const config::Config& config,
                                              const std::string& default_unix_path) {
  ServerOptions options;
  for (const config::Scope* listener : config.root.Children("control_listener")) {
    for (const config::Scope* listen : listener->Children("listen")) {
      const std::string& name = listen->name.value_or("");
      // `enable = false` on the Listen or the Control_Listener: that socket is not opened (a
      // disabled unix Listen leaves the default socket). Resolved as the ESMTP listener's.
      bool enabled = true;
      EC_RETURN_IF_ERROR(ec::config::Optional(
          ec::config::EvalBool(config, {.listener = "control_listener", .listen = name}, "enable"),
          &enabled));
      if (!enabled) continue;
      if (name.find('/') == std::string::npos) {
        const config::Option* auth = Find(*listener, listen, "authloginparameters");
        if (auth == nullptr) {
          return InvalidArgument(listen->location.ToString() + ": TCP console Listen \"" + name +
                                 "\" needs AuthLoginParameters = [ uri = \"file:///...\" ]: " +
                                 "without it every local user may run any console command");
        }
        EC_RETURN_IF_ERROR(ReadUsers(*auth, &options));
        options.tcp_address = name;
        continue;
      }
      options.unix_path = name;
      if (const config::Option* o = Find(*listener, listen, "file_mode")) {
        EC_ASSIGN_OR_RETURN(options.unix_mode, ParseMode(*o));
      }
      if (const config::Option* o = Find(*listener, listen, "group")) {
        EC_ASSIGN_OR_RETURN(options.unix_group, ParseGroup(*o));
      }
    }
    // Without a Listen path the default socket still takes the listener's mode and group.
    if (options.unix_path.empty()) {
      if (const config::Option* o = listener->FindOption("file_mode")) {
        EC_ASSIGN_OR_RETURN(options.unix_mode, ParseMode(*o));
      }
      if (const config::Option* o = listener->FindOption("group")) {
        EC_ASSIGN_OR_RETURN(options.unix_group, ParseGroup(*o));
      }
    }
  }
  if (options.unix_path.empty()) options.unix_path = default_unix_path;
  return options;
}

int CheckControlListener(const config::Config& config, std::ostream& out) {
  Result<ServerOptions> options = ServerOptionsFromConfig(config, "/unused");
  if (options.ok()) return 0;
  out << "error: " << options.status().message() << "\n";
  return 1;
}

int CheckControlListener(const config::CheckOptions& options, std::ostream& out) {
  auto config = config::LoadConfig(options.config_path, options.load);
  if (!config.ok()) {
    out << config.status().message() << "\n";
    return 1;
  }
  return CheckControlListener(**config, out);
}

}  // namespace ec::control
