#include "common/event/listener.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "common/daemon/signals.h"
#include "common/daemon/unique_fd.h"
#include "common/event/callback_guard.h"
#include "common/log/logger.h"

namespace ec::event {
namespace {

constexpr std::chrono::milliseconds kAcceptPause(100);

// A socket file left by a dead process is removed; one with a live listener is an error.
Status ClearStaleUnixSocket(const SocketAddress& address) {
  const std::string path = address.host();
  struct stat st {};
  if (lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return ErrnoStatus("stat " + path, errno);
  }
  if (!S_ISSOCK(st.st_mode)) {
    return FailedPrecondition(path + " exists and is not a socket; not replacing it");
  }
  daemon::UniqueFd probe(socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!probe.valid()) return ErrnoStatus("socket", errno);
  if (connect(probe.get(), address.get(), address.size()) == 0) {
    return Status(StatusCode::kAlreadyExists, "another process is listening on " + path);
  }
  if (errno != ECONNREFUSED) return ErrnoStatus("probing " + path, errno);
  if (unlink(path.c_str()) != 0 && errno != ENOENT) return ErrnoStatus("unlink " + path, errno);
  EC_LOG(kInfo, "removed stale socket").Field("path", path);
  return Status::Ok();
}

}  // namespace

Listener::Listener(EventBase& base, AcceptCallback on_accept)
    : on_accept_(std::move(on_accept)), resume_(base, [this] {
        if (listener_) evconnlistener_enable(listener_.get());
      }) {}

Result<std::unique_ptr<Listener>> Listener::Create(EventBase& base, const SocketAddress& address,
                                                   AcceptCallback on_accept,
                                                   ListenerOptions options) {
  if (address.empty()) return InvalidArgument("no address to listen on");
  // A peer that hangs up must turn our next write into EPIPE, not kill the process.
  daemon::IgnoreSigpipe();
  const bool is_unix = address.is_unix();
  if (is_unix) EC_RETURN_IF_ERROR(ClearStaleUnixSocket(address));

  daemon::UniqueFd fd(socket(address.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd.valid()) return ErrnoStatus("socket", errno);
  int one = 1;
  if (!is_unix) setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  // "[::]:25" then means IPv6 only, so it can sit beside "0.0.0.0:25".
  if (address.family() == AF_INET6) {
    setsockopt(fd.get(), IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
  }
  if (bind(fd.get(), address.get(), address.size()) != 0) {
    return ErrnoStatus("bind " + address.ToString(), errno);
  }
  std::unique_ptr<Listener> listener(new Listener(base, std::move(on_accept)));
  if (is_unix) {
    const std::string path = address.host();
    struct stat st {};
    // Permissions go on before listen(), so nobody connects through a wider mode.
    if (options.unix_group != static_cast<gid_t>(-1) &&
        chown(path.c_str(), static_cast<uid_t>(-1), options.unix_group) != 0) {
      Status s = ErrnoStatus("chown " + path + " to group " + std::to_string(options.unix_group),
                             errno);
      unlink(path.c_str());
      return s;
    }
    if (chmod(path.c_str(), options.unix_mode) != 0 || stat(path.c_str(), &st) != 0) {
      Status s = ErrnoStatus("chmod " + path, errno);
      unlink(path.c_str());
      return s;
    }
    listener->unix_dev_ = st.st_dev;
    listener->unix_ino_ = st.st_ino;
  }
  EC_ASSIGN_OR_RETURN(listener->address_, SocketAddress::LocalOf(fd.get()));
  if (is_unix) listener->address_ = address;  // getsockname is fine, but keep the exact text

  listener->listener_.reset(evconnlistener_new(base.get(), &Listener::OnAccept, listener.get(),
                                               LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC,
                                               options.backlog, fd.get()));
  // On failure the Listener's destructor removes the unix socket file.
  if (!listener->listener_) return ErrnoStatus("listen " + address.ToString(), errno);
  fd.Release();  // the evconnlistener closes it now
  evconnlistener_set_error_cb(listener->listener_.get(), &Listener::OnError);
  return listener;
}

Listener::~Listener() {
  listener_.reset();
  if (unix_ino_ != 0) {
    const std::string path = address_.host();
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && st.st_dev == unix_dev_ && st.st_ino == unix_ino_) {
      unlink(path.c_str());
    }
  }
}

void Listener::OnAccept(evconnlistener*, evutil_socket_t fd, sockaddr* sa, int len, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  SocketAddress peer = SocketAddress::FromSockaddr(sa, static_cast<socklen_t>(len));
  // The callback owns `fd` from here on, even if it throws.
  CallNoThrow("Listener accept", [&] { self->on_accept_(fd, peer); });
}

void Listener::OnError(evconnlistener* l, void* arg) {
  auto* self = static_cast<Listener*>(arg);
  int err = EVUTIL_SOCKET_ERROR();
  EC_LOG(kError, "accept failed; pausing listener")
      .Field("listen", self->address_.ToString())
      .Field("error", evutil_socket_error_to_string(err));
  evconnlistener_disable(l);
  self->resume_.Start(kAcceptPause);
}

}  // namespace ec::event
