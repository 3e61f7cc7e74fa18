// SmtpConnection backpressure (mta/server): a client that pipelines commands and never reads
// the replies must not make our output (or input) grow. The connection runs on a real event
// loop over a socketpair; the client floods NOOPs without reading until the server stops taking
// them, which must happen after a bounded amount, then reads, and every NOOP is answered once
// the replies drain. Plain and under STARTTLS (where the encrypted output sits in a second
// bufferevent below the TLS filter). The junk budget is off here (max_errors = 0) so only the
// watermarks stop the flood.
#include "mta/server/smtp_connection.h"

#include <event2/util.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <functional>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "common/tls/tls_context.h"
#include "mta/spool/spool.h"
#include "tests/unit/mta/spool/spool_test_util.h"

namespace ec::mta {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kFloodCap = 24u << 20;  // a client that is never stopped sends all of this
const std::string kNoop = "NOOP\r\n";
const std::string kNoopReply = "250 2.0.0 Ok\r\n";

using spool::testing::TempDir;

// One SmtpConnection on a loop thread; the test thread is the client on `client_fd()`.
class Harness {
 public:
  explicit Harness(std::shared_ptr<SSL_CTX> tls, spool::IoHooks io = {}) {
    base_ = std::move(event::EventBase::Create()).value();
    spool::SpoolOptions options;
    options.spoolbase = dir_.path() + "/spool";
    options.sync = false;
    options.io = std::move(io);
    options.log = [](std::string_view) {};
    event::EventBase* base = base_.get();
    options.post = [base](std::function<void()> fn) { base->RunInLoop(std::move(fn)); };
    spool_ = std::move(spool::Spool::Open(options)).value();
    services_.base = base;
    services_.spool = spool_.get();
    services_.stats = &stats_;
    auto policy = std::make_shared<smtp::SessionPolicy>();
    policy->banner_hostname = "mx.test";
    policy->max_errors = 0;  // no 421 for the flood: the watermarks alone must hold it
    policy->tls_available = tls != nullptr;
    policy->relay.open_relay = true;  // the storing test sends a message anywhere
    auto settings = std::make_shared<ListenSettings>();
    settings->policy = policy;
    settings->tls = std::move(tls);
    settings->idle_timeout = std::chrono::milliseconds(0);
    int fds[2];
    EC_CHECK(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) == 0);
    EC_CHECK(evutil_make_socket_nonblocking(fds[0]) == 0);
    client_ = fds[1];
    loop_ = std::thread([this] { (void)base_->Run(); });
    std::promise<void> started;
    base_->RunInLoop([&, server = fds[0]] {
      const auto peer = event::SocketAddress::ParseHostPort("192.0.2.1:2525").value();
      const auto local = event::SocketAddress::ParseHostPort("192.0.2.2:25").value();
      conn_ = SmtpConnection::Start(services_, settings, server, peer, local, nullptr);
      started.set_value();
    });
    started.get_future().wait();
  }
  ~Harness() {
    base_->Stop();
    loop_.join();
    conn_.reset();
    spool_.reset();
    ::close(client_);
  }
  int client_fd() const { return client_; }

 private:
  TempDir dir_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<spool::Spool> spool_;
  InboundStats stats_;
  InboundServices services_;
  std::shared_ptr<SmtpConnection> conn_;
  std::thread loop_;
  int client_ = -1;
};

// The client's byte stream, plain or TLS; both calls return bytes moved, 0 if it would block,
// -1 on a real error.
struct Transport {
  std::function<ssize_t(const char*, size_t)> write;
  std::function<ssize_t(char*, size_t)> read;
};

Transport PlainTransport(int fd) {
  return {[fd](const char* p, size_t n) -> ssize_t {
            const ssize_t r = ::send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
            return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : r;
          },
          [fd](char* p, size_t n) -> ssize_t {
            const ssize_t r = ::recv(fd, p, n, MSG_DONTWAIT);
            if (r == 0) return -1;
            return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : r;
          }};
}

