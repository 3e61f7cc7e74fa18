#include "msgc/codec.h"

#include <algorithm>
#include <set>

#include "msgc/node_name.h"

namespace ec::msgc {
namespace {

void PutU8(std::string* out, uint8_t v) { out->push_back(static_cast<char>(v)); }
void PutU32(std::string* out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) PutU8(out, static_cast<uint8_t>(v >> shift));
}
void PutU64(std::string* out, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) PutU8(out, static_cast<uint8_t>(v >> shift));
}

// Bounds-checked reader over a frame; every Read* names the field it failed on.
class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  Result<uint64_t> ReadUint(size_t width, std::string_view field) {
    if (bytes_.size() - pos_ < width) return Truncated(field, width);
    uint64_t v = 0;
    for (size_t i = 0; i < width; ++i) v = (v << 8) | static_cast<uint8_t>(bytes_[pos_ + i]);
    pos_ += width;
    return v;
  }
  Result<std::string> ReadBytes(size_t length, std::string_view field) {
    if (bytes_.size() - pos_ < length) return Truncated(field, length);
    std::string out(bytes_.substr(pos_, length));
    pos_ += length;
    return out;
  }
  size_t remaining() const { return bytes_.size() - pos_; }

 private:
  Status Truncated(std::string_view field, size_t need) const {
    return InvalidArgument("frame truncated in " + std::string(field) + " at offset " +
                           std::to_string(pos_) + ": need " + std::to_string(need) +
                           " bytes, have " + std::to_string(bytes_.size() - pos_));
  }

  std::string_view bytes_;
  size_t pos_ = 0;
};

bool IsKnownType(uint8_t type) {
  return type >= static_cast<uint8_t>(MessageType::kHello) &&
         type <= static_cast<uint8_t>(MessageType::kGoodbye);
}

}  // namespace

std::string_view MessageTypeName(MessageType type) {
  switch (type) {
    case MessageType::kHello:
      return "HELLO";
    case MessageType::kHeartbeat:
      return "HEARTBEAT";
    case MessageType::kJoin:
      return "JOIN";
    case MessageType::kLeave:
      return "LEAVE";
    case MessageType::kShout:
      return "SHOUT";
    case MessageType::kWhisper:
      return "WHISPER";
    case MessageType::kRequest:
      return "REQUEST";
    case MessageType::kReply:
      return "REPLY";
    case MessageType::kGoodbye:
      return "GOODBYE";
  }
  return "UNKNOWN";
}

bool IsValidGroupName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return c > ' ' && c < 0x7f; });
}

Status Validate(const Frame& frame) {
  const std::string type_name(MessageTypeName(frame.type));
  if (!IsKnownType(static_cast<uint8_t>(frame.type))) {
    return InvalidArgument("unknown message type " +
                           std::to_string(static_cast<unsigned>(frame.type)));
  }
  if (!IsValidNodeName(frame.sender)) {
    return InvalidArgument(type_name + ": sender name is not " + std::string(kNodeNameRule));
  }
  if (frame.payload.size() > kMaxPayload) {
    return InvalidArgument(type_name + ": payload of " + std::to_string(frame.payload.size()) +
                           " bytes exceeds the limit of " + std::to_string(kMaxPayload));
  }
  const bool reply = frame.type == MessageType::kReply;
  if ((frame.flags & ~(reply ? kFlagError : 0)) != 0) {
    return InvalidArgument(type_name + ": reserved flag bits set");
  }
  if (frame.incarnation == 0) return InvalidArgument(type_name + ": incarnation is zero");

  bool wants_group = false, wants_correlation = false, allows_payload = true;
  switch (frame.type) {
    case MessageType::kHello:
    case MessageType::kHeartbeat:
      break;
    case MessageType::kGoodbye:
      allows_payload = false;
      break;
    case MessageType::kJoin:
    case MessageType::kLeave:
      wants_group = true;
      allows_payload = false;
      break;
    case MessageType::kShout:
    case MessageType::kWhisper:
      wants_group = true;
      break;
    case MessageType::kRequest:
    case MessageType::kReply:
      wants_group = true;
      wants_correlation = true;
      break;
  }
  if (wants_group && !IsValidGroupName(frame.group)) {
    return InvalidArgument(type_name + ": group name is not 1..64 printable characters");
  }
  if (!wants_group && !frame.group.empty()) {
    return InvalidArgument(type_name + ": must not name a group");
  }
  if (wants_correlation != (frame.correlation != 0)) {
    return InvalidArgument(type_name + (wants_correlation ? ": correlation id is zero"
                                                          : ": correlation id must be zero"));
  }
  if (!allows_payload && !frame.payload.empty()) {
    return InvalidArgument(type_name + ": must not carry a payload");
  }
  if (frame.type == MessageType::kHello || frame.type == MessageType::kHeartbeat) {
    auto groups = DecodeGroupList(frame.payload);
    if (!groups.ok()) return groups.status().WithContext(type_name);
  }
  return Status::Ok();
}

