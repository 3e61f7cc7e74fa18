#include "mta/spool/incoming_body.h"

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "mta/spool/crc32c.h"
#include "mta/spool/spool_internal.h"

namespace ec::spool {

IncomingBody::IncomingBody(std::string dir, IoHooks io)
    : dir_(std::move(dir)), io_(std::move(io)) {}

void IncomingBody::Append(std::string_view bytes) {
  size_ += bytes.size();
  if (!status_.ok() || bytes.empty()) return;
  crc_ = Crc32c(crc_, bytes.data(), bytes.size());
  if (!spilled()) {
    if (pending_.size() + bytes.size() <= kMemoryBytes) {
      // Past the first kGrowBytes, room for the whole in-memory part at once: growing by
      // doubling would copy a 100 KB body about once more on its way in.
      if (pending_.size() + bytes.size() > std::max(pending_.capacity(), kGrowBytes)) {
        pending_.reserve(kMemoryBytes);
      }
      pending_.append(bytes);
      return;
    }
    status_ = OpenFile();
    if (!status_.ok()) return;
  }
  if (pending_.size() + bytes.size() < kWriteBytes) {
    pending_.append(bytes);
    return;
  }
  status_ = Write(bytes);
}

Status IncomingBody::Finish() {
  if (status_.ok() && spilled() && !pending_.empty()) status_ = Write({});
  return status_;
}

Status IncomingBody::OpenFile() {
  // Nameless from the start where the file system can; 0600: only we ever read it.
  fd_.Reset(::open(dir_.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600));
  if (fd_.valid()) return Status::Ok();
  if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL) {
    return ErrnoStatus("creating a temporary file in " + dir_, errno);
  }
  std::string name = dir_ + "/" + kIncomingPrefix + "XXXXXX" + kTempSuffix;
  fd_.Reset(::mkostemps(name.data(), sizeof(kTempSuffix) - 1, O_CLOEXEC));
  if (!fd_.valid()) return ErrnoStatus("creating a temporary file in " + dir_, errno);
  if (::unlink(name.c_str()) != 0) return ErrnoStatus("unlinking " + name, errno);
  return Status::Ok();
}

Status IncomingBody::Write(std::string_view more) {
  const uint64_t total = pending_.size() + more.size();
  EC_RETURN_IF_ERROR(PwritevAll(
      io_, fd_.get(),
      {{pending_.data(), pending_.size()}, {const_cast<char*>(more.data()), more.size()}},
      static_cast<off_t>(written_), "temporary body file"));
  written_ += total;
  pending_.clear();
  if (pending_.capacity() > kMemoryBytes + kWriteBytes) std::string().swap(pending_);
  return Status::Ok();
}

}  // namespace ec::spool
