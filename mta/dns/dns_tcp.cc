#include "mta/dns/dns_tcp.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/event/timer.h"

namespace ec::dns {

Result<std::string> FrameForTcp(std::string_view message) {
  if (message.size() > 0xffff) return InvalidArgument("DNS message longer than 65535 bytes");
  std::string out;
  out.reserve(message.size() + 2);
  out.push_back(static_cast<char>(message.size() >> 8));
  out.push_back(static_cast<char>(message.size() & 0xff));
  out.append(message);
  return out;
}

void TcpFrameReader::Append(std::string_view bytes) {
  // Drop what was already handed out before growing, so the buffer stays one message deep.
  if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

std::optional<std::string> TcpFrameReader::Next() {
  if (buffered() < 2) return std::nullopt;
  size_t len = (static_cast<size_t>(static_cast<uint8_t>(buf_[pos_])) << 8) |
               static_cast<uint8_t>(buf_[pos_ + 1]);
  if (buffered() < 2 + len) return std::nullopt;
  std::string message = buf_.substr(pos_ + 2, len);
  pos_ += 2 + len;
  return message;
}

TcpExchange::TcpExchange(event::EventBase& base, event::SocketAddress server, uint16_t id,
                         std::chrono::milliseconds timeout, Callback done)
    : base_(base),
      server_(std::move(server)),
      id_(id),
      deadline_(std::chrono::steady_clock::now() + timeout),
      done_(std::move(done)) {}

TcpExchange::~TcpExchange() {
  ev_.reset();
  if (fd_ >= 0) ::close(fd_);
}

Status TcpExchange::Start(std::string_view query) {
  EC_ASSIGN_OR_RETURN(out_, FrameForTcp(query));
  fd_ = ::socket(server_.family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return ErrnoStatus("DNS over TCP: socket", errno);
  if (::connect(fd_, server_.get(), server_.size()) != 0 && errno != EINPROGRESS) {
    return ErrnoStatus("DNS over TCP: connect to " + server_.ToString(), errno);
  }
  Arm(EV_WRITE);
  return Status::Ok();
}

void TcpExchange::Arm(short what) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline_ - std::chrono::steady_clock::now());
  ev_.reset(event_new(base_.get(), fd_, what, &OnEvent, this));
  timeval tv = event::ToTimeval(std::max(left, std::chrono::milliseconds(1)));
  event_add(ev_.get(), &tv);
}

void TcpExchange::OnEvent(evutil_socket_t, short what, void* arg) {
  auto* self = static_cast<TcpExchange*>(arg);
  if (what & EV_TIMEOUT) {
    self->Done(Status(StatusCode::kDeadlineExceeded,
                      "DNS over TCP to " + self->server_.ToString() + " timed out"));
  } else if (what & EV_WRITE) {
    self->OnWritable();
  } else {
    self->OnReadable();
  }
}

void TcpExchange::OnWritable() {
  if (sent_ == 0) {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      return Done(ErrnoStatus("DNS over TCP: connect to " + server_.ToString(), err));
    }
  }
  while (sent_ < out_.size()) {
    ssize_t n = ::send(fd_, out_.data() + sent_, out_.size() - sent_, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return Arm(EV_WRITE);
      return Done(ErrnoStatus("DNS over TCP: send to " + server_.ToString(), errno));
    }
    sent_ += static_cast<size_t>(n);
  }
  Arm(EV_READ);
}

void TcpExchange::OnReadable() {
  // One read per wakeup, so a peer that streams without end cannot hold the loop.
  char buf[4096];
  ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EINTR || errno == EAGAIN) return Arm(EV_READ);
    return Done(ErrnoStatus("DNS over TCP: read from " + server_.ToString(), errno));
  }
  if (n == 0) {
    return Done(Unavailable("DNS over TCP: " + server_.ToString() +
                            " closed the connection before a whole answer"));
  }
  reader_.Append(std::string_view(buf, static_cast<size_t>(n)));
  while (auto message = reader_.Next()) {
    auto r = ParseResponse(*message);
    // Anything else on the stream is not an answer to us: keep reading until the deadline.
    if (r.ok() && r->id == id_) return Done(std::move(r));
  }
  Arm(EV_READ);
}

void TcpExchange::Done(Result<DnsResponse> r) {
  ev_.reset();
  auto done = std::move(done_);
  done(std::move(r));
}

}  // namespace ec::dns
