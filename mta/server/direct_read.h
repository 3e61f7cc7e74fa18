// DirectReader: reads a plain socket bufferevent's input itself, the counterpart of EagerWrite.
// libevent 2.1 asks FIONREAD before every read and then reads at most 4096 bytes
// (EVBUFFER_MAX_READ, fixed at compile time), whatever bufferevent_set_max_single_read says: a
// 100 KB body cost 33 reads, 33 ioctls and 33 turns of the loop. Here each readiness takes what
// is there in reads of up to kChunk bytes, without asking first, up to what the owner has room
// for, and reports it the way a bufferevent does (Callbacks).
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

  // What the owner does when the socket is readable, as a bufferevent's callbacks would.
  struct Callbacks {
    // How many bytes may be read now; 0 disarms the reader until the next Enable (a session
    // that waits with its input full).
    std::function<size_t()> room;
    // Input was appended to the bufferevent's input.
    std::function<void()> on_read;
    // BEV_EVENT_READING with BEV_EVENT_EOF or BEV_EVENT_ERROR (errno then says why).
    std::function<void(short events)> on_event;
  };

  DirectReader(bufferevent* bev, Callbacks callbacks);
  DirectReader(const DirectReader&) = delete;
  DirectReader& operator=(const DirectReader&) = delete;

  void Enable();
  void Disable();
  bool enabled() const { return enabled_; }

  // Appends to the bufferevent's input what the socket holds, at most `limit` bytes (0 reads
  // nothing). kRead if anything was appended, even when EOF or an error came right after it
  // (the next readiness reports those); kNothing when the socket had nothing (or limit is 0);
  // after kError errno says why. The readiness callback calls this with `room()`.
  Outcome Read(size_t limit);

 private:
  static void OnReadable(evutil_socket_t, short, void* arg);
  Outcome ReadUnfrozen(evbuffer* input, int fd, size_t limit);

  bufferevent* bev_;
  Callbacks callbacks_;
  event::EventPtr event_;
  bool enabled_ = false;
};

}  // namespace ec::mta
