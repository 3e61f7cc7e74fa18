// The ECCluster channel's wire format (docs/log-aggregation.md, "The 4802 protocol"): ZeroMQ
// multipart messages between a DEALER (the manager) and a node's ROUTER, CURVE-encrypted.
//
//   request  "ecc1" | <id> | <node> | <command line>       (the ROUTER adds the routing id)
//   reply    "ecc1" | <id> | "ok" or "error" | <text>
//
// <id> is 1..20 decimal digits chosen by the client, echoed so a late reply to an abandoned
// request is recognised and dropped. <node> is the sender's own name; the server believes it
// only without CURVE (development mode); with CURVE the name comes from the key (ZAP User-Id)
// and this frame is ignored. Decoders take untrusted frames and fail cleanly. Pure; any thread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "common/control/protocol.h"

namespace ec::eccluster {

inline constexpr std::string_view kProtocolVersion = "ecc1";
// A command line is short ("journal ack mainlog master 12 3456"); anything longer is refused.
inline constexpr size_t kMaxCommandLine = 4096;
// Replies carry at most one batch (batch.h) plus a little.
inline constexpr size_t kMaxReplyText = (4u << 20) + 4096;

struct WireRequest {
  uint64_t id = 0;
  std::string node;  // as stated by the sender; trusted only without CURVE
  std::string line;
};

struct WireReply {
  uint64_t id = 0;
  control::Response response;
};

std::vector<std::string> EncodeRequest(const WireRequest& request);
std::vector<std::string> EncodeReply(const WireReply& reply);
// `frames` without the ROUTER's routing id.
Result<WireRequest> DecodeRequest(const std::vector<std::string_view>& frames);
Result<WireReply> DecodeReply(const std::vector<std::string_view>& frames);

}  // namespace ec::eccluster
