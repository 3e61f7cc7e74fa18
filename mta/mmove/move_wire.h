// The #mmove wire format (docs/mmove.md), carried as command lines on the ECCluster channel
// (eccluster/frames.h: a line is at most kMaxCommandLine bytes, so a message travels in chunks):
//
//   mmove begin <sender id> <payload bytes> <payload crc32c>    -> "ready" | "dup <receiver id>"
//   mmove chunk <sender id> <offset> <base64 data>              -> "ok"
//   mmove commit <sender id>                                    -> "stored <receiver id>"
//                                                                | "dup <receiver id>"
//   mmove abort <sender id>                                     -> "ok"
//
// Ids are the 16-hex-digit spool queue ids. The sender's node is not on the line: the receiver
// takes it from the CURVE key (the request's principal), so no member can claim another's ids.
// The payload is one spool message record (mta/spool/record.h: header, meta with envelope and
// recipient states, body; both CRC-32C checked), so a move carries exactly what the sender
// spooled. Pure functions; decoders take untrusted input and fail with InvalidArgument.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "mta/spool/queue_id.h"
#include "mta/spool/record.h"

namespace ec::mmove {

inline constexpr std::string_view kCommandPrefix = "mmove";
// Raw bytes per chunk: base64 makes 3840 characters of them, which with the words before it
// stays under the channel's 4096-byte line.
inline constexpr size_t kChunkBytes = 2880;
// The largest payload a receiver stages; larger messages are not moved (delivered here).
inline constexpr uint64_t kMaxPayloadBytes = 64u << 20;

enum class MoveOp { kBegin, kChunk, kCommit, kAbort };

struct MoveCommand {
  MoveOp op = MoveOp::kBegin;
  spool::QueueId sender_id;
  uint64_t payload_bytes = 0;  // begin
  uint32_t payload_crc = 0;    // begin
  uint64_t offset = 0;         // chunk
  std::string data;            // chunk, decoded

  bool operator==(const MoveCommand&) const = default;
};

// The whole line, "mmove chunk 0005F3A2B1C4D00A 2880 SGVsbG8...".
std::string EncodeCommand(const MoveCommand& command);
// `op_word` is the word after "mmove" ("begin"); `args` the words after it.
Result<MoveCommand> ParseCommand(std::string_view op_word, const std::vector<std::string>& args);
// A whole line as EncodeCommand makes it.
Result<MoveCommand> ParseLine(std::string_view line);

// The commands that move `payload` (begin, chunks, commit) in order.
std::vector<MoveCommand> CommandsFor(spool::QueueId sender_id, std::string_view payload);

struct MovedMessage {
  spool::MessageMeta meta;
  std::string body;
};
std::string EncodePayload(const spool::MessageMeta& meta, std::string_view body);
// Checks both checksums and that the record is one whole message record, nothing after it.
Result<MovedMessage> DecodePayload(std::string_view payload);

// The receiver's answers to begin and commit.
struct MoveReply {
  enum class Kind { kReady, kStored, kDuplicate, kOk };
  Kind kind = Kind::kOk;
  spool::QueueId receiver_id;  // stored, duplicate

  bool operator==(const MoveReply&) const = default;
};
std::string EncodeReply(const MoveReply& reply);
Result<MoveReply> ParseReply(std::string_view text);

}  // namespace ec::mmove
