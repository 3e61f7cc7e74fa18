#include "duravip/vip_config.h"

#include <algorithm>
#include <set>

#include "common/net/cidr.h"

namespace ec::duravip {
namespace {

// The IP of a Listen name: "198.18.0.1:25" -> "198.18.0.1", "[2001:db8::1]:25" -> "2001:db8::1",
// ":25" or "*:25" -> "" (wildcard).
std::string ListenIp(const std::string& name) {
  if (!name.empty() && name.front() == '[') {
    size_t close = name.find(']');
    return close == std::string::npos ? "" : name.substr(1, close - 1);
  }
  size_t colon = name.rfind(':');
  std::string ip = colon == std::string::npos ? name : name.substr(0, colon);
  return ip == "*" ? "" : ip;
}

// Canonical text of an IP, or "" if it is not one.
std::string Canonical(const std::string& text) {
  auto ip = net::IpAddress::Parse(text);
  return ip ? ip->ToString() : "";
}

Result<bool> BoolOption(const config::Scope& s, const char* name) {
  const config::Option* o = s.FindOption(name);
  if (!o) return false;
  auto v = o->value.AsBool();
  if (!v.ok()) return v.status().WithContext(o->location.ToString() + ": " + o->spelling);
  return *v;
}

std::string StringOption(const config::Scope& s, const char* name) {
  const config::Option* o = s.FindOption(name);
  return o ? o->value.text() : "";
}

Status Millis(const config::Option* o, std::chrono::milliseconds* out) {
  if (!o) return Status::Ok();
  auto v = o->value.AsSeconds();
  if (!v.ok()) return v.status().WithContext(o->location.ToString() + ": " + o->spelling);
  *out = std::chrono::milliseconds(static_cast<int64_t>(*v * 1000));
  return Status::Ok();
}

Status Count(const config::Option* o, int64_t min, int64_t* out) {
  if (!o) return Status::Ok();
  auto v = o->value.AsInt();
  if (!v.ok()) return v.status().WithContext(o->location.ToString() + ": " + o->spelling);
  if (*v < min) {
    return InvalidArgument(o->location.ToString() + ": " + o->spelling + " must be at least " +
                           std::to_string(min));
  }
  *out = *v;
  return Status::Ok();
}

// Binding scopes at the top level and inside Binding_Group.
std::vector<const config::Scope*> AllBindings(const config::Config& config) {
  std::vector<const config::Scope*> out = config.root.Children("binding");
  for (const config::Scope* g : config.root.Children("binding_group")) {
    for (const config::Scope* b : g->Children("binding")) out.push_back(b);
  }
  return out;
}

std::vector<const config::Scope*> AllListens(const config::Config& config) {
  std::vector<const config::Scope*> out;
  for (const config::Scope* l : config.root.Children("esmtp_listener")) {
    for (const config::Scope* s : l->Children("listen")) out.push_back(s);
  }
  return out;
}

}  // namespace

std::vector<VipConfig> DuravipConfig::Configured() const {
  std::vector<VipConfig> out;
  for (const VipEntry& e : vips) out.push_back(e.vip);
  return out;
}

std::vector<std::string> DuravipConfig::Addresses() const {
  std::set<std::string> all;
  for (const VipEntry& e : vips) all.insert(e.vip.address);
  for (const FollowEntry& f : follows) {
    if (!f.address.empty()) all.insert(f.address);
  }
  return {all.begin(), all.end()};
}

const TopologyEntry* DuravipConfig::TopologyFor(const std::string& address) const {
  auto ip = net::IpAddress::Parse(address);
  if (!ip) return nullptr;
  const TopologyEntry* best = nullptr;
  int best_prefix = -1;
  for (const TopologyEntry& t : topologies) {
    auto cidr = net::Cidr::Parse(t.cidr);
    if (!cidr.ok() || !cidr->Contains(*ip)) continue;
    if (cidr->prefix_length() > best_prefix) {
      best = &t;
      best_prefix = cidr->prefix_length();
    }
  }
  return best;
}

std::string DuravipConfig::FollowedAddress(const FollowEntry& f) const {
  const std::string as_ip = Canonical(f.follows);
  for (const VipEntry& e : vips) {
    if (e.vip.kind == "binding" && e.vip.name == f.follows) return e.vip.address;
    if (!as_ip.empty() && e.vip.address == as_ip) return e.vip.address;
  }
  return "";
}

Result<DuravipConfig> ReadDuravipConfig(const config::Config& config) {
  DuravipConfig d;
  for (const config::Scope* listen : AllListens(config)) {
    const std::string name = listen->name.value_or("");
    EC_ASSIGN_OR_RETURN(bool enabled, BoolOption(*listen, "enable_duravip"));
    const std::string follow = StringOption(*listen, "duravip_follow");
    const std::string ip = Canonical(ListenIp(name));
    if (enabled) {
      d.vips.push_back({.vip = {.address = ip.empty() ? ListenIp(name) : ip,
                                .kind = "listen",
                                .preference = StringOption(*listen, "duravip_preference")},
                        .listen_name = name,
                        .location = listen->location});
    }
    if (!follow.empty()) {
      d.follows.push_back({.listen_name = name,
                           .address = ip.empty() ? ListenIp(name) : ip,
                           .follows = follow,
                           .location = listen->location});
    }
  }
  for (const config::Scope* binding : AllBindings(config)) {
    EC_ASSIGN_OR_RETURN(bool enabled, BoolOption(*binding, "enable_duravip"));
    if (!enabled) continue;
    const std::string address = StringOption(*binding, "bind_address");
    const std::string ip = Canonical(address);
    d.vips.push_back({.vip = {.address = ip.empty() ? address : ip,
                              .kind = "binding",
                              .name = binding->name.value_or(""),
                              .preference = StringOption(*binding, "duravip_preference")},
                      .location = binding->location});
  }
  for (const config::Scope* cluster : config.root.Children("cluster")) {
    for (const config::Scope* t : cluster->Children("topology")) {
      TopologyEntry entry{.cidr = t->name.value_or(""),
                          .interface = StringOption(*t, "interface"),
                          .location = t->location};
      int64_t mask = 32;
      EC_RETURN_IF_ERROR(Count(t->FindOption("cidrmask"), 0, &mask));
      entry.prefix = static_cast<int>(mask);
      d.topologies.push_back(std::move(entry));
    }
    EC_RETURN_IF_ERROR(Millis(cluster->FindOption("view_balance_interval"), &d.balance_interval));
    EC_RETURN_IF_ERROR(Millis(cluster->FindOption("if_down_limit"), &d.if_down_limit));
    int64_t n = static_cast<int64_t>(d.balance_set_size);
    EC_RETURN_IF_ERROR(Count(cluster->FindOption("duravip_balance_set_size"), 1, &n));
    d.balance_set_size = static_cast<size_t>(n);
    n = static_cast<int64_t>(d.quorum);
    EC_RETURN_IF_ERROR(Count(cluster->FindOption("duravip_quorum"), 0, &n));
    d.quorum = static_cast<size_t>(n);
    if (cluster->FindOption("arp_all_hosts")) {
      EC_ASSIGN_OR_RETURN(d.arp_all_hosts, BoolOption(*cluster, "arp_all_hosts"));
    }
  }
  // Momentum's default is 10 s; a balance round more often than a second only churns.
  if (d.balance_interval < std::chrono::milliseconds(100)) {
    d.balance_interval = std::chrono::milliseconds(100);
  }
  return d;
}

config::Diagnostics ValidateDuravipConfig(const config::Config& config, const DuravipConfig& d,
                                          const std::vector<std::string>& own_addresses) {
  config::Diagnostics diags;
  auto error = [&diags](const config::Location& at, std::string message) {
    diags.push_back({config::Severity::kError, at, std::move(message)});
  };
  std::set<std::string> own;
  for (const std::string& a : own_addresses) {
    std::string c = Canonical(a);
    if (!c.empty()) own.insert(c);
  }
  std::map<std::string, std::pair<std::string, config::Location>> binding_of;  // ip -> name
  for (const VipEntry& e : d.vips) {
    const std::string what = e.vip.kind == "listen" ? "Listen \"" + e.listen_name + "\""
                                                     : "Binding \"" + e.vip.name + "\"";
    if (e.vip.address.empty()) {
      error(e.location, what + ": Enable_Duravip needs " +
                            (e.vip.kind == "listen" ? std::string("a specific IP address, not a "
                                                                  "wildcard")
                                                    : std::string("a Bind_Address")));
      continue;
    }
    if (Canonical(e.vip.address).empty()) {
      error(e.location, what + ": DuraVIP address \"" + e.vip.address + "\" is not an IP address");
      continue;
    }
    if (own.count(e.vip.address)) {
      error(e.location, what + ": DuraVIP " + e.vip.address +
                            " is this host's own address; a DuraVIP must be an extra address "
                            "that can move");
    }
    if (!d.TopologyFor(e.vip.address)) {
      error(e.location, what + ": DuraVIP " + e.vip.address +
                            " is outside every cluster { Topology }, so no interface is known "
                            "to plumb it on");
    }
    if (e.vip.kind == "binding") {
      auto [it, inserted] = binding_of.try_emplace(e.vip.address, e.vip.name, e.location);
      if (!inserted && it->second.first != e.vip.name) {
        error(e.location, what + ": DuraVIP " + e.vip.address + " is also Binding \"" +
                              it->second.first + "\" (" + it->second.second.ToString() +
                              "); one address may carry one binding name only");
      }
    }
  }
  for (const FollowEntry& f : d.follows) {
    const std::string what = "Listen \"" + f.listen_name + "\"";
    for (const VipEntry& e : d.vips) {
      if (e.vip.kind == "listen" && e.listen_name == f.listen_name) {
        error(f.location, what + ": Duravip_Follow cannot be combined with Enable_Duravip");
      }
    }
    for (const config::Scope* listen : AllListens(config)) {
      if (listen->name.value_or("") == f.listen_name && listen->FindOption("duravip_preference")) {
        error(f.location, what + ": Duravip_Follow cannot be combined with Duravip_Preference");
      }
    }
    const std::string target = d.FollowedAddress(f);
    if (target.empty()) {
      error(f.location, what + ": Duravip_Follow \"" + f.follows +
                            "\" names no DuraVIP binding or address");
    } else if (target == f.address) {
      error(f.location, what + ": a follower's address must differ from the address it follows");
    }
    if (f.address.empty() || Canonical(f.address).empty()) {
      error(f.location, what + ": Duravip_Follow needs a specific IP address, not a wildcard");
    } else {
      if (own.count(f.address)) {
        error(f.location, what + ": " + f.address + " is this host's own address");
      }
      if (!d.TopologyFor(f.address)) {
        error(f.location, what + ": " + f.address + " is outside every cluster { Topology }");
      }
    }
  }
  for (const TopologyEntry& t : d.topologies) {
    if (!net::Cidr::Parse(t.cidr).ok()) {
      error(t.location, "Topology \"" + t.cidr + "\" is not a CIDR range");
    }
    if (t.interface.empty()) {
      error(t.location, "Topology \"" + t.cidr + "\" needs an interface");
    }
  }
  return diags;
}

Status DiagnosticsStatus(const config::Diagnostics& diags) {
  std::string text;
  for (const config::Diagnostic& d : diags) {
    if (d.severity != config::Severity::kError) continue;
    if (!text.empty()) text += "\n";
    text += d.ToString();
  }
  return text.empty() ? Status::Ok() : InvalidArgument(text);
}

}  // namespace ec::duravip
