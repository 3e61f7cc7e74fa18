#include "mta/mmove/move_wire.h"

#include <charconv>

#include "mta/smtp/base64.h"
#include "mta/spool/crc32c.h"

namespace ec::mmove {
namespace {

Result<uint64_t> WireNumber(const std::string& word, const char* what) {
  uint64_t v = 0;
  auto [ptr, ec] = std::from_chars(word.data(), word.data() + word.size(), v);
  if (word.empty() || ec != std::errc() || ptr != word.data() + word.size()) {
    return InvalidArgument(std::string("mmove: ") + what + ": expected a number, found \"" +
                           word + "\"");
  }
  return v;
}

Result<spool::QueueId> WireId(const std::string& word) {
  std::optional<spool::QueueId> id = spool::QueueId::Parse(word);
  if (!id || !id->valid()) return InvalidArgument("mmove: bad queue id \"" + word + "\"");
  return *id;
}

std::vector<std::string> MoveWords(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && text[i] == ' ') ++i;
    size_t j = i;
    while (j < text.size() && text[j] != ' ') ++j;
    if (j > i) out.emplace_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

Status MoveWantArgs(const std::vector<std::string>& args, size_t n, const char* usage) {
  if (args.size() != n) return InvalidArgument(std::string("mmove: usage: ") + usage);
  return Status::Ok();
}

}  // namespace

std::string EncodeCommand(const MoveCommand& c) {
  std::string line(kCommandPrefix);
  const std::string id = c.sender_id.ToString();
  switch (c.op) {
    case MoveOp::kBegin:
      return line + " begin " + id + " " + std::to_string(c.payload_bytes) + " " +
             std::to_string(c.payload_crc);
    case MoveOp::kChunk:
      return line + " chunk " + id + " " + std::to_string(c.offset) + " " +
             smtp::Base64Encode(c.data);
    case MoveOp::kCommit:
      return line + " commit " + id;
    case MoveOp::kAbort:
      return line + " abort " + id;
  }
  return line;
}

Result<MoveCommand> ParseCommand(std::string_view op_word, const std::vector<std::string>& args) {
  MoveCommand c;
  if (args.empty()) return InvalidArgument("mmove: missing the sender's queue id");
  EC_ASSIGN_OR_RETURN(c.sender_id, WireId(args[0]));
  if (op_word == "begin") {
    c.op = MoveOp::kBegin;
    EC_RETURN_IF_ERROR(MoveWantArgs(args, 3, "mmove begin <id> <bytes> <crc32c>"));
    EC_ASSIGN_OR_RETURN(c.payload_bytes, WireNumber(args[1], "payload bytes"));
    EC_ASSIGN_OR_RETURN(uint64_t crc, WireNumber(args[2], "payload crc"));
    if (c.payload_bytes == 0 || c.payload_bytes > kMaxPayloadBytes) {
      return InvalidArgument("mmove: payload of " + args[1] + " bytes out of range");
    }
    if (crc > UINT32_MAX) return InvalidArgument("mmove: crc out of range");
    c.payload_crc = static_cast<uint32_t>(crc);
  } else if (op_word == "chunk") {
    c.op = MoveOp::kChunk;
    EC_RETURN_IF_ERROR(MoveWantArgs(args, 3, "mmove chunk <id> <offset> <base64>"));
    EC_ASSIGN_OR_RETURN(c.offset, WireNumber(args[1], "offset"));
    std::optional<std::string> data = smtp::Base64Decode(args[2]);
    if (!data || data->empty() || data->size() > kChunkBytes) {
      return InvalidArgument("mmove: chunk data is not 1.." + std::to_string(kChunkBytes) +
                             " bytes of base64");
    }
    if (c.offset > kMaxPayloadBytes - data->size()) {
      return InvalidArgument("mmove: chunk beyond the largest payload");
    }
    c.data = std::move(*data);
  } else if (op_word == "commit" || op_word == "abort") {
    c.op = op_word == "commit" ? MoveOp::kCommit : MoveOp::kAbort;
    EC_RETURN_IF_ERROR(MoveWantArgs(args, 1, "mmove commit|abort <id>"));
  } else {
    return InvalidArgument("mmove: unknown operation \"" + std::string(op_word) + "\"");
  }
  return c;
}

Result<MoveCommand> ParseLine(std::string_view line) {
  std::vector<std::string> words = MoveWords(line);
  if (words.size() < 2 || words[0] != kCommandPrefix) {
    return InvalidArgument("mmove: not an mmove command");
  }
  const std::string op = words[1];
  words.erase(words.begin(), words.begin() + 2);
  return ParseCommand(op, words);
}

std::vector<MoveCommand> CommandsFor(spool::QueueId sender_id, std::string_view payload) {
  std::vector<MoveCommand> out;
  out.push_back({.op = MoveOp::kBegin,
                 .sender_id = sender_id,
                 .payload_bytes = payload.size(),
                 .payload_crc = spool::Crc32c(payload)});
  for (size_t off = 0; off < payload.size(); off += kChunkBytes) {
    out.push_back({.op = MoveOp::kChunk,
                   .sender_id = sender_id,
                   .offset = off,
                   .data = std::string(payload.substr(off, kChunkBytes))});
  }
  out.push_back({.op = MoveOp::kCommit, .sender_id = sender_id});
  return out;
}

std::string EncodePayload(const spool::MessageMeta& meta, std::string_view body) {
  std::string out;
  spool::AppendMessageRecord(meta, body, &out);
  out.append(body);
  return out;
}

Result<MovedMessage> DecodePayload(std::string_view payload) {
  if (payload.size() < spool::kRecordHeaderSize) return InvalidArgument("mmove: short payload");
  EC_ASSIGN_OR_RETURN(spool::RecordHeader h, spool::DecodeRecordHeader(payload));
  if (h.type != spool::RecordType::kMessage) {
    return InvalidArgument("mmove: payload is not a message record");
  }
  if (h.total_size() != payload.size()) {
    return InvalidArgument("mmove: payload length does not match its record");
  }
  std::string_view meta = payload.substr(spool::kRecordHeaderSize, h.meta_len);
  if (!spool::MetaCrcMatches(h, payload.substr(0, spool::kRecordHeaderSize), meta)) {
    return InvalidArgument("mmove: payload meta checksum mismatch");
  }
  std::string_view body = payload.substr(spool::kRecordHeaderSize + h.meta_len);
  if (spool::Crc32c(body) != h.body_crc) {
    return InvalidArgument("mmove: payload body checksum mismatch");
  }
  MovedMessage m;
  EC_ASSIGN_OR_RETURN(m.meta, spool::DecodeMessageMeta(meta));
  if (m.meta.states.size() != m.meta.envelope.rcpts.size()) {
    return InvalidArgument("mmove: recipient states do not match the recipients");
  }
  m.body = std::string(body);
  return m;
}

std::string EncodeReply(const MoveReply& r) {
  switch (r.kind) {
    case MoveReply::Kind::kReady:
      return "ready";
    case MoveReply::Kind::kStored:
      return "stored " + r.receiver_id.ToString();
    case MoveReply::Kind::kDuplicate:
      return "dup " + r.receiver_id.ToString();
    case MoveReply::Kind::kOk:
      return "ok";
  }
  return "ok";
}

Result<MoveReply> ParseReply(std::string_view text) {
  std::vector<std::string> w = MoveWords(text);
  if (w.size() == 1 && w[0] == "ready") return MoveReply{.kind = MoveReply::Kind::kReady};
  if (w.size() == 1 && w[0] == "ok") return MoveReply{.kind = MoveReply::Kind::kOk};
  if (w.size() == 2 && (w[0] == "stored" || w[0] == "dup")) {
    EC_ASSIGN_OR_RETURN(spool::QueueId id, WireId(w[1]));
    return MoveReply{.kind = w[0] == "stored" ? MoveReply::Kind::kStored
                                              : MoveReply::Kind::kDuplicate,
                     .receiver_id = id};
  }
  return InvalidArgument("mmove: unexpected reply \"" + std::string(text.substr(0, 80)) + "\"");
}

}  // namespace ec::mmove
