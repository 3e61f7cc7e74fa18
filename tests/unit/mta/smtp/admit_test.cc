// ServerSession asks SessionHooks::AdmitTransaction once a MAIL command has passed its own
// checks (a shared throttle, mta/server/inbound_throttles.h): its reply refuses the MAIL and
// starts no transaction; a refused or malformed MAIL never asks; the session goes on.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "mta/smtp/session.h"
#include "tests/unit/mta/smtp/fake_hooks.h"

namespace ec::smtp {
namespace {

class AdmitHooks : public testing::FakeHooks {
 public:
  std::optional<Reply> AdmitTransaction() override {
    ++asked;
    return refuse;
  }
  std::optional<Reply> refuse;
  int asked = 0;
};

class AdmitTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = std::make_shared<SessionPolicy>();
    policy->banner_hostname = "mx.test";
    policy->relay.open_relay = true;
    policy->max_message_size = 1000;
    session_ = std::make_unique<ServerSession>(policy, &hooks_, ConnectionInfo{"192.0.2.1"});
    hooks_.session = session_.get();
    Say("EHLO c.test\r\n");
  }
  std::string Say(const std::string& line) {
    session_->OnBytes(line);
    return session_->TakeOutput();
  }

  AdmitHooks hooks_;
  std::unique_ptr<ServerSession> session_;
};

TEST_F(AdmitTest, ARefusalStartsNoTransaction) {
  hooks_.refuse = Reply{451, "4.7.1", "Error: shared throttle \"p\" exceeded"};
  EXPECT_EQ(Say("MAIL FROM:<a@example.org>\r\n"),
            "451 4.7.1 Error: shared throttle \"p\" exceeded\r\n");
  EXPECT_EQ(hooks_.asked, 1);
  EXPECT_EQ(hooks_.rejected, std::vector<int>{451});
  EXPECT_EQ(Say("RCPT TO:<b@example.com>\r\n").substr(0, 3), "503");
  hooks_.refuse.reset();
  EXPECT_EQ(Say("MAIL FROM:<a@example.org>\r\n").substr(0, 3), "250");
  EXPECT_EQ(hooks_.asked, 2);
  EXPECT_EQ(Say("RCPT TO:<b@example.com>\r\n").substr(0, 3), "250");
}

TEST_F(AdmitTest, OnlyAMailThatPassedItsChecksAsks) {
  EXPECT_EQ(Say("MAIL FROM:<bad\r\n").substr(0, 1), "5");
  EXPECT_EQ(Say("MAIL FROM:<a@example.org> SIZE=5000\r\n").substr(0, 3), "552");
  EXPECT_EQ(hooks_.asked, 0);
  EXPECT_EQ(Say("MAIL FROM:<a@example.org>\r\n").substr(0, 3), "250");
  EXPECT_EQ(Say("MAIL FROM:<a@example.org>\r\n").substr(0, 3), "503");  // nested
  EXPECT_EQ(hooks_.asked, 1);
}

}  // namespace
}  // namespace ec::smtp
