#include "msgc/bus_options.h"

#include "msgc/codec.h"
#include "msgc/node_name.h"

namespace ec::msgc {

Status ValidateBusOptions(const BusOptions& options) {
  if (!IsValidNodeName(options.self)) {
    return InvalidArgument("node name `" + options.self + "` is not " + std::string(kNodeNameRule));
  }
  if (options.peers.count(options.self) == 0) {
    return InvalidArgument("node `" + options.self + "` is not listed in msgc_server peers");
  }
  for (const auto& [name, address] : options.peers) {
    if (!IsValidNodeName(name)) {
      return InvalidArgument("peer name `" + name + "` is not " + std::string(kNodeNameRule) +
                             " (msgc needs lowercase names)");
    }
    if (address.empty() || address.find_first_of(" ;/*") != std::string::npos) {
      return InvalidArgument("peer `" + name + "` has no usable address `" + address + "`");
    }
  }
  if (options.port == 0) return InvalidArgument("msgc port must not be 0");
  if (options.heartbeat_interval.count() <= 0) {
    return InvalidArgument("heartbeat interval must be positive");
  }
  if (options.dead_timeout < 3 * options.heartbeat_interval) {
    return InvalidArgument("dead timeout must be at least 3 heartbeat intervals");
  }
  if (options.view_mature_time.count() < 0) {
    return InvalidArgument("view_mature_time must not be negative");
  }
  if (options.messages_per_iteration <= 0) {
    return InvalidArgument("messages_per_iteration must be positive");
  }
  if (options.send_high_water_mark <= 0) {
    return InvalidArgument("send high water mark must be positive");
  }
  if (options.curve.enabled() && options.curve.public_key_dir.empty()) {
    return InvalidArgument("CURVE needs the directory of the peers' public keys");
  }
  return Status::Ok();
}

}  // namespace ec::msgc
