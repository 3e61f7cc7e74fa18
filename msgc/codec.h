// The bus wire format (docs/bus-protocol.md): one ZeroMQ message part per bus frame, a fixed
// big-endian header followed by the sender name, the group name and the payload. Encode refuses
// what Decode would refuse, so a frame we send is always one a peer accepts.
// Pure functions on value types; any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"

namespace ec::msgc {

inline constexpr uint8_t kMagic = 0xEC;
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kMaxNameLength = 64;     // node names and group names
inline constexpr size_t kMaxPayload = 1 << 20;   // 1 MiB of application data per frame
inline constexpr size_t kMaxGroupsPerList = 64;  // groups announced in HELLO/HEARTBEAT
// magic, version, type, flags, incarnation, sequence, correlation, sender length.
inline constexpr size_t kFixedHeaderSize = 1 + 1 + 1 + 1 + 8 + 8 + 8 + 1;
inline constexpr size_t kMaxFrameSize =
    kFixedHeaderSize + kMaxNameLength + 1 + kMaxNameLength + 4 + kMaxPayload;

enum class MessageType : uint8_t {
  kHello = 1,      // first frame to a peer; payload: the sender's group list
  kHeartbeat = 2,  // periodic liveness; payload: the sender's group list
  kJoin = 3,       // sender joined `group`
  kLeave = 4,      // sender left `group`
  kShout = 5,      // to every member of `group`
  kWhisper = 6,    // to one peer, dispatched by `group`
  kRequest = 7,    // to one peer; `correlation` names the request
  kReply = 8,      // answer to REQUEST `correlation`; flag kFlagError: payload is the error text
  kGoodbye = 9,    // sender is shutting down cleanly
};

// Flag bits; every other bit must be zero in version 1.
inline constexpr uint8_t kFlagError = 0x01;  // REPLY only

std::string_view MessageTypeName(MessageType type);

struct Frame {
  MessageType type = MessageType::kHeartbeat;
  uint8_t flags = 0;
  uint64_t incarnation = 0;  // the sender's process lifetime; a new value means it restarted
  uint64_t sequence = 0;     // per sender->receiver link, starts at 1 for each incarnation
  uint64_t correlation = 0;  // request id for REQUEST/REPLY, else 0
  std::string sender;
  std::string group;
  std::string payload;

  bool operator==(const Frame&) const = default;
};

// A group name: 1..64 printable ASCII characters other than space.
bool IsValidGroupName(std::string_view name);

// The per-type rules of the format (which fields must be empty, zero or set).
Status Validate(const Frame& frame);

// kInvalidArgument when the frame breaks a rule (a too-long payload, a bad name...).
Result<std::string> Encode(const Frame& frame);
// kInvalidArgument with a message naming the first problem; never reads past `bytes`.
Result<Frame> Decode(std::string_view bytes);

// The HELLO/HEARTBEAT payload: u8 count, then count x (u8 length, name).
Result<std::string> EncodeGroupList(const std::vector<std::string>& groups);
Result<std::vector<std::string>> DecodeGroupList(std::string_view bytes);

}  // namespace ec::msgc