Result<std::string> Encode(const Frame& frame) {
  EC_RETURN_IF_ERROR(Validate(frame));
  std::string out;
  out.reserve(kFixedHeaderSize + frame.sender.size() + 1 + frame.group.size() + 4 +
              frame.payload.size());
  PutU8(&out, kMagic);
  PutU8(&out, kVersion);
  PutU8(&out, static_cast<uint8_t>(frame.type));
  PutU8(&out, frame.flags);
  PutU64(&out, frame.incarnation);
  PutU64(&out, frame.sequence);
  PutU64(&out, frame.correlation);
  PutU8(&out, static_cast<uint8_t>(frame.sender.size()));
  out += frame.sender;
  PutU8(&out, static_cast<uint8_t>(frame.group.size()));
  out += frame.group;
  PutU32(&out, static_cast<uint32_t>(frame.payload.size()));
  out += frame.payload;
  return out;
}

Result<Frame> Decode(std::string_view bytes) {
  if (bytes.size() > kMaxFrameSize) {
    return InvalidArgument("frame of " + std::to_string(bytes.size()) +
                           " bytes exceeds the limit of " + std::to_string(kMaxFrameSize));
  }
  Reader in(bytes);
  EC_ASSIGN_OR_RETURN(uint64_t magic, in.ReadUint(1, "magic"));
  if (magic != kMagic) return InvalidArgument("bad magic byte " + std::to_string(magic));
  EC_ASSIGN_OR_RETURN(uint64_t version, in.ReadUint(1, "version"));
  if (version != kVersion) {
    return InvalidArgument("unsupported protocol version " + std::to_string(version) +
                           " (this node speaks " + std::to_string(kVersion) + ")");
  }
  EC_ASSIGN_OR_RETURN(uint64_t type, in.ReadUint(1, "type"));
  if (!IsKnownType(static_cast<uint8_t>(type))) {
    return InvalidArgument("unknown message type " + std::to_string(type));
  }
  Frame frame;
  frame.type = static_cast<MessageType>(type);
  EC_ASSIGN_OR_RETURN(uint64_t flags, in.ReadUint(1, "flags"));
  frame.flags = static_cast<uint8_t>(flags);
  EC_ASSIGN_OR_RETURN(frame.incarnation, in.ReadUint(8, "incarnation"));
  EC_ASSIGN_OR_RETURN(frame.sequence, in.ReadUint(8, "sequence"));
  EC_ASSIGN_OR_RETURN(frame.correlation, in.ReadUint(8, "correlation"));
  EC_ASSIGN_OR_RETURN(uint64_t sender_length, in.ReadUint(1, "sender length"));
  if (sender_length > kMaxNameLength) {
    return InvalidArgument("sender name of " + std::to_string(sender_length) +
                           " bytes exceeds the limit of " + std::to_string(kMaxNameLength));
  }
  EC_ASSIGN_OR_RETURN(frame.sender, in.ReadBytes(sender_length, "sender"));
  EC_ASSIGN_OR_RETURN(uint64_t group_length, in.ReadUint(1, "group length"));
  if (group_length > kMaxNameLength) {
    return InvalidArgument("group name of " + std::to_string(group_length) +
                           " bytes exceeds the limit of " + std::to_string(kMaxNameLength));
  }
  EC_ASSIGN_OR_RETURN(frame.group, in.ReadBytes(group_length, "group"));
  EC_ASSIGN_OR_RETURN(uint64_t payload_length, in.ReadUint(4, "payload length"));
  if (payload_length > kMaxPayload) {
    return InvalidArgument("payload of " + std::to_string(payload_length) +
                           " bytes exceeds the limit of " + std::to_string(kMaxPayload));
  }
  EC_ASSIGN_OR_RETURN(frame.payload, in.ReadBytes(payload_length, "payload"));
  if (in.remaining() != 0) {
    return InvalidArgument(std::to_string(in.remaining()) + " trailing bytes after the payload");
  }
  EC_RETURN_IF_ERROR(Validate(frame));
  return frame;
}

Result<std::string> EncodeGroupList(const std::vector<std::string>& groups) {
  if (groups.size() > kMaxGroupsPerList) {
    return InvalidArgument("more than " + std::to_string(kMaxGroupsPerList) + " groups");
  }
  std::string out;
  std::set<std::string_view> seen;
  PutU8(&out, static_cast<uint8_t>(groups.size()));
  for (const std::string& group : groups) {
    if (!IsValidGroupName(group)) return InvalidArgument("bad group name in group list");
    if (!seen.insert(group).second) return InvalidArgument("duplicate group in group list");
    PutU8(&out, static_cast<uint8_t>(group.size()));
    out += group;
  }
  return out;
}

Result<std::vector<std::string>> DecodeGroupList(std::string_view bytes) {
  Reader in(bytes);
  EC_ASSIGN_OR_RETURN(uint64_t count, in.ReadUint(1, "group count"));
  if (count > kMaxGroupsPerList) {
    return InvalidArgument("group list of " + std::to_string(count) +
                           " entries exceeds the limit of " + std::to_string(kMaxGroupsPerList));
  }
  std::vector<std::string> groups;
  std::set<std::string> seen;
  for (uint64_t i = 0; i < count; ++i) {
    EC_ASSIGN_OR_RETURN(uint64_t length, in.ReadUint(1, "group list entry length"));
    EC_ASSIGN_OR_RETURN(std::string group, in.ReadBytes(length, "group list entry"));
    if (!IsValidGroupName(group)) return InvalidArgument("bad group name in group list");
    if (!seen.insert(group).second) return InvalidArgument("duplicate group in group list");
    groups.push_back(std::move(group));
  }
  if (in.remaining() != 0) {
    return InvalidArgument(std::to_string(in.remaining()) + " trailing bytes after group list");
  }
  return groups;
}

}  // namespace ec::msgc
