// DirectReader: reads a plain socket bufferevent's input itself, the counterpart of EagerWrite.
// libevent 2.1 asks FIONREAD before every read and then reads at most 4096 bytes
// (EVBUFFER_MAX_READ, fixed at compile time), whatever bufferevent_set_max_single_read says: a
// 100 KB body cost 33 reads, 33 ioctls and 33 turns of the loop. Here each readiness takes what
// is there in reads of up to kChunk bytes, without asking first, up to the caller's limit.
//
// The bufferevent keeps writing and owns the socket; its own read event stays disabled while a
// DirectReader reads for it (never enable both). Not for a filter (TLS) bufferevent: destroy
// the reader and let the filter read the socket bufferevent as usual. Loop thread only.
#pragma once

#include <event2/bufferevent.h>

#include <cstddef>
#include <functional>

#include "common/event/handles.h"

namespace ec::mta {

class DirectReader {
 public:
  enum class Outcome { kRead, kNothing, kEof, kError };
  // Bytes reserved in the input buffer per read: a libevent chain of this size is one heap
  // block (64 KB with its header), below glibc's mmap threshold.
  static constexpr size_t kChunk = (64 << 10) - 256;

  // `on_readable` runs when the socket has input (or EOF, or an error): it calls Read.
  DirectReader(bufferevent* bev, std::function<void()> on_readable);
  DirectReader(const DirectReader&) = delete;
  DirectReader& operator=(const DirectReader&) = delete;

  void Enable();
  void Disable();
  bool enabled() const { return enabled_; }

  // Appends to the bufferevent's input what the socket holds, at most `limit` bytes (0 reads
  // nothing). kRead if anything was appended, even when EOF or an error came right after it
  // (the next readiness reports those); kNothing when the socket had nothing (or limit is 0).
  Outcome Read(size_t limit);
  // The errno of the last kError.
  int error() const { return error_; }

 private:
  static void OnReadable(evutil_socket_t, short, void* arg);
  Outcome ReadUnfrozen(evbuffer* input, int fd, size_t limit);

  bufferevent* bev_;
  std::function<void()> on_readable_;
  event::EventPtr event_;
  bool enabled_ = false;
  int error_ = 0;
};

}  // namespace ec::mta
