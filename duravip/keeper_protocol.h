// The keeper protocol: what ecmta (KeeperClient) and ec_duravip_keeper (Keeper) say to each other
// over their socketpair. One request line, one reply line, strictly in turn; lines end in LF.
//
//   add <ip>/<prefix> <ifname>                 -> ok
//   del <ip>/<prefix> <ifname>                 -> ok
//   flush <ip>/<prefix> <ifname>               -> ok removed | ok absent
//   announce <ip>/<prefix> <ifname> <count>    -> ok
//   lease <ms>                                 -> ok        (0 turns the lease off)
//   held                                       -> ok [<ip>/<prefix> <ifname>]...
//   any failure                                -> err <code> <text>
//   the first request after the lease lapsed   -> err expired <text> (not carried out)
//
// <code> is a StatusCode in snake case ("permission_denied"). Pure codec, no I/O; value types;
// any thread. docs/duravip-keeper.md has the whole contract.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/base/status.h"
#include "duravip/vip_address.h"

namespace ec::duravip {

inline constexpr size_t kMaxRequestLine = 256;
inline constexpr size_t kMaxReplyLine = 64 * 1024;
inline constexpr int kMaxAnnounceCount = 10;
inline constexpr int64_t kMaxLeaseMs = 3'600'000;
// How many addresses one keeper holds at most; keeps the `held` reply under kMaxReplyLine.
inline constexpr size_t kMaxHeld = 512;

enum class KeeperCommand { kAdd, kDel, kFlush, kAnnounce, kLease, kHeld };
std::string_view KeeperCommandName(KeeperCommand command);

struct KeeperRequest {
  KeeperCommand command = KeeperCommand::kHeld;
  VipAddress vip;        // add, del, flush, announce
  int count = 0;         // announce: 1..kMaxAnnounceCount
  int64_t lease_ms = 0;  // lease: 0..kMaxLeaseMs

  bool operator==(const KeeperRequest&) const = default;
};

// One request line without its LF (a trailing CR is dropped). Words are separated by spaces or
// tabs. kInvalidArgument, with a message fit for the `err` reply, for anything else.
Result<KeeperRequest> ParseRequest(std::string_view line);
// The request's line, without LF.
std::string FormatRequest(const KeeperRequest& request);

struct KeeperReply {
  Status status;                   // Ok for "ok ..."; else the code and text of "err ..."
  bool expired = false;            // "err expired": the lease lapsed, every address is gone
  std::vector<std::string> words;  // after "ok"

  bool operator==(const KeeperReply& other) const {
    return status.code() == other.status.code() && status.message() == other.status.message() &&
           expired == other.expired && words == other.words;
  }
};

// "ok removed", "err not_found no network interface named eth9 ...", "err expired ...". An
// expired reply carries kFailedPrecondition. Control bytes in the text become spaces, so the
// reply is always one line; the text is cut to keep the line under kMaxReplyLine.
std::string FormatReply(const KeeperReply& reply);
// The inverse; kInvalidArgument when `line` is not a keeper reply.
Result<KeeperReply> ParseReply(std::string_view line);

// A `held` reply's words <-> addresses.
std::vector<std::string> HeldWords(const std::vector<VipAddress>& held);
Result<std::vector<VipAddress>> ParseHeldWords(const std::vector<std::string>& words);

std::string_view StatusCodeWord(StatusCode code);  // "permission_denied"

// Splits a byte stream into lines of at most `max_line` bytes (LF excluded). A longer line is
// reported once (kTooLong) and skipped through its LF, so the stream stays in step.
class LineReader {
 public:
  enum class Next { kLine, kNeedMore, kTooLong };

  explicit LineReader(size_t max_line) : max_line_(max_line) {}

  void Append(std::string_view data);
  // kLine: `*line` is the next line, without LF and a CR before it.
  Next Pop(std::string* line);
  size_t buffered() const { return buffer_.size() - start_; }

 private:
  size_t max_line_;
  std::string buffer_;
  size_t start_ = 0;         // consumed prefix of buffer_, dropped lazily
  bool discarding_ = false;  // inside a too-long line: drop bytes through the next LF
};

}  // namespace ec::duravip