Transport TlsTransport(SSL* ssl) {
  auto io = [ssl](int r) -> ssize_t {
    if (r > 0) return r;
    const int e = SSL_get_error(ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
  };
  return {[ssl, io](const char* p, size_t n) { return io(SSL_write(ssl, p, static_cast<int>(n))); },
          [ssl, io](char* p, size_t n) { return io(SSL_read(ssl, p, static_cast<int>(n))); }};
}

// A NOOP stream: `count` pipelined NOOPs, written from a repeating buffer.
class NoopStream {
 public:
  explicit NoopStream(size_t max_bytes) : total_(max_bytes / kNoop.size() * kNoop.size()) {
    for (int i = 0; i < 8192; ++i) chunk_ += kNoop;
  }
  // Writes what the transport takes now; bytes written.
  ssize_t WriteSome(const Transport& t, size_t limit) {
    const size_t end = std::min(limit, total_);
    if (sent_ >= end) return 0;
    const size_t at = sent_ % chunk_.size();
    const size_t n = std::min(chunk_.size() - at, end - sent_);
    const ssize_t r = t.write(chunk_.data() + at, n);
    if (r > 0) sent_ += static_cast<size_t>(r);
    return r;
  }
  size_t sent() const { return sent_; }

 private:
  std::string chunk_;
  size_t total_;
  size_t sent_ = 0;
};

// Counts NOOP replies in what the server sent (whole lines only).
class ReplyCounter {
 public:
  bool ReadSome(const Transport& t) {
    char buf[65536];
    const ssize_t r = t.read(buf, sizeof buf);
    if (r < 0) return false;
    pending_.append(buf, static_cast<size_t>(r));
    size_t pos;
    while ((pos = pending_.find("\r\n")) != std::string::npos) {
      if (pending_.compare(0, pos + 2, kNoopReply) == 0) ++noops_;
      pending_.erase(0, pos + 2);
    }
    return true;
  }
  size_t noops() const { return noops_; }

 private:
  std::string pending_;
  size_t noops_ = 0;
};

// Phase 1: flood without reading until nothing more is taken for 300 ms (or the cap went out).
// Then `stalled` runs. Phase 2: read every reply while sending `extra` more NOOPs. Returns the
// phase-1 byte count.
size_t FloodThenDrain(const Transport& t, size_t extra,
                      const std::function<void()>& stalled = nullptr) {
  NoopStream stream(kFloodCap);
  auto last_progress = Clock::now();
  const auto give_up = Clock::now() + std::chrono::seconds(60);
  while (stream.sent() < kFloodCap / kNoop.size() * kNoop.size() &&
         Clock::now() - last_progress < std::chrono::milliseconds(300) && Clock::now() < give_up) {
    const ssize_t r = stream.WriteSome(t, kFloodCap);
    EXPECT_GE(r, 0) << "the server closed during the flood";
    if (r < 0) return stream.sent();
    if (r > 0) {
      last_progress = Clock::now();
    } else {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  const size_t stalled_at = stream.sent();
  if (stalled) stalled();
  // Everything sent (rounded up to whole NOOPs, plus `extra`) must be answered once we read.
  const size_t target =
      (stalled_at + kNoop.size() - 1) / kNoop.size() * kNoop.size() + extra * kNoop.size();
  ReplyCounter replies;
  const auto deadline = Clock::now() + std::chrono::seconds(60);
  while (replies.noops() < target / kNoop.size() && Clock::now() < deadline) {
    const ssize_t w = stream.WriteSome(t, target);
    if (!replies.ReadSome(t)) break;
    if (w == 0) std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  EXPECT_EQ(replies.noops(), target / kNoop.size()) << "reading did not resume after draining";
  return stalled_at;
}

// Reads from the blocking plaintext socket until `expect` (a reply line start) arrived.
void ExpectPlainReply(int fd, const std::string& expect) {
  std::string got;
  while (got.find(expect) == std::string::npos) {
    struct pollfd p = {fd, POLLIN, 0};
    ASSERT_EQ(::poll(&p, 1, 10000), 1) << "no reply; got " << got;
    char buf[4096];
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    ASSERT_GT(n, 0) << "closed; got " << got;
    got.append(buf, static_cast<size_t>(n));
  }
}

TEST(SmtpConnectionTest, ClientThatDoesNotReadIsNotReadEither) {
  Harness h(nullptr);
  ExpectPlainReply(h.client_fd(), "220 ");
  const size_t stalled_at = FloodThenDrain(PlainTransport(h.client_fd()), 20000);
  // Without backpressure the server reads the whole cap and queues 2.3 times as much output.
  // With it, it stops after ~kOutputHighWater of replies (plus both socket buffers).
  EXPECT_LT(stalled_at, 2u << 20) << "the server kept reading a client that does not read";
  std::printf("plain: client could push %zu bytes of NOOP before the server stopped reading\n",
              stalled_at);
}

double ProcessCpuSeconds() {
  timespec ts{};
  ::clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

// While its message is being stored the session takes no input: the connection reads at most
// kMaxSingleRead of what the client pipelines behind it, then stops reading (rather than
// spinning on a readable socket it does not read) until the 250 went out.
TEST(SmtpConnectionTest, ClientIsReadOnlyUpToTheLimitWhileItsMessageIsStored) {
  struct Gate {
    std::mutex mu;
    std::condition_variable cv;
    bool armed = false, open = false;
  };
  auto gate = std::make_shared<Gate>();
  auto open_gate = [gate] {
    std::lock_guard<std::mutex> lock(gate->mu);
    gate->open = true;
    gate->cv.notify_all();
  };
  spool::IoHooks io;
  io.pwritev = [gate](int fd, const struct iovec* iov, int iovcnt, off_t offset) {
    std::unique_lock<std::mutex> lock(gate->mu);
    gate->cv.wait(lock, [&] { return !gate->armed || gate->open; });
    lock.unlock();
    return ::pwritev(fd, iov, iovcnt, offset);
  };
  Harness h(nullptr, io);
  const int fd = h.client_fd();
  ExpectPlainReply(fd, "220 ");
  {
    std::lock_guard<std::mutex> lock(gate->mu);
    gate->armed = true;  // the message's record waits at the gate
  }
  const std::string dialogue = "EHLO c\r\nMAIL FROM:<a@x.test>\r\nRCPT TO:<b@y.test>\r\nDATA\r\n";
  ASSERT_EQ(::send(fd, dialogue.data(), dialogue.size(), MSG_NOSIGNAL), ssize_t(dialogue.size()));
  ExpectPlainReply(fd, "354 ");
  const std::string body = "Subject: x\r\n\r\nhi\r\n.\r\n";
  ASSERT_EQ(::send(fd, body.data(), body.size(), MSG_NOSIGNAL), ssize_t(body.size()));
  ASSERT_EQ(evutil_make_socket_nonblocking(fd), 0);
  double idle_cpu = -1;
  const size_t stalled_at = FloodThenDrain(PlainTransport(fd), 1000, [&] {
    const double before = ProcessCpuSeconds();
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    idle_cpu = ProcessCpuSeconds() - before;
    open_gate();
  });
  open_gate();  // also when the flood ended early: the committer must not wait for ever
  EXPECT_LT(stalled_at, 2u << 20) << "the server kept reading while the message was stored";
  // A loop that spins on the readable socket burns the whole 500 ms.
  EXPECT_LT(idle_cpu, 0.2) << "the loop kept running while nothing was read";
  std::printf("storing: client could push %zu bytes before the server stopped reading; %.3f s "
              "CPU in 500 ms stalled\n", stalled_at, idle_cpu);
}

TEST(SmtpConnectionTest, ClientThatDoesNotReadIsNotReadEitherUnderTls) {
  TempDir dir;
  const std::string cert = dir.path() + "/cert.pem", key = dir.path() + "/key.pem";
  ASSERT_TRUE(tls::WriteSelfSignedCertificate(cert, key, "mx.test", {"mx.test"}, {}).ok());
  auto server_ctx = tls::MakeServerContext({.certificate_file = cert, .key_file = key});
  ASSERT_TRUE(server_ctx.ok()) << server_ctx.status().ToString();
  auto client_ctx = tls::MakeClientContext({});
  ASSERT_TRUE(client_ctx.ok()) << client_ctx.status().ToString();

  Harness h(*server_ctx);
  const int fd = h.client_fd();
  ExpectPlainReply(fd, "220 ");
  ASSERT_EQ(::send(fd, "EHLO c\r\n", 8, MSG_NOSIGNAL), 8);
  ExpectPlainReply(fd, "250 ");
  ASSERT_EQ(::send(fd, "STARTTLS\r\n", 10, MSG_NOSIGNAL), 10);
  ExpectPlainReply(fd, "220 2.0.0");
  SSL* ssl = SSL_new(client_ctx->get());
  ASSERT_NE(ssl, nullptr);
  SSL_set_fd(ssl, fd);
  ASSERT_EQ(SSL_connect(ssl), 1) << tls::LastOpenSslError();
  SSL_set_mode(ssl, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  ASSERT_EQ(evutil_make_socket_nonblocking(fd), 0);
  const size_t stalled_at = FloodThenDrain(TlsTransport(ssl), 20000);
  EXPECT_LT(stalled_at, 2u << 20) << "the server kept reading a TLS client that does not read";
  std::printf("tls: client could push %zu bytes of NOOP before the server stopped reading\n",
              stalled_at);
  SSL_free(ssl);
}

}  // namespace
}  // namespace ec::mta
