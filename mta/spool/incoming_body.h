// IncomingBody: the content of a message while it is being received, on its way into the spool.
// The first kMemoryBytes stay in memory (most mail never touches a file); past that everything
// goes to a temporary file in the spool directory that has no name (O_TMPFILE, or a name
// unlinked right after it was made), so an aborted message, a client that vanished or a crash
// leaves nothing behind and memory stays bounded whatever the size. Nothing here is synced:
// Spool::Submit copies the content into a segment and syncs that, exactly as for a body in
// memory. The CRC-32C is kept as bytes arrive, so the committer never reads the content back.
//
// Owned by the receiving session (its thread) until it is handed to Spool::Submit, then by the
// spool's committer thread. Destroying it closes (and so frees) the temporary file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/base/status.h"
#include "mta/spool/file_io.h"

namespace ec::spool {

class IncomingBody {
 public:
  static constexpr size_t kMemoryBytes = 128 << 10;  // kept in memory before spilling to a file
  static constexpr size_t kWriteBytes = 64 << 10;    // then written in pieces of about this size
  static constexpr size_t kGrowBytes = 16 << 10;     // beyond this, kMemoryBytes is reserved

  // `dir` is where the temporary file goes (the spoolbase, so the copy stays on one file
  // system); `io` as in SpoolOptions (tests inject write failures through it).
  IncomingBody(std::string dir, IoHooks io);
  IncomingBody(const IncomingBody&) = delete;
  IncomingBody& operator=(const IncomingBody&) = delete;

  // Adds bytes. The first failure (ENOSPC: kResourceExhausted) is kept in status(); from then on
  // bytes are counted but dropped, since the message can no longer be stored.
  void Append(std::string_view bytes);
  // Writes out what is still buffered once spilled; status() afterwards.
  Status Finish();
  const Status& status() const { return status_; }

  uint64_t size() const { return size_; }
  uint32_t crc() const { return crc_; }
  bool spilled() const { return fd_.valid(); }
  // The whole content while not spilled; the file holds it all after Finish otherwise.
  std::string_view memory() const { return pending_; }
  int fd() const { return fd_.get(); }

 private:
  Status OpenFile();
  // Writes pending_ and then `more` at the end of the file.
  Status Write(std::string_view more);

  const std::string dir_;
  const IoHooks io_;
  std::string pending_;
  Fd fd_;
  uint64_t size_ = 0;
  uint64_t written_ = 0;  // bytes in the file
  uint32_t crc_ = 0;
  Status status_;
};

// Name prefix of the temporary file where O_TMPFILE is not available; such a file is unlinked
// at once, and recovery deletes any left by a crash in between.
inline constexpr char kIncomingPrefix[] = "incoming.";

}  // namespace ec::spool
