// ServerSession with a credentials check that answers later (AuthVerdict::kPending), as the
// listener's PasswordVerifier does: nothing is read or answered until OnAuthChecked, then the
// reply and any pipelined commands follow in order.
#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "mta/smtp/session.h"
#include "tests/unit/mta/smtp/fake_hooks.h"

namespace ec::smtp {
namespace {

class PendingHooks : public testing::FakeHooks {
 public:
  AuthVerdict CheckCredentials(std::string_view user, std::string_view password) override {
    checked_user = std::string(user);
    checked_password = std::string(password);
    ++checks;
    return AuthVerdict::kPending;
  }
  std::string checked_user, checked_password;
  int checks = 0;
};

class AuthAsyncTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto policy = std::make_shared<SessionPolicy>();
    policy->banner_hostname = "mx.test";
    policy->tls_available = true;
    policy->auth_available = true;
    policy->extensions.starttls = true;
    policy->extensions.auth_plain = true;
    session_ = std::make_unique<ServerSession>(policy, &hooks_, ConnectionInfo{"192.0.2.1"});
    hooks_.session = session_.get();
    session_->TakeOutput();
    session_->OnBytes("EHLO c.test\r\nSTARTTLS\r\n");
    session_->TakeOutput();
    session_->OnTlsEstablished(TlsInfo{"TLSv1.3", "TLS_AES_256_GCM_SHA384", 256, "", false});
    session_->OnBytes("EHLO c.test\r\n");
    session_->TakeOutput();
  }

  PendingHooks hooks_;
  std::unique_ptr<ServerSession> session_;
};

// "\0alice\0wonderland"
constexpr char kPlain[] = "AUTH PLAIN AGFsaWNlAHdvbmRlcmxhbmQ=\r\n";

TEST_F(AuthAsyncTest, WaitsForTheVerdictThenRunsPipelinedCommands) {
  session_->OnBytes(std::string(kPlain) + "NOOP\r\n");
  EXPECT_EQ(hooks_.checks, 1);
  EXPECT_EQ(hooks_.checked_user, "alice");
  EXPECT_EQ(hooks_.checked_password, "wonderland");
  EXPECT_FALSE(session_->WantsRead());
  EXPECT_EQ(session_->TakeOutput(), "") << "no reply before the verdict, NOOP not run";
  session_->OnAuthChecked(AuthVerdict::kAccepted);
  EXPECT_EQ(session_->TakeOutput(), "235 2.7.0 Authentication successful\r\n250 2.0.0 Ok\r\n");
  EXPECT_EQ(session_->auth_user(), "alice");
  EXPECT_TRUE(session_->WantsRead());
}

TEST_F(AuthAsyncTest, RejectedAndTemporaryFailure) {
  session_->OnBytes(kPlain);
  session_->OnAuthChecked(AuthVerdict::kRejected);
  EXPECT_EQ(session_->TakeOutput(), "535 5.7.8 Authentication credentials invalid\r\n");
  EXPECT_EQ(session_->auth_user(), "");
  session_->OnBytes(kPlain);
  session_->OnAuthChecked(AuthVerdict::kTemporaryFailure);
  EXPECT_EQ(session_->TakeOutput(), "454 4.7.0 Temporary authentication failure\r\n");
}

TEST_F(AuthAsyncTest, VerdictAfterATimeoutIsIgnored) {
  session_->OnBytes(kPlain);
  session_->OnIdleTimeout();
  EXPECT_TRUE(session_->WantsClose());
  session_->TakeOutput();
  session_->OnAuthChecked(AuthVerdict::kAccepted);
  EXPECT_EQ(session_->TakeOutput(), "");
  EXPECT_EQ(session_->auth_user(), "");
}

}  // namespace
}  // namespace ec::smtp
