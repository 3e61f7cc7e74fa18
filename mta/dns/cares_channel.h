// CaresChannel: one c-ares channel driven from an EventBase. c-ares opens the sockets, picks a
// random id per query, accepts an answer only with that id, the same question and the address
// it asked (RFC 5452), retries and times out; this class watches c-ares' sockets with libevent
// events and wakes it at its next timeout. A UDP datagram whose records of the asked type (or
// CNAMEs) belong to a name the question does not lead to is dropped before c-ares sees it, so
// the query keeps waiting for the real answer. Owned by DnsResolver; loop thread only.
#pragma once

#include <ares.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "common/base/status.h"
#include "common/event/address.h"
#include "common/event/event_base.h"
#include "common/event/handles.h"
#include "common/event/timer.h"

namespace ec::dns {

struct ChannelOptions {
  std::vector<event::SocketAddress> servers;  // asked in this order
  std::chrono::milliseconds timeout{5000};    // of a first try; c-ares doubles it each round
  int tries = 2;                              // rounds over all servers
  // Every query over TCP. Otherwise UDP, and a truncated answer is handed back as it came.
  bool tcp = false;
};

class CaresChannel {
 public:
  // The answer's bytes, or why there is none (kDeadlineExceeded: no answer in time).
  using Callback = std::function<void(Result<std::string>)>;

  static Result<std::unique_ptr<CaresChannel>> Create(event::EventBase& base,
                                                      const ChannelOptions& options);
  CaresChannel(const CaresChannel&) = delete;
  CaresChannel& operator=(const CaresChannel&) = delete;
  ~CaresChannel();

  // Asks for the records of `type` (class IN, recursion desired, EDNS0) of `name`. `done` runs
  // once on the loop thread, never inside Query(); destroying the channel first cancels it.
  void Query(const std::string& name, uint16_t type, Callback done);

 private:
  struct Request;
  struct ChannelDeleter {
    void operator()(ares_channeldata* c) const { ares_destroy(c); }
  };

  explicit CaresChannel(event::EventBase& base);
  void Watch(int fd, bool readable, bool writable);
  void ArmTimer();
  void Deliver(Callback done, Result<std::string> answer);
  bool IsForeignAnswer(const void* data, size_t size);

  // C callbacks of c-ares and libevent.
  static void OnSocketState(void* self, ares_socket_t fd, int readable, int writable);
  static void OnSocketEvent(evutil_socket_t fd, short what, void* self);
  static void OnAnswer(void* request, int status, int timeouts, unsigned char* abuf, int alen);
  static ares_socket_t OpenSocket(int family, int type, int protocol, void* self);
  static int CloseSocket(ares_socket_t fd, void* self);
  static int ConnectSocket(ares_socket_t fd, const sockaddr* to, ares_socklen_t len, void*);
  static ares_ssize_t ReceiveFrom(ares_socket_t fd, void* buf, size_t len, int flags,
                                  sockaddr* from, ares_socklen_t* from_len, void* self);
  static ares_ssize_t SendVector(ares_socket_t fd, const iovec* parts, int count, void*);
  static const ares_socket_functions kSocketFunctions;

  event::EventBase& base_;
  std::shared_ptr<char> alive_;  // deferred callbacks hold it weakly: none runs after us
  event::Timer timer_;
  std::unordered_map<int, event::EventPtr> events_;  // c-ares' sockets and what it waits for
  std::unordered_set<int> udp_sockets_;
  uint64_t dropped_ = 0;  // foreign UDP answers, for the log
  // Last: destroyed first, while what ares_destroy calls back into still exists.
  std::unique_ptr<ares_channeldata, ChannelDeleter> channel_;
};

}  // namespace ec::dns
