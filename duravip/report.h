// The DuraVIP messages members exchange on the cluster group (ec_cluster), the wire format both
// ecmta and eccmgr read (docs/duravip.md, "Protocol"): a node's report (what it configures and
// holds), a one-off move override, and a request that everyone re-announces. Text, one item a
// line, bounded; the decoder takes input from peers, so anything malformed is kInvalidArgument,
// never a crash (tests/fuzz/duravip/report_fuzzer.cc). Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "common/base/status.h"
#include "duravip/election.h"

namespace ec::duravip {

inline constexpr size_t kMaxMessageSize = 256 * 1024;
inline constexpr size_t kMaxVipsPerReport = 10240;  // Momentum's limit on aliases

struct ReportMessage {
  NodeReport report;
  uint64_t takeovers = 0;  // addresses this node took over since it started
};
struct MoveMessage {
  std::string address;
  std::string node;
};
struct AnnounceMessage {};

using Message = std::variant<ReportMessage, MoveMessage, AnnounceMessage>;

std::string EncodeMessage(const Message& message);
// kNotFound when the payload is not a DuraVIP message at all (another user of the group);
// kInvalidArgument when it is one but malformed.
Result<Message> DecodeMessage(std::string_view payload);

}  // namespace ec::duravip
