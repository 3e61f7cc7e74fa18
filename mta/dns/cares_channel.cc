#include "mta/dns/cares_channel.h"

#include <arpa/nameser.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/base/check.h"
#include "common/event/callback_guard.h"
#include "common/log/logger.h"
#include "mta/dns/dns_answer.h"

namespace ec::dns {
namespace {

// EDNS0 payload of DNS Flag Day 2020: answers that never need IP fragments, whose later
// fragments a spoofer could replace without knowing the id or the port.
constexpr int kEdnsPayload = 1232;
// Foreign datagrams skipped in one read before c-ares is told to wait for the socket again.
constexpr int kMaxDroppedPerRead = 16;

Status InitLibrary() {
  // Process-wide and reference counted; once is enough for the life of the process.
  static const int rc = ares_library_init(ARES_LIB_INIT_ALL);
  if (rc != ARES_SUCCESS) return Internal(std::string("c-ares: ") + ares_strerror(rc));
  return Status::Ok();
}

// Why a lookup of `name` got no answer, from c-ares' status.
Status NoAnswer(const std::string& name, int status) {
  switch (status) {
    case ARES_ETIMEOUT:
      return Status(StatusCode::kDeadlineExceeded, "DNS lookup of " + name + " timed out");
    case ARES_EBADNAME:
      return InvalidArgument("cannot look up \"" + name + "\"");
    case ARES_ECONNREFUSED:  // every server refused, failed (SERVFAIL...) or closed on us
      return Unavailable("DNS lookup of " + name + " failed: no nameserver gave an answer");
    default:
      return Unavailable("DNS lookup of " + name + " failed: " + ares_strerror(status));
  }
}

}  // namespace

struct CaresChannel::Request {
  CaresChannel* owner = nullptr;
  std::string name;
  Callback done;
};

const ares_socket_functions CaresChannel::kSocketFunctions = {
    &CaresChannel::OpenSocket, &CaresChannel::CloseSocket, &CaresChannel::ConnectSocket,
    &CaresChannel::ReceiveFrom, &CaresChannel::SendVector};

CaresChannel::CaresChannel(event::EventBase& base)
    : base_(base), alive_(std::make_shared<char>()), timer_(base, [this] {
        ares_process_fd(channel_.get(), ARES_SOCKET_BAD, ARES_SOCKET_BAD);
        ArmTimer();
      }) {}

CaresChannel::~CaresChannel() = default;

Result<std::unique_ptr<CaresChannel>> CaresChannel::Create(event::EventBase& base,
                                                           const ChannelOptions& options) {
  EC_RETURN_IF_ERROR(InitLibrary());
  if (options.servers.empty()) return InvalidArgument("c-ares channel without a nameserver");
  std::unique_ptr<CaresChannel> self(new CaresChannel(base));
  // Every field c-ares would otherwise take from /etc/resolv.conf and friends is set here, so
  // it reads none of them: the servers and their options are ours (resolv_conf).
  char lookups[] = "b";
  ares_options o{};
  o.flags = ARES_FLAG_EDNS | (options.tcp ? ARES_FLAG_USEVC : ARES_FLAG_IGNTC);
  o.timeout = static_cast<int>(options.timeout.count());
  o.tries = options.tries;
  o.ndots = 1;
  o.ednspsz = kEdnsPayload;
  o.sock_state_cb = &OnSocketState;
  o.sock_state_cb_data = self.get();
  o.lookups = lookups;
  int mask = ARES_OPT_FLAGS | ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES | ARES_OPT_NDOTS |
             ARES_OPT_EDNSPSZ | ARES_OPT_SOCK_STATE_CB | ARES_OPT_NOROTATE | ARES_OPT_SERVERS |
             ARES_OPT_DOMAINS | ARES_OPT_SORTLIST | ARES_OPT_LOOKUPS;
#ifdef ARES_OPT_UDP_MAX_QUERIES
  // c-ares 1.20 and later: a fresh source port for every query, even under load.
  o.udp_max_queries = 1;
  mask |= ARES_OPT_UDP_MAX_QUERIES;
#endif
  ares_channel raw = nullptr;
  int rc = ares_init_options(&raw, &o, mask);
  if (rc != ARES_SUCCESS) return Internal(std::string("c-ares: ") + ares_strerror(rc));
  self->channel_.reset(raw);
  ares_set_socket_functions(raw, &kSocketFunctions, self.get());

  std::vector<ares_addr_port_node> servers(options.servers.size());
  for (size_t i = 0; i < servers.size(); ++i) {
    const event::SocketAddress& a = options.servers[i];
    ares_addr_port_node& s = servers[i];
    s.next = i + 1 < servers.size() ? &servers[i + 1] : nullptr;
    s.family = a.family();
    if (a.family() == AF_INET) {
      s.addr.addr4 = reinterpret_cast<const sockaddr_in*>(a.get())->sin_addr;
    } else if (a.family() == AF_INET6) {
      std::memcpy(&s.addr.addr6, &reinterpret_cast<const sockaddr_in6*>(a.get())->sin6_addr,
                  sizeof s.addr.addr6);
    } else {
      return InvalidArgument("nameserver " + a.ToString() + " is not an IP address");
    }
    s.udp_port = s.tcp_port = a.port();
  }
  rc = ares_set_servers_ports(raw, servers.data());
  if (rc != ARES_SUCCESS) return Internal(std::string("c-ares servers: ") + ares_strerror(rc));
  return self;
}

void CaresChannel::Query(const std::string& name, uint16_t type, Callback done) {
  // Owned by c-ares until OnAnswer, which it calls exactly once (also on ares_destroy).
  auto* request = new Request{this, name, std::move(done)};
  ares_query(channel_.get(), name.c_str(), ns_c_in, type, &OnAnswer, request);
  ArmTimer();
}

void CaresChannel::OnAnswer(void* arg, int status, int, unsigned char* abuf, int alen) {
  std::unique_ptr<Request> request(static_cast<Request*>(arg));
  if (status == ARES_EDESTRUCTION || status == ARES_ECANCELLED) return;  // we are going away
  event::CallNoThrow("c-ares answer", [&] {
    // An answer is handed on whatever its rcode; with none, c-ares' status says why.
    Result<std::string> answer =
        abuf && alen > 0 ? Result<std::string>(std::string(reinterpret_cast<char*>(abuf),
                                                           static_cast<size_t>(alen)))
                         : Result<std::string>(NoAnswer(request->name, status));
    request->owner->Deliver(std::move(request->done), std::move(answer));
  });
}

void CaresChannel::Deliver(Callback done, Result<std::string> answer) {
  // Later, from the loop: c-ares is still inside its own call now, and `done` may destroy us.
  base_.RunInLoop([alive = std::weak_ptr<char>(alive_), done = std::move(done),
                   answer = std::move(answer)]() mutable {
    if (alive.lock()) done(std::move(answer));
  });
}

void CaresChannel::ArmTimer() {
  timeval tv{};
  if (!ares_timeout(channel_.get(), nullptr, &tv)) {
    timer_.Stop();
    return;
  }
  // Rounded up: a wakeup before c-ares' deadline would find nothing to do.
  timer_.Start(std::chrono::milliseconds(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000));
}

void CaresChannel::Watch(int fd, bool readable, bool writable) {
  events_.erase(fd);
  if (!readable && !writable) return;
  short what =
      static_cast<short>(EV_PERSIST | (readable ? EV_READ : 0) | (writable ? EV_WRITE : 0));
  event::EventPtr ev(event_new(base_.get(), fd, what, &OnSocketEvent, this));
  EC_CHECK(ev != nullptr && event_add(ev.get(), nullptr) == 0);
  events_[fd] = std::move(ev);
}

void CaresChannel::OnSocketState(void* self, ares_socket_t fd, int readable, int writable) {
  event::CallNoThrow("c-ares socket state", [&] {
    static_cast<CaresChannel*>(self)->Watch(fd, readable != 0, writable != 0);
  });
}

void CaresChannel::OnSocketEvent(evutil_socket_t fd, short what, void* arg) {
  auto* self = static_cast<CaresChannel*>(arg);
  event::CallNoThrow("c-ares socket", [&] {
    ares_process_fd(self->channel_.get(), (what & EV_READ) ? fd : ARES_SOCKET_BAD,
                    (what & EV_WRITE) ? fd : ARES_SOCKET_BAD);
    self->ArmTimer();
  });
}

ares_socket_t CaresChannel::OpenSocket(int family, int type, int protocol, void* arg) {
  // c-ares leaves a socket it did not make as it is: non-blocking and close-on-exec are ours.
  int fd = ::socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (fd < 0) return ARES_SOCKET_BAD;
  if (type == SOCK_STREAM) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  } else {
    auto* self = static_cast<CaresChannel*>(arg);
    event::CallNoThrow("c-ares socket", [&] { self->udp_sockets_.insert(fd); });
  }
  return fd;
}

