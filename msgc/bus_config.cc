#include "msgc/bus_config.h"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include "msgc/curve_keys.h"

namespace ec::msgc {
namespace {

// The last setting of `name` over every msgc_server stanza (stanzas merge; the last one wins).
const config::Option* FindBusOption(const config::Config& config, std::string_view name) {
  const config::Option* found = nullptr;
  for (const config::Scope* scope : config.root.Children("msgc_server")) {
    if (const config::Option* o = scope->FindOption(name)) found = o;
  }
  return found;
}

Status AtOption(const config::Option& o, const Status& s) {
  return InvalidArgument(o.location.ToString() + ": " + o.spelling + ": " + s.message());
}

Result<std::chrono::milliseconds> Millis(const config::Option* o,
                                         std::chrono::milliseconds fallback) {
  if (!o) return fallback;
  auto seconds = o->value.AsSeconds();
  if (!seconds.ok()) return AtOption(*o, seconds.status());
  return std::chrono::milliseconds(static_cast<int64_t>(std::llround(*seconds * 1000.0)));
}

}  // namespace

bool HasBusConfig(const config::Config& config) {
  const config::Option* peers = FindBusOption(config, "peers");
  return peers && peers->value.is_dict() && !peers->value.keys().empty();
}

Result<BusConfig> BusConfigFromConfig(const config::Config& config, const std::string& self,
                                      const std::string& default_secret_key) {
  BusConfig out;
  BusOptions& bus = out.bus;
  bus.self = self;
  const config::Option* peers = FindBusOption(config, "peers");
  if (!peers) return NotFound("no msgc_server { peers = [ ... ] } in the configuration");
  if (!peers->value.is_dict()) {
    return AtOption(*peers, InvalidArgument("expected [ nodename = \"address\" ... ]"));
  }
  for (size_t i = 0; i < peers->value.keys().size(); ++i) {
    auto address = peers->value.items()[i].AsString();
    if (!address.ok()) return AtOption(*peers, address.status());
    bus.peers[peers->value.keys()[i]] = *address;
  }
  if (const config::Option* o = FindBusOption(config, "port")) {
    auto port = o->value.AsInt();
    if (!port.ok()) return AtOption(*o, port.status());
    if (*port < 1 || *port > 65535) return AtOption(*o, InvalidArgument("not a port number"));
    bus.port = static_cast<uint16_t>(*port);
  }
  EC_ASSIGN_OR_RETURN(bus.heartbeat_interval,
                      Millis(FindBusOption(config, "heartbeat_interval"), bus.heartbeat_interval));
  EC_ASSIGN_OR_RETURN(bus.dead_timeout,
                      Millis(FindBusOption(config, "dead_timeout"), bus.dead_timeout));
  EC_ASSIGN_OR_RETURN(out.request_timeout,
                      Millis(FindBusOption(config, "request_timeout"), out.request_timeout));
  EC_ASSIGN_OR_RETURN(out.health_interval,
                      Millis(FindBusOption(config, "health_report_interval"), out.health_interval));
  if (out.health_interval.count() <= 0) {
    return InvalidArgument("msgc_server health_report_interval must be positive");
  }
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    if (const config::Option* o = cluster->FindOption("view_mature_time")) {
      EC_ASSIGN_OR_RETURN(bus.view_mature_time, Millis(o, bus.view_mature_time));
    }
    if (const config::Option* o = cluster->FindOption("control_group")) {
      out.control_group = o->value.text();
    }
    if (const config::Option* o = cluster->FindOption("control_peers")) {
      auto names = o->value.AsStringList();
      if (!names.ok()) return AtOption(*o, names.status());
      for (std::string& n : *names) {
        if (!bus.peers.count(n)) {
          return AtOption(*o, InvalidArgument("control peer \"" + n +
                                              "\" is not in msgc_server peers"));
        }
        out.control_peers.insert(std::move(n));
      }
    }
  }
  if (const config::Option* o = FindBusOption(config, "messages_per_iter")) {
    auto n = o->value.AsInt();
    if (!n.ok() || *n < 1) return AtOption(*o, InvalidArgument("expected a positive number"));
    bus.messages_per_iteration = static_cast<int>(std::min<int64_t>(*n, 1 << 20));
  }
  if (const config::Option* o = FindBusOption(config, "max_backlog")) {
    auto n = o->value.AsInt();
    if (!n.ok() || *n < 1) return AtOption(*o, InvalidArgument("expected a positive number"));
    bus.send_high_water_mark = static_cast<int>(std::min<int64_t>(*n, 1 << 24));
  }

  bool curve = true;
  if (const config::Option* o = FindBusOption(config, "curve")) {
    auto b = o->value.AsBool();
    if (!b.ok()) return AtOption(*o, b.status());
    curve = *b;
  }
  if (curve) {
    const config::Option* secret = FindBusOption(config, "curve_secret_key");
    bus.curve.secret_key_file = secret ? secret->value.text() : default_secret_key;
    if (const config::Option* o = FindBusOption(config, "curve_public_keys")) {
      bus.curve.public_key_dir = o->value.text();
    } else {
      const std::filesystem::path file = peers->location.file;
      bus.curve.public_key_dir = (file.parent_path() / "msgc_keys").string();
    }
  }
  EC_RETURN_IF_ERROR(ValidateBusOptions(bus));
  return out;
}

Status EnsureOwnKeyPair(const BusOptions& options) {
  if (!options.curve.enabled()) return Status::Ok();
  std::error_code ec;
  std::filesystem::create_directories(
      std::filesystem::path(options.curve.secret_key_file).parent_path(), ec);
  std::filesystem::create_directories(options.curve.public_key_dir, ec);
  std::string public_path = options.curve.public_key_dir + "/" + options.self + ".pub";
  if (std::filesystem::exists(public_path, ec)) public_path.clear();  // never overwrite a pin
  auto pair = LoadOrCreateKeyPair(options.curve.secret_key_file, public_path);
  if (!pair.ok()) return pair.status();
  return Status::Ok();
}

}  // namespace ec::msgc
