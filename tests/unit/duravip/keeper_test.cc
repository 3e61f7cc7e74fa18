// The keeper loop with a FakePlumber: request handling on a fake clock, then Serve() on a real
// socketpair in a thread (EOF and lease expiry remove everything, replies stay in order).
#include "duravip/keeper.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "common/daemon/unique_fd.h"
#include "tests/unit/duravip/vip_test_util.h"

namespace ec::duravip {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using Clock = Keeper::Clock;
using std::chrono::milliseconds;

class DuravipKeeperTest : public ::testing::Test {
 protected:
  std::string Handle(std::string_view line) { return keeper_.Handle(line, now_); }

  FakePlumber plumber_;
  Keeper keeper_{&plumber_};
  Clock::time_point now_ = Clock::time_point() + std::chrono::hours(1);
};

TEST_F(DuravipKeeperTest, AddHeldDel) {
  EXPECT_EQ(Handle("add 198.18.0.100/24 eth1"), "ok");
  EXPECT_EQ(Handle("add 2001:db8::1/64 eth1"), "ok");
  EXPECT_EQ(plumber_.addresses(),
            (std::set<VipAddress>{Vip("198.18.0.100/24", "eth1"), Vip("2001:db8::1/64", "eth1")}));
  EXPECT_EQ(Handle("held"), "ok 198.18.0.100/24 eth1 2001:db8::1/64 eth1");
  EXPECT_EQ(Handle("del 198.18.0.100/24 eth1"), "ok");
  EXPECT_EQ(plumber_.addresses(), (std::set<VipAddress>{Vip("2001:db8::1/64", "eth1")}));
  EXPECT_EQ(Handle("held"), "ok 2001:db8::1/64 eth1");
  // Adding twice holds it once.
  EXPECT_EQ(Handle("add 2001:db8::1/64 eth1"), "ok");
  EXPECT_EQ(keeper_.held().size(), 1u);
}

TEST_F(DuravipKeeperTest, DelOfAnAbsentAddressIsOk) {
  EXPECT_EQ(Handle("del 198.18.0.100/24 eth1"), "ok");
  EXPECT_THAT(plumber_.calls(), ElementsAre("remove 198.18.0.100/24 dev eth1"));
}

TEST_F(DuravipKeeperTest, FlushRemovesWhateverIsThereAndSaysWhetherItWas) {
  // Left behind by a keeper that was killed: not held by this one.
  plumber_.Preload(Vip("198.18.0.100/24", "eth1"));
  EXPECT_EQ(Handle("flush 198.18.0.100/24 eth1"), "ok removed");
  EXPECT_THAT(plumber_.addresses(), IsEmpty());
  EXPECT_EQ(Handle("flush 198.18.0.100/24 eth1"), "ok absent");
  // A held address is forgotten too.
  EXPECT_EQ(Handle("add 198.18.0.101/24 eth1"), "ok");
  EXPECT_EQ(Handle("flush 198.18.0.101/24 eth1"), "ok removed");
  EXPECT_EQ(Handle("held"), "ok");
  EXPECT_THAT(plumber_.addresses(), IsEmpty());
}

TEST_F(DuravipKeeperTest, PlumberErrorsBecomeErrReplies) {
  plumber_.FailNext("add", Status(StatusCode::kPermissionDenied,
                                  "adding 198.18.0.100/24 on eth1 needs CAP_NET_ADMIN"));
  EXPECT_EQ(Handle("add 198.18.0.100/24 eth1"),
            "err permission_denied adding 198.18.0.100/24 on eth1 needs CAP_NET_ADMIN");
  EXPECT_THAT(keeper_.held(), IsEmpty());

  plumber_.SetInterfaces({"eth1"});
  EXPECT_THAT(Handle("add 198.18.0.100/24 eth9"), StartsWith("err not_found "));
  EXPECT_THAT(Handle("add 198.18.0.100/24 eth9"), HasSubstr("eth9"));

  EXPECT_EQ(Handle("add 198.18.0.100/24 eth1"), "ok");
  plumber_.FailNext("remove", Status(StatusCode::kIoError, "boom"));
  EXPECT_EQ(Handle("del 198.18.0.100/24 eth1"), "err io_error boom");
  EXPECT_EQ(keeper_.held().size(), 1u);  // still there, still ours

  plumber_.FailNext("present", Status(StatusCode::kIoError, "dump failed"));
  EXPECT_EQ(Handle("flush 198.18.0.100/24 eth1"), "err io_error dump failed");
}

TEST_F(DuravipKeeperTest, AnnouncePassesTheCount) {
  EXPECT_EQ(Handle("announce 198.18.0.100/24 eth1 3"), "ok");
  EXPECT_THAT(plumber_.calls(), ElementsAre("announce 198.18.0.100/24 dev eth1 x3"));
  EXPECT_EQ(plumber_.announced(), 3u);
}

TEST_F(DuravipKeeperTest, MalformedRequestsGetErrAndTouchNothing) {
  for (const char* bad : {"", "bogus", "add 198.18.0.100/24", "add 300.1.1.1/24 eth0",
                          "announce 198.18.0.100/24 eth1 1000", "lease x", "\x7f\x01"}) {
    EXPECT_THAT(Handle(bad), StartsWith("err invalid_argument ")) << bad;
  }
  EXPECT_THAT(keeper_.HandleTooLong(now_), StartsWith("err invalid_argument "));
  EXPECT_THAT(plumber_.calls(), IsEmpty());
}

TEST_F(DuravipKeeperTest, HoldsAtMostTheLimit) {
  for (size_t i = 0; i < kMaxHeld; ++i) {
    const std::string ip = "198.18." + std::to_string(i / 250) + "." + std::to_string(i % 250 + 1);
    ASSERT_EQ(Handle("add " + ip + "/32 eth1"), "ok") << i;
  }
  EXPECT_THAT(Handle("add 198.19.0.1/32 eth1"), StartsWith("err resource_exhausted "));
  EXPECT_EQ(Handle("add 198.18.0.1/32 eth1"), "ok");  // already held: fine
  // The held reply of a full keeper still fits a reply line.
  EXPECT_LE(Handle("held").size(), kMaxReplyLine);
}

TEST_F(DuravipKeeperTest, EveryRequestRenewsTheLease) {
  EXPECT_EQ(keeper_.deadline(), std::nullopt);
  EXPECT_EQ(Handle("lease 100"), "ok");
  EXPECT_EQ(keeper_.deadline(), now_ + milliseconds(100));
  now_ += milliseconds(60);
  EXPECT_EQ(Handle("held"), "ok");
  EXPECT_EQ(keeper_.deadline(), now_ + milliseconds(100));
  now_ += milliseconds(60);
  EXPECT_THAT(Handle("nonsense"), StartsWith("err "));  // even a bad one shows ecmta is alive
  EXPECT_EQ(keeper_.deadline(), now_ + milliseconds(100));
  EXPECT_EQ(Handle("lease 0"), "ok");
  EXPECT_EQ(keeper_.deadline(), std::nullopt);
}

TEST_F(DuravipKeeperTest, ExpiryRemovesEverythingAndTheNextRequestIsRefused) {
  EXPECT_EQ(Handle("lease 100"), "ok");
  EXPECT_EQ(Handle("add 198.18.0.100/24 eth1"), "ok");
  EXPECT_EQ(Handle("add 198.18.0.101/24 eth1"), "ok");
  keeper_.Expire();
  EXPECT_THAT(plumber_.addresses(), IsEmpty());
  EXPECT_THAT(keeper_.held(), IsEmpty());
  EXPECT_EQ(keeper_.deadline(), std::nullopt);  // nothing runs until ecmta is heard again

  const size_t calls = plumber_.calls().size();
  now_ += milliseconds(500);
  const std::string reply = Handle("add 198.18.0.102/24 eth1");
  EXPECT_THAT(reply, StartsWith("err expired "));
  EXPECT_THAT(reply, HasSubstr("removed 2 of 2 addresses"));
  EXPECT_EQ(plumber_.calls().size(), calls);  // the add was not carried out
  EXPECT_EQ(keeper_.deadline(), now_ + milliseconds(100));
  // Reported once; then business as usual.
  EXPECT_EQ(Handle("add 198.18.0.102/24 eth1"), "ok");
  EXPECT_EQ(Handle("held"), "ok 198.18.0.102/24 eth1");
}

TEST_F(DuravipKeeperTest, WhatCannotBeRemovedStaysHeldAndIsRetried) {
  EXPECT_EQ(Handle("add 198.18.0.100/24 eth1"), "ok");
  EXPECT_EQ(Handle("add 198.18.0.101/24 eth1"), "ok");
  plumber_.FailNext("remove", Status(StatusCode::kIoError, "busy"));
  EXPECT_EQ(keeper_.RemoveAll("test").code(), StatusCode::kIoError);
  EXPECT_EQ(keeper_.held().size(), 1u);
  EXPECT_EQ(plumber_.addresses().size(), 1u);
  EXPECT_TRUE(keeper_.RemoveAll("test").ok());
  EXPECT_THAT(keeper_.held(), IsEmpty());
  EXPECT_THAT(plumber_.addresses(), IsEmpty());
}

// ---- Serve() over a socketpair ----

class DuravipKeeperServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    ours_.Reset(sv[0]);
    theirs_.Reset(sv[1]);
    ASSERT_EQ(pipe2(stop_, O_CLOEXEC), 0);
    served_ =
        std::async(std::launch::async, [this] { return keeper_.Serve(theirs_.get(), stop_[0]); });
  }
  void TearDown() override {
    ours_.Reset();
    if (served_.valid()) served_.wait();
    close(stop_[0]);
    close(stop_[1]);
  }

  void Send(std::string_view data) {
    ASSERT_EQ(send(ours_.get(), data.data(), data.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(data.size()));
  }
  // The next reply line, or "<timeout>" / "<eof>".
  std::string ReadLine(milliseconds timeout = milliseconds(5000)) {
    const auto deadline = Clock::now() + timeout;
    for (;;) {
      const size_t lf = buffer_.find('\n');
      if (lf != std::string::npos) {
        std::string line = buffer_.substr(0, lf);
        buffer_.erase(0, lf + 1);
        return line;
      }
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return "<timeout>";
      pollfd pfd{.fd = ours_.get(), .events = POLLIN};
      if (poll(&pfd, 1, static_cast<int>(left.count())) <= 0) continue;
      char buf[1024];
      const ssize_t n = read(ours_.get(), buf, sizeof(buf));
      if (n <= 0) return "<eof>";
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }
  std::string Call(const std::string& line) {
    Send(line + "\n");
    return ReadLine();
  }
  // Waits for `pred` against a deadline.
  template <typename Pred>
  bool WaitFor(Pred pred, milliseconds timeout = milliseconds(5000)) {
    const auto deadline = Clock::now() + timeout;
    while (!pred()) {
      if (Clock::now() > deadline) return false;
      std::this_thread::sleep_for(milliseconds(2));
    }
    return true;
  }
  bool Finished() { return served_.wait_for(std::chrono::seconds(0)) == std::future_status::ready; }

  FakePlumber plumber_;
  Keeper keeper_{&plumber_};
  daemon::UniqueFd ours_;
  daemon::UniqueFd theirs_;
  int stop_[2] = {-1, -1};
  std::future<Status> served_;
  std::string buffer_;
};

TEST_F(DuravipKeeperServeTest, EofRemovesEverythingAndEndsOk) {
  EXPECT_EQ(Call("add 198.18.0.100/24 eth1"), "ok");
  EXPECT_EQ(Call("add 2001:db8::1/64 eth1"), "ok");
  EXPECT_EQ(plumber_.addresses().size(), 2u);
  ours_.Reset();  // ecmta is gone
  ASSERT_TRUE(WaitFor([&] { return Finished(); }));
  EXPECT_TRUE(served_.get().ok());
  EXPECT_THAT(plumber_.addresses(), IsEmpty());
  EXPECT_THAT(keeper_.held(), IsEmpty());
}

TEST_F(DuravipKeeperServeTest, OnlyWhatItAddedIsRemovedOnEof) {
  plumber_.Preload(Vip("198.18.0.7/24", "eth1"));  // somebody else's
  EXPECT_EQ(Call("add 198.18.0.100/24 eth1"), "ok");
  ours_.Reset();
  ASSERT_TRUE(WaitFor([&] { return Finished(); }));
  EXPECT_EQ(plumber_.addresses(), (std::set<VipAddress>{Vip("198.18.0.7/24", "eth1")}));
}

TEST_F(DuravipKeeperServeTest, LeaseExpiryRemovesEverythingAndIsReportedOnce) {
  EXPECT_EQ(Call("lease 100"), "ok");
  EXPECT_EQ(Call("add 198.18.0.100/24 eth1"), "ok");
  const auto added = Clock::now();
  ASSERT_TRUE(WaitFor([&] { return plumber_.addresses().empty(); }));
  EXPECT_GE(Clock::now() - added, milliseconds(100));
  EXPECT_FALSE(Finished());  // the keeper stays, waiting for ecmta
  const std::string reply = Call("add 198.18.0.101/24 eth1");
  EXPECT_THAT(reply, StartsWith("err expired lease of 100 ms lapsed; removed 1 of 1"));
  EXPECT_THAT(plumber_.addresses(), IsEmpty());  // refused
  EXPECT_EQ(Call("held"), "ok");
  EXPECT_EQ(Call("lease 0"), "ok");
}

TEST_F(DuravipKeeperServeTest, RenewalsKeepTheAddresses) {
  EXPECT_EQ(Call("lease 300"), "ok");
  EXPECT_EQ(Call("add 198.18.0.100/24 eth1"), "ok");
  const auto end = Clock::now() + milliseconds(900);
  while (Clock::now() < end) {
    ASSERT_EQ(Call("lease 300"), "ok");
    std::this_thread::sleep_for(milliseconds(50));  // ecmta's renew period
  }
  EXPECT_EQ(plumber_.addresses().size(), 1u);
  EXPECT_EQ(Call("held"), "ok 198.18.0.100/24 eth1");
}

TEST_F(DuravipKeeperServeTest, PipelinedAndSplitRequestsAreAnsweredInOrder) {
  Send("add 198.18.0.100/24 eth1\nflush 198.18.0.100/24 eth1\nfl");
  Send("ush 198.18.0.100/24 eth1\r\nbogus\n" + std::string(kMaxRequestLine + 10, 'x') + "\nheld\n");
  EXPECT_EQ(ReadLine(), "ok");
  EXPECT_EQ(ReadLine(), "ok removed");
  EXPECT_EQ(ReadLine(), "ok absent");
  EXPECT_THAT(ReadLine(), StartsWith("err invalid_argument unknown command"));
  EXPECT_THAT(ReadLine(), StartsWith("err invalid_argument request line longer"));
  EXPECT_EQ(ReadLine(), "ok");
}

TEST_F(DuravipKeeperServeTest, StopSignalRemovesEverything) {
  EXPECT_EQ(Call("add 198.18.0.100/24 eth1"), "ok");
  ASSERT_EQ(write(stop_[1], "x", 1), 1);
  ASSERT_TRUE(WaitFor([&] { return Finished(); }));
  EXPECT_TRUE(served_.get().ok());
  EXPECT_THAT(plumber_.addresses(), IsEmpty());
}

TEST_F(DuravipKeeperServeTest, FailedCleanupIsReported) {
  EXPECT_EQ(Call("add 198.18.0.100/24 eth1"), "ok");
  plumber_.FailNext("remove", Status(StatusCode::kIoError, "busy"));
  ours_.Reset();
  ASSERT_TRUE(WaitFor([&] { return Finished(); }));
  EXPECT_EQ(served_.get().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace ec::duravip
