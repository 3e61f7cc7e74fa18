// EagerWrite: sends bytes on a plain-socket bufferevent at once, with one system call, when none
// of ours wait unsent; only what the kernel did not take is queued in the bufferevent (copied),
// to go out when the socket is writable as usual. Queuing every reply instead costs two
// epoll_ctl calls (arm, then disarm the write event) and one more turn of the loop each, which
// on a short SMTP exchange is most of the system calls per message and, for a lone client,
// latency on every round trip. Under TLS (a filter bufferevent), before the socket is connected,
// or while output is already queued (order), everything is queued as before. A send error is
// not reported here: the bytes are queued and the bufferevent reports it as it would have.
// Loop thread of the bufferevent.
#pragma once

#include <event2/bufferevent.h>
#include <sys/uio.h>

#include <cstdint>
#include <string_view>
#include <vector>

namespace ec::mta {

// Sends `pieces` in order; returns their total size.
uint64_t EagerWrite(bufferevent* bev, std::vector<struct iovec>& pieces);
inline uint64_t EagerWrite(bufferevent* bev, std::string_view bytes) {
  std::vector<struct iovec> one{{const_cast<char*>(bytes.data()), bytes.size()}};
  return EagerWrite(bev, one);
}

}  // namespace ec::mta
