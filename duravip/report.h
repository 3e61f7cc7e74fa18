// The DuraVIP messages members exchange on the cluster group (ec_cluster), the wire format both
// ecmta and eccmgr read (docs/duravip.md, "Protocol"): a node's report (what it configures and
// holds), a one-off move override, and a request that everyone re-announces. Text, one item a
// line, bounded; the decoder takes input from peers, so anything malformed is kInvalidArgument,
// never a crash (tests/fuzz/duravip/report_fuzzer.cc). Pure functions; any thread.
#pragma once

#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "common/base/status.h"
#include "duravip/election.h"

namespace ec::duravip {

inline constexpr size_t kMaxMessageSize = 256 * 1024;
inline constexpr size_t kMaxVipsPerReport = 10240;  // Momentum's limit on aliases
// A bus REQUEST asking a member for its report now: the reply is made after the request
// arrived, so it is fresher than anything the member sent before (shouts queued on a link
// during a partition arrive after the heal, stale).
inline constexpr std::string_view kQueryRequest = "duravip-query 1\n";

struct ReportMessage {
  NodeReport report;
  uint64_t takeovers = 0;  // addresses this node took over since it started
  // The members the sender sees alive (not itself). A member that one of our live peers sees
  // alive but we do not may still hold addresses (a partition healing in an odd order, or cut
  // from us only): we take nothing while such a disagreement lasts.
  std::vector<std::string> sees;
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
