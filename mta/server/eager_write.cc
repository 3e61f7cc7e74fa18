#include "mta/server/eager_write.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <limits.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>

namespace ec::mta {

uint64_t EagerWrite(bufferevent* bev, std::vector<struct iovec>& pieces) {
  uint64_t total = 0;
  for (const struct iovec& p : pieces) total += p.iov_len;
  evbuffer* out = bufferevent_get_output(bev);
  const evutil_socket_t fd = bufferevent_getfd(bev);
  size_t first = 0;
  // A filter (TLS) reports its underlying socket as its fd: it must never be written directly.
  bool direct = fd >= 0 && bufferevent_get_underlying(bev) == nullptr &&
                evbuffer_get_length(out) == 0 && (bufferevent_get_enabled(bev) & EV_WRITE);
  while (direct && first < pieces.size()) {
    struct msghdr msg = {};
    msg.msg_iov = &pieces[first];
    msg.msg_iovlen = std::min<size_t>(pieces.size() - first, IOV_MAX);
    size_t offered = 0;
    for (size_t i = 0; i < msg.msg_iovlen; ++i) offered += pieces[first + i].iov_len;
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;  // full (EAGAIN) or broken: the bufferevent takes over
    size_t left = static_cast<size_t>(n);
    while (first < pieces.size() && left >= pieces[first].iov_len) {
      left -= pieces[first].iov_len;
      ++first;
    }
    if (left > 0) {
      pieces[first].iov_base = static_cast<char*>(pieces[first].iov_base) + left;
      pieces[first].iov_len -= left;
    }
    // A short write means the socket buffer is full: the rest waits for the write event.
    if (static_cast<size_t>(n) < offered) break;
  }
  for (; first < pieces.size(); ++first) {
    if (pieces[first].iov_len > 0) evbuffer_add(out, pieces[first].iov_base, pieces[first].iov_len);
  }
  return total;
}

}  // namespace ec::mta
