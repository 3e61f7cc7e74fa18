#include "mta/server/direct_read.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <sys/uio.h>

#include <algorithm>
#include <cerrno>
#include <utility>

namespace ec::mta {

DirectReader::DirectReader(bufferevent* bev, Callbacks callbacks)
    : bev_(bev), callbacks_(std::move(callbacks)) {
  event_.reset(event_new(bufferevent_get_base(bev), bufferevent_getfd(bev), EV_READ | EV_PERSIST,
                         &DirectReader::OnReadable, this));
}

void DirectReader::Enable() {
  if (enabled_ || !event_) return;
  enabled_ = event_add(event_.get(), nullptr) == 0;
}

void DirectReader::Disable() {
  if (!enabled_) return;
  event_del(event_.get());
  enabled_ = false;
}

void DirectReader::OnReadable(evutil_socket_t, short, void* arg) {
  auto* self = static_cast<DirectReader*>(arg);
  const size_t room = self->callbacks_.room();
  if (room == 0) {
    // Level-triggered: left armed, a socket nobody reads would wake the loop without end.
    self->Disable();
    return;
  }
  // The callbacks may end this reader (STARTTLS): nothing of it is used after them.
  switch (self->Read(room)) {
    case Outcome::kRead:
      self->callbacks_.on_read();
      return;
    case Outcome::kNothing:
      return;
    case Outcome::kEof:
      self->callbacks_.on_event(BEV_EVENT_READING | BEV_EVENT_EOF);
      return;
    case Outcome::kError:
      self->callbacks_.on_event(BEV_EVENT_READING | BEV_EVENT_ERROR);
      return;
  }
}

DirectReader::Outcome DirectReader::Read(size_t limit) {
  evbuffer* input = bufferevent_get_input(bev_);
  const int fd = bufferevent_getfd(bev_);
  // A bufferevent keeps its input's end frozen except while it reads into it itself.
  evbuffer_unfreeze(input, /*at_front=*/0);
  const Outcome outcome = ReadUnfrozen(input, fd, limit);
  const int error = errno;
  evbuffer_freeze(input, /*at_front=*/0);
  errno = error;  // for kError
  return outcome;
}

DirectReader::Outcome DirectReader::ReadUnfrozen(evbuffer* input, int fd, size_t limit) {
  size_t total = 0;
  while (total < limit) {
    const size_t want = std::min(limit - total, kChunk);
    evbuffer_iovec vec[2];
    // Two pieces: the free end of the last chain first, so small reads allocate nothing new.
    const int n = evbuffer_reserve_space(input, static_cast<ev_ssize_t>(want), vec, 2);
    if (n <= 0) {
      errno = ENOMEM;
      return total > 0 ? Outcome::kRead : Outcome::kError;
    }
    struct iovec iov[2];
    size_t offered = 0;
    for (int i = 0; i < n; ++i) {
      // The reservation may be larger than asked: never read past the limit.
      const size_t len = std::min(vec[i].iov_len, want - offered);
      iov[i] = {vec[i].iov_base, len};
      offered += len;
    }
    ssize_t got;
    do {
      got = ::readv(fd, iov, n);
    } while (got < 0 && errno == EINTR);
    if (got <= 0) {
      evbuffer_commit_space(input, vec, 0);
      if (total > 0) return Outcome::kRead;
      if (got == 0) return Outcome::kEof;
      return errno == EAGAIN || errno == EWOULDBLOCK ? Outcome::kNothing : Outcome::kError;
    }
    // Commit exactly what arrived, piece by piece.
    size_t left = static_cast<size_t>(got);
    int used = 0;
    for (; used < n && left > 0; ++used) {
      vec[used].iov_len = std::min(left, iov[used].iov_len);
      left -= vec[used].iov_len;
    }
    evbuffer_commit_space(input, vec, used);
    total += static_cast<size_t>(got);
    // A short read emptied the socket: asking again would only return EAGAIN.
    if (static_cast<size_t>(got) < offered) break;
  }
  return total > 0 ? Outcome::kRead : Outcome::kNothing;
}

}  // namespace ec::mta