int CaresChannel::CloseSocket(ares_socket_t fd, void* arg) {
  static_cast<CaresChannel*>(arg)->udp_sockets_.erase(fd);
  return ::close(fd);
}

int CaresChannel::ConnectSocket(ares_socket_t fd, const sockaddr* to, ares_socklen_t len, void*) {
  return ::connect(fd, to, len);
}

ares_ssize_t CaresChannel::ReceiveFrom(ares_socket_t fd, void* buf, size_t len, int flags,
                                       sockaddr* from, ares_socklen_t* from_len, void* arg) {
  auto* self = static_cast<CaresChannel*>(arg);
  if (!self->udp_sockets_.contains(fd)) return ::recvfrom(fd, buf, len, flags, from, from_len);
  const ares_socklen_t room = from_len ? *from_len : 0;
  for (int i = 0; i < kMaxDroppedPerRead; ++i) {
    if (from_len) *from_len = room;
    ares_ssize_t n = ::recvfrom(fd, buf, len, flags, from, from_len);
    if (n <= 0 || !self->IsForeignAnswer(buf, static_cast<size_t>(n))) return n;
  }
  errno = EAGAIN;  // c-ares waits for the socket again; the loop calls back while more is queued
  return -1;
}

bool CaresChannel::IsForeignAnswer(const void* data, size_t size) {
  bool foreign = false;
  event::CallNoThrow("c-ares answer check", [&] {
    auto a = ParseAnswer(std::string_view(static_cast<const char*>(data), size));
    // Anything else, well-formed or not, is c-ares' to match or ignore.
    if (!a.ok() || a->foreign == 0) return;
    foreign = true;
    // One line at each power of two: a flood of forgeries cannot flood the log.
    ++dropped_;
    if ((dropped_ & (dropped_ - 1)) == 0) {
      EC_LOG(kWarn, "DNS answer dropped: records for a name the question does not lead to")
          .Field("question", a->question)
          .Field("foreign_records", a->foreign)
          .Field("dropped_total", dropped_);
    }
  });
  return foreign;
}

ares_ssize_t CaresChannel::SendVector(ares_socket_t fd, const iovec* parts, int count, void*) {
  msghdr m{};
  m.msg_iov = const_cast<iovec*>(parts);
  m.msg_iovlen = static_cast<size_t>(count);
  return ::sendmsg(fd, &m, MSG_NOSIGNAL);  // a server that closed on us is an error, not SIGPIPE
}

}  // namespace ec::dns
