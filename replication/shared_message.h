// The messages of cluster-wide limits on the cluster group (ec_cluster), the wire format ecmta
// and eccmgr both read (docs/cluster-limits.md, "Protocol"):
//  - a report: a node's figures for every limited object it uses (usage, demand, the grant it
//    holds and whose), sent when they change, at most every Replicate max_delay, and in full
//    every refresh interval and to a member that just joined (its snapshot);
//  - grants: the leader's grants, every node's, for the objects that changed (and all of them
//    every refresh interval, to repair a lost frame).
// Text, one item a line, bounded. The decoder takes input from peers: anything malformed is
// kInvalidArgument, never a crash (tests/fuzz/replication/shared_message_fuzzer.cc). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/base/status.h"

namespace ec::replication {

inline constexpr size_t kMaxMessageSize = 1024 * 1024;
inline constexpr size_t kMaxObjectsPerMessage = 10000;
inline constexpr size_t kMaxKeySize = 512;

// An object's key: "<type>/<name>", type one of Momentum's Replicate types that carries it
// (ObjectType), e.g. "outbound_domains/example.com", "outbound_domains/host/192.0.2.7",
// "outbound_binding_domains/b1/example.com", "outbound_cidr/b1", "obtm/example.com".
struct ObjectFigures {
  std::string key;
  uint64_t limit = 0;  // the limit the node has configured for it
  uint64_t window_ms = 0;  // throttles: the window a send holds its unit; 0: connections
  uint64_t usage = 0;
  uint64_t demand = 0;
  uint64_t held = 0;
  uint64_t acked_seq = 0;

  bool operator==(const ObjectFigures&) const = default;
};

struct ReportMessage {
  // The sender's wall clock (ms since the epoch) when it sent this: receivers measure the
  // replication lag from it (the nodes' clocks are assumed NTP-synchronised; bench/cluster runs
  // every node on one machine).
  uint64_t sent_ms = 0;
  std::string leader;  // whose grants the node applies ("" none)
  bool full = false;   // every object the node has (a snapshot): objects missing are at 0
  std::vector<ObjectFigures> objects;

  bool operator==(const ReportMessage&) const = default;
};

struct GrantEntry {
  std::string key;
  std::string node;
  uint64_t units = 0;
  uint64_t seq = 0;

  bool operator==(const GrantEntry&) const = default;
};

struct GrantMessage {
  uint64_t sent_ms = 0;  // as in ReportMessage
  std::vector<GrantEntry> grants;

  bool operator==(const GrantMessage&) const = default;
};

using Message = std::variant<ReportMessage, GrantMessage>;

std::string EncodeMessage(const Message& message);
// kNotFound when the payload is not one of these messages (another user of the group, such as
// DuraVIP); kInvalidArgument when it is one but malformed.
Result<Message> DecodeMessage(std::string_view payload);

// The Replicate type of a key ("outbound_domains" for "outbound_domains/example.com"), or ""
// when the key has no '/'.
std::string_view ObjectType(std::string_view key);

}  // namespace ec::replication
