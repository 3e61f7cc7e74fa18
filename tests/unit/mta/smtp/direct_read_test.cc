// DirectReader (mta/server): reads a socket bufferevent's input in large reads, never more than
// asked, leaves the input frozen as the bufferevent expects, and tells input, nothing, end of
// stream and errors apart. Real sockets (a socketpair, TCP on loopback for a reset).
#include "mta/server/direct_read.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "common/event/handles.h"

namespace ec::mta {
namespace {

using Outcome = DirectReader::Outcome;

// A bufferevent (read event off) on one end of a socketpair; the test writes the other end.
class Pair {
 public:
  Pair() {
    int fds[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
    EXPECT_EQ(evutil_make_socket_nonblocking(fds[0]), 0);
    peer_ = fds[1];
    bev_.reset(bufferevent_socket_new(base_.get(), fds[0], BEV_OPT_CLOSE_ON_FREE));
    bufferevent_disable(bev_.get(), EV_READ);
  }
  ~Pair() {
    if (peer_ >= 0) ::close(peer_);
  }
  bufferevent* bev() { return bev_.get(); }
  event_base* base() { return base_.get(); }
  evbuffer* input() { return bufferevent_get_input(bev_.get()); }
  std::string Input() {
    std::string s(evbuffer_get_length(input()), '\0');
    evbuffer_copyout(input(), s.data(), s.size());
    return s;
  }
  // Writes all of `bytes` (blocking): the socket buffer must hold them.
  void Send(const std::string& bytes) {
    ASSERT_EQ(::send(peer_, bytes.data(), bytes.size(), MSG_NOSIGNAL), ssize_t(bytes.size()));
  }
  void ClosePeer() {
    ::close(peer_);
    peer_ = -1;
  }

 private:
  event::EventBasePtr base_{event_base_new()};
  event::BufferEventPtr bev_;
  int peer_ = -1;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7 + i / 251) % 26);
  return s;
}

TEST(DirectReaderTest, ReadsWhatIsThereInOneCallButNoMoreThanTheLimit) {
  Pair p;
  const std::string sent = Pattern(150000);
  p.Send(sent);
  DirectReader reader(p.bev(), {});
  // libevent's own read would take 4096 bytes here.
  EXPECT_EQ(reader.Read(100000), Outcome::kRead);
  EXPECT_EQ(evbuffer_get_length(p.input()), 100000u);
  EXPECT_EQ(reader.Read(1 << 20), Outcome::kRead);
  EXPECT_EQ(p.Input(), sent);
  EXPECT_EQ(reader.Read(1 << 20), Outcome::kNothing);
  EXPECT_EQ(p.Input(), sent);
}

TEST(DirectReaderTest, AppendsBehindWhatTheInputHolds) {
  Pair p;
  DirectReader reader(p.bev(), {});
  p.Send("EHLO a\r\n");
  ASSERT_EQ(reader.Read(1 << 20), Outcome::kRead);
  // Several small reads land behind each other, in one chain's free space or a new one.
  std::string expect = "EHLO a\r\n";
  for (int i = 0; i < 50; ++i) {
    const std::string line = "NOOP " + std::to_string(i) + "\r\n";
    p.Send(line);
    expect += line;
    ASSERT_EQ(reader.Read(1 << 20), Outcome::kRead);
  }
  EXPECT_EQ(p.Input(), expect);
  evbuffer_drain(p.input(), 8);
  p.Send(Pattern(70000));
  ASSERT_EQ(reader.Read(1 << 20), Outcome::kRead);
  EXPECT_EQ(p.Input(), expect.substr(8) + Pattern(70000));
}

TEST(DirectReaderTest, ZeroLimitReadsNothing) {
  Pair p;
  p.Send("QUIT\r\n");
  DirectReader reader(p.bev(), {});
  EXPECT_EQ(reader.Read(0), Outcome::kNothing);
  EXPECT_EQ(evbuffer_get_length(p.input()), 0u);
  EXPECT_EQ(reader.Read(3), Outcome::kRead);
  EXPECT_EQ(p.Input(), "QUI");
}

TEST(DirectReaderTest, LeavesTheInputFrozenAsTheBuffereventKeepsIt) {
  Pair p;
  // Frozen before (bufferevent_socket_new does that) ...
  ASSERT_EQ(evbuffer_add(p.input(), "x", 1), -1);
  DirectReader reader(p.bev(), {});
  p.Send("DATA\r\n");
  ASSERT_EQ(reader.Read(1 << 20), Outcome::kRead);
  // ... and after, on every outcome.
  EXPECT_EQ(evbuffer_add(p.input(), "x", 1), -1);
  EXPECT_EQ(reader.Read(1 << 20), Outcome::kNothing);
  EXPECT_EQ(evbuffer_add(p.input(), "x", 1), -1);
  p.ClosePeer();
  EXPECT_EQ(reader.Read(1 << 20), Outcome::kEof);
  EXPECT_EQ(evbuffer_add(p.input(), "x", 1), -1);
  EXPECT_EQ(p.Input(), "DATA\r\n");
}

TEST(DirectReaderTest, DataBeforeTheEndComesFirstThenTheEnd) {
  Pair p;
  p.Send("QUIT\r\n");
  p.ClosePeer();
  DirectReader reader(p.bev(), {});
  EXPECT_EQ(reader.Read(1 << 20), Outcome::kRead);
  EXPECT_EQ(p.Input(), "QUIT\r\n");
  EXPECT_EQ(reader.Read(1 << 20), Outcome::kEof);
}

// Callbacks that count what the reader reported.
struct Seen {
  size_t room = 1 << 20;
  int reads = 0, eofs = 0, errors = 0, error_errno = 0;
  DirectReader::Callbacks Callbacks() {
    return {.room = [this] { return room; },
            .on_read = [this] { ++reads; },
            .on_event = [this](short e) {
              EXPECT_TRUE(e & BEV_EVENT_READING);
              if (e & BEV_EVENT_EOF) ++eofs;
              if (e & BEV_EVENT_ERROR) {
                ++errors;
                error_errno = errno;
              }
            }};
  }
};

TEST(DirectReaderTest, ReportsInputAndTheEndOnlyWhileEnabled) {
  Pair p;
  Seen seen;
  DirectReader reader(p.bev(), seen.Callbacks());
  p.Send("NOOP\r\n");
  event_base_loop(p.base(), EVLOOP_NONBLOCK);
  EXPECT_EQ(seen.reads, 0);
  reader.Enable();
  EXPECT_TRUE(reader.enabled());
  event_base_loop(p.base(), EVLOOP_ONCE);
  EXPECT_EQ(seen.reads, 1);
  EXPECT_EQ(p.Input(), "NOOP\r\n");
  // Nothing left: no callback.
  event_base_loop(p.base(), EVLOOP_NONBLOCK);
  EXPECT_EQ(seen.reads, 1);
  reader.Disable();
  p.Send("QUIT\r\n");
  event_base_loop(p.base(), EVLOOP_NONBLOCK);
  EXPECT_EQ(seen.reads, 1);
  reader.Enable();
  p.ClosePeer();
  event_base_loop(p.base(), EVLOOP_ONCE);  // QUIT, then the end on the next readiness
  event_base_loop(p.base(), EVLOOP_ONCE);
  EXPECT_EQ(seen.reads, 2);
  EXPECT_EQ(seen.eofs, 1);
  EXPECT_EQ(seen.errors, 0);
  EXPECT_EQ(p.Input(), "NOOP\r\nQUIT\r\n");
}

TEST(DirectReaderTest, NoRoomDisarmsInsteadOfWakingTheLoopAgain) {
  Pair p;
  Seen seen;
  seen.room = 0;
  DirectReader reader(p.bev(), seen.Callbacks());
  reader.Enable();
  p.Send("DATA\r\n");
  event_base_loop(p.base(), EVLOOP_ONCE);
  EXPECT_FALSE(reader.enabled()) << "a readable socket nobody reads keeps the loop busy";
  EXPECT_EQ(seen.reads, 0);
  EXPECT_EQ(evbuffer_get_length(p.input()), 0u);
  // Room again (the session read its input): enabled once more, it reads what waited.
  seen.room = 3;
  reader.Enable();
  event_base_loop(p.base(), EVLOOP_ONCE);
  EXPECT_EQ(seen.reads, 1);
  EXPECT_EQ(p.Input(), "DAT");
}

TEST(DirectReaderTest, ResetByThePeerIsAnError) {
  // A TCP connection on loopback whose client closes with SO_LINGER 0: a reset.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(listener, 1), 0);
  ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(::connect(client, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const int server = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
  ASSERT_GE(server, 0);
  ::close(listener);
  event::EventBasePtr base(event_base_new());
  event::BufferEventPtr bev(bufferevent_socket_new(base.get(), server, BEV_OPT_CLOSE_ON_FREE));
  bufferevent_disable(bev.get(), EV_READ);
  Seen seen;
  DirectReader reader(bev.get(), seen.Callbacks());
  reader.Enable();
  struct linger hard = {1, 0};
  ASSERT_EQ(::setsockopt(client, SOL_SOCKET, SO_LINGER, &hard, sizeof hard), 0);
  ::close(client);
  event_base_loop(base.get(), EVLOOP_ONCE);
  EXPECT_EQ(seen.errors, 1);
  EXPECT_EQ(seen.error_errno, ECONNRESET);  // what the owner logs (strerror(errno))
  EXPECT_EQ(seen.reads + seen.eofs, 0);
}

}  // namespace
}  // namespace ec::mta
