// The frames eccfg and `ecmta --check-config-server` exchange over a socket pair: eccfg's watch
// sends one request per new checkout, the server forks a child that runs exactly what `ecmta
// --check-config` runs with those arguments, and replies with the child's exit code and
// combined output. Shared here because both programs speak it (ARCHITECTURE.md §4).
//   request: "check <length>\n" then six fields, each ended by NUL: the working directory,
//            EC_CONF_DIR, --config, --root, --node-name (empty: ecmta's default), --search-path
//   reply:   "done <exit code> <length>\n" then the output (-1: the check died of a signal)
// Only framing, no I/O. Not thread-safe: one parser per stream.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::config {

// Both sides cut at these sizes; a larger frame means the stream is not this protocol.
inline constexpr size_t kMaxCheckRequest = 64 * 1024;
// As much output as eccfg keeps from a validator it runs itself (eccfg/run_command.h).
inline constexpr size_t kMaxCheckOutput = 64 * 1024;

struct CheckRequest {
  std::string cwd;
  std::string conf_dir;
  std::string config;
  std::string root;
  std::string node_name;
  std::string search_path;  // ':'-separated, as on the command line
  bool operator==(const CheckRequest&) const = default;
};

struct CheckReply {
  int exit_code = -1;
  std::string output;
  bool operator==(const CheckReply&) const = default;
};

// InvalidArgument if a field holds a NUL or the frame would exceed kMaxCheckRequest.
Result<std::string> EncodeCheckRequest(const CheckRequest& request);
// The output is cut to kMaxCheckOutput; the exit code is clamped to -1..255.
std::string EncodeCheckReply(const CheckReply& reply);

// Reassembles frames from a byte stream. Pop* return nullopt while a frame is incomplete, and
// an error when the bytes are not this protocol (then the stream is useless).
class CheckFrameParser {
 public:
  void Append(std::string_view data) { buffer_.append(data); }
  Result<std::optional<CheckRequest>> PopRequest();
  Result<std::optional<CheckReply>> PopReply();
  size_t buffered() const { return buffer_.size(); }

 private:
  std::string buffer_;
};

}  // namespace ec::config
