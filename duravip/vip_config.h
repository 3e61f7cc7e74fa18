// DuravipConfig: the DuraVIP part of one config snapshot, read once: every address this node
// configures as a DuraVIP (Listen or Binding with Enable_Duravip), listeners that follow a
// binding (Duravip_Follow), the Topology that says on which interface and with which prefix an
// address is plumbed, and the cluster {} timers. ValidateDuravipConfig is what --check-config,
// start and reload refuse, each problem with file:line.
// Value type; built on the loop thread, then read-only.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "common/base/status.h"
#include "common/config/tree.h"
#include "duravip/election.h"

namespace ec::duravip {

struct TopologyEntry {
  std::string cidr;       // the Topology scope's name
  std::string interface;  // where addresses of this range are plumbed
  int prefix = 32;        // cidrmask
  config::Location location;
};

struct VipEntry {
  VipConfig vip;             // address, kind, binding name, preference
  std::string listen_name;   // kind listen: the Listen scope's name ("198.18.0.100:25")
  config::Location location;
};

// A Listen whose address moves with a binding's (or another address's) DuraVIP.
struct FollowEntry {
  std::string listen_name;
  std::string address;  // the listener's own IP, plumbed with the followed one
  std::string follows;  // a binding name or an IP, as written
  config::Location location;
};

struct DuravipConfig {
  std::vector<VipEntry> vips;  // in file order; an address may appear as listen and binding
  std::vector<FollowEntry> follows;
  std::vector<TopologyEntry> topologies;
  std::chrono::milliseconds balance_interval{10000};  // view_balance_interval
  std::chrono::milliseconds if_down_limit{0};         // extra wait before a takeover
  size_t balance_set_size = 1;                        // duravip_balance_set_size
  bool arp_all_hosts = true;
  int arp_count = 3;   // gratuitous ARPs per announcement
  size_t quorum = 0;   // duravip_quorum; 0 = a strict majority of the bus peers

  bool empty() const { return vips.empty() && follows.empty(); }
  // What this node tells the others it configures (follows excluded: they are not elected).
  std::vector<VipConfig> Configured() const;
  // Every address this node may plumb (VIPs and followers), deduplicated, sorted.
  std::vector<std::string> Addresses() const;
  // The Topology whose range holds `address`, the most specific one; nullptr if none.
  const TopologyEntry* TopologyFor(const std::string& address) const;
  // The address a follower's `follows` names (a binding's VIP, or the IP itself); "" if none.
  std::string FollowedAddress(const FollowEntry& f) const;
};

// Reads the snapshot. Fails only on values that cannot be read at all (a bad number); the
// cross-checks are ValidateDuravipConfig's.
Result<DuravipConfig> ReadDuravipConfig(const config::Config& config);

// Problems an operator must fix, one Diagnostic each with its file:line: Duravip_Follow beside
// Enable_Duravip or Duravip_Preference, a follower whose target is no DuraVIP or whose address
// equals it, an address equal to one of `own_addresses` (the node's bus address, its other
// listeners), an address outside every Topology, one IP under two binding names, an
// Enable_Duravip Binding without Bind_Address, a wildcard Listen.
config::Diagnostics ValidateDuravipConfig(const config::Config& config, const DuravipConfig& d,
                                          const std::vector<std::string>& own_addresses);

// ValidateDuravipConfig's errors as one Status (kInvalidArgument), or Ok.
Status DiagnosticsStatus(const config::Diagnostics& diags);

}  // namespace ec::duravip
