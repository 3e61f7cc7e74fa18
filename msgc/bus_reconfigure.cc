// Bus::Reconfigure: applies a reloaded peer list and key directory to a running bus
// (docs/bus-protocol.md, "Reload"). Kept apart from bus.cc, which carries the steady-state
// protocol; loop thread only, like every Bus method.
#include <vector>

#include "msgc/bus.h"
#include "msgc/curve_keys.h"

namespace ec::msgc {
namespace {

std::string NameList(const std::vector<std::string>& names) {
  if (names.empty()) return "-";
  std::string out;
  for (const std::string& name : names) out += (out.empty() ? "" : ",") + name;
  return out;
}

const std::string* FindKey(const std::map<std::string, std::string>& keys,
                           const std::string& name) {
  auto it = keys.find(name);
  return it == keys.end() ? nullptr : &it->second;
}

}  // namespace

Status Bus::CheckLiveChange(const BusOptions& next) const {
  std::vector<std::string> changed;
  if (next.self != options_.self) changed.push_back("this node's name");
  auto own = next.peers.find(options_.self);
  if (own == next.peers.end() || own->second != options_.peers.at(options_.self)) {
    changed.push_back("this node's address");
  }
  if (next.port != options_.port) changed.push_back("port");
  if (next.curve.enabled() != options_.curve.enabled()) changed.push_back("CURVE on/off");
  if (next.curve.secret_key_file != options_.curve.secret_key_file) {
    changed.push_back("curve_secret_key");
  } else if (next.curve.enabled()) {
    // Same file, new content: our ROUTER and every DEALER still hold the old pair.
    auto pair = ReadSecretKeyFile(next.curve.secret_key_file);
    if (!pair.ok() || pair->public_key != own_public_key_) changed.push_back("own key pair");
  }
  // ZMTP heartbeats are options of the sockets already open.
  if (next.heartbeat_interval != options_.heartbeat_interval) {
    changed.push_back("heartbeat_interval");
  }
  if (next.dead_timeout != options_.dead_timeout) changed.push_back("dead_timeout");
  if (next.send_high_water_mark != options_.send_high_water_mark) {
    changed.push_back("send_high_water_mark");
  }
  if (changed.empty()) return Status::Ok();
  return FailedPrecondition("msgc: changing " + NameList(changed) +
                            " needs a restart; the bus keeps running with its old settings");
}

void Bus::CloseLink(const std::string& peer) {
  auto it = links_.find(peer);
  if (it == links_.end()) return;
  try {
    it->second.dealer.set(zmq::sockopt::linger, 0);  // frames queued for it are dropped
  } catch (const zmq::error_t&) {
  }
  links_.erase(it);
}

Status Bus::Reconfigure(BusOptions next) {
  EC_RETURN_IF_ERROR(ValidateBusOptions(next));
  EC_RETURN_IF_ERROR(CheckLiveChange(next));
  next.log = options_.log;  // the log sink is the process's, not the config's
  std::map<std::string, std::string> keys = LoadPublicKeys(next);
  // Validates every key before anything changes; from here on only socket errors can fail.
  if (zap_) EC_RETURN_IF_ERROR(zap_->SetKeys(keys));

  const Clock::time_point now = Clock::now();
  std::vector<std::string> added, removed, relinked;
  Membership::Events events;
  for (const auto& [name, address] : options_.peers) {
    if (next.peers.count(name) != 0) continue;
    CloseLink(name);
    receive_.erase(name);
    for (auto& event : membership_.RemovePeer(name, now)) events.push_back(std::move(event));
    removed.push_back(name);
  }
  BusOptions old = std::move(options_);
  options_ = std::move(next);  // OpenLink reads options_
  const std::map<std::string, std::string> old_keys = std::move(public_keys_);
  public_keys_ = std::move(keys);
  Status result = Status::Ok();
  for (const auto& [name, address] : options_.peers) {
    if (name == options_.self) continue;
    auto before = old.peers.find(name);
    const bool is_new = before == old.peers.end();
    const bool moved = !is_new && before->second != address;
    const std::string* old_key = FindKey(old_keys, name);
    const std::string* new_key = FindKey(public_keys_, name);
    const bool rekeyed = (old_key == nullptr) != (new_key == nullptr) ||
                         (old_key != nullptr && *old_key != *new_key);
    if (is_new) {
      membership_.AddPeer(name, address, now);
      added.push_back(name);
    } else if (moved) {
      membership_.SetAddress(name, address);
    }
    if (!is_new && !moved && !rekeyed) continue;  // untouched: same socket, same sequence
    if (!is_new) relinked.push_back(name);
    auto link = links_.find(name);
    // Our sequence continues on the new link, so the peer sees one stream from this incarnation.
    const uint64_t sequence = link == links_.end() ? 1 : link->second.next_sequence;
    CloseLink(name);
    Status opened = OpenLink(name, address, sequence);
    if (!opened.ok()) {
      Log("msgc: event=link_error peer=" + name + " error=\"" + opened.message() + "\"");
      if (result.ok()) result = opened;
      continue;
    }
    if (links_.count(name) != 0) (void)SendGroupList(name, MessageType::kHello);
  }
  Log("msgc: event=bus_reconfigured node=" + options_.self + " added=" + NameList(added) +
      " removed=" + NameList(removed) + " relinked=" + NameList(relinked) +
      " view=" + std::to_string(view().id));
  Emit(events);
  return result;
}

}  // namespace ec::msgc
