// eccfg's HTTPS client against a real ConfigServer on 127.0.0.1 (port 0), loop on its own thread.
#include <gtest/gtest.h>

#include <csignal>
#include <future>
#include <thread>

#include "common/event/event_base.h"
#include "common/tls/tls_context.h"
#include "eccfg/https_remote.h"
#include "eccfg/working_copy.h"
#include "ecconfigd/server.h"
#include "tests/unit/ecconfigd/test_util.h"

namespace ec::eccfg {
namespace {
namespace fs = std::filesystem;
using test::ReadFile;
using test::WriteFile;

class HttpsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ::signal(SIGPIPE, SIG_IGN);  // as ecconfigd does: a peer hanging up is not fatal
    dir_ = test::MakeTempDir("eccfg_https");
    WriteFile(dir_ / "seed/default/ecelerity.conf", "a=1\n");
    // An older hash's 10,000 iterations (still valid): today's 600,000 cost seconds of CPU per
    // login under AddressSanitizer, and these tests log in often.
    ASSERT_TRUE(
        ecconfigd::PasswordFile::SetPassword(dir_ / "state/passwd", "admin", "pw", 10000).ok());
    auto base = event::EventBase::Create();
    ASSERT_TRUE(base.ok());
    base_ = std::move(*base);
    ecconfigd::ServerOptions opts;
    opts.state_dir = dir_ / "state";
    opts.seed_dir = dir_ / "seed";
    opts.port = 0;
    auto server = ecconfigd::ConfigServer::Start(base_->get(), opts);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(*server);
    loop_ = std::thread([this] { (void)base_->Run(); });
  }
  void TearDown() override {
    // The server goes on its loop thread, and the loop runs once more so libevent can finish
    // freeing the connections it closed.
    if (base_ && loop_.joinable()) {
      base_->RunInLoop([this] {
        server_.reset();
        base_->RunInLoop([this] { base_->Stop(); });
      });
      loop_.join();
    }
    server_.reset();
    base_.reset();
    fs::remove_all(dir_);
  }

  HttpsEndpoint Endpoint() {
    HttpsEndpoint e;
    e.port = server_->port();
    e.pinned_certificate = server_->certificate_file();
    e.secret = ReadFile(server_->secret_file()).substr(0, 64);
    e.user = "admin";
    e.password = "pw";
    e.io_timeout = std::chrono::seconds(20);
    return e;
  }

  fs::path dir_;
  std::unique_ptr<event::EventBase> base_;
  std::unique_ptr<ecconfigd::ConfigServer> server_;
  std::thread loop_;
};

TEST_F(HttpsTest, CommitOnOneNodeReachesAnotherOverHttps) {
  HttpsRemote remote(Endpoint());
  WorkingCopy a(dir_ / "a/etc/conf"), b(dir_ / "b/etc/conf");
  ASSERT_TRUE(a.Pull(remote, {}).ok());
  ASSERT_TRUE(b.Pull(remote, {}).ok());
  EXPECT_EQ(ReadFile(dir_ / "b/etc/conf/default/ecelerity.conf"), "a=1\n");
  WriteFile(dir_ / "a/etc/conf/default/ecelerity.conf", "a=2\n");
  auto c = a.Commit(remote, {});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto p = b.Pull(remote, {});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->outcome, PullReport::Outcome::kApplied);
  EXPECT_EQ(ReadFile(dir_ / "b/etc/conf/default/ecelerity.conf"), "a=2\n");
}

TEST_F(HttpsTest, WrongCredentialsAndStaleBaseAreRefused) {
  HttpsEndpoint good = Endpoint();
  HttpsRemote remote(good);
  WorkingCopy a(dir_ / "a/etc/conf"), b(dir_ / "b/etc/conf");
  ASSERT_TRUE(a.Pull(remote, {}).ok());
  ASSERT_TRUE(b.Pull(remote, {}).ok());

  HttpsEndpoint bad_password = good;
  bad_password.password = "nope";
  HttpsRemote wrong(bad_password);
  WriteFile(dir_ / "a/etc/conf/x.conf", "x\n");
  CommitOptions add;
  add.add_all = true;
  EXPECT_EQ(a.Commit(wrong, add).status().code(), StatusCode::kPermissionDenied);

  HttpsEndpoint bad_secret = good;
  bad_secret.secret = "0000";
  HttpsRemote no_secret(bad_secret);
  EXPECT_EQ(no_secret.Fetch(std::nullopt).status().code(), StatusCode::kPermissionDenied);

  ASSERT_TRUE(a.Commit(remote, add).ok());
  WriteFile(dir_ / "b/etc/conf/y.conf", "y\n");
  auto stale = b.Commit(remote, add);
  ASSERT_EQ(stale.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(stale.status().message().find(ecconfigd::OidToHex(*a.Revision())), std::string::npos)
      << stale.status().message();
}

TEST_F(HttpsTest, AServerWithAnotherCertificateIsRefused) {
  HttpsEndpoint e = Endpoint();
  ASSERT_TRUE(tls::WriteSelfSignedCertificate((dir_ / "other.crt").string(),
                                              (dir_ / "other.key").string(), "impostor",
                                              {"localhost"}, {"127.0.0.1"}, 1)
                  .ok());
  e.pinned_certificate = dir_ / "other.crt";
  HttpsRemote remote(e);
  auto r = remote.Fetch(std::nullopt);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(r.status().message().find("pinned certificate"), std::string::npos);
}

TEST_F(HttpsTest, WaitAnswersAsSoonAsARevisionLands) {
  HttpsRemote remote(Endpoint());
  WorkingCopy a(dir_ / "a/etc/conf");
  ASSERT_TRUE(a.Pull(remote, {}).ok());
  git_oid before = *a.Revision();
  auto waiting = std::async(std::launch::async, [&] {
    HttpsRemote waiter(Endpoint());
    return waiter.Wait(before, std::chrono::seconds(30));
  });
  WriteFile(dir_ / "a/etc/conf/default/ecelerity.conf", "a=3\n");
  auto c = a.Commit(remote, {});
  ASSERT_TRUE(c.ok());
  ASSERT_EQ(waiting.wait_for(std::chrono::seconds(25)), std::future_status::ready);
  auto head = waiting.get();
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_TRUE(git_oid_equal(&*head, &c->revision));
}

TEST_F(HttpsTest, CorruptPackIsRefusedOverHttps) {
  HttpsRemote remote(Endpoint());
  auto fetched = remote.Fetch(std::nullopt);
  ASSERT_TRUE(fetched.ok());
  std::string pack = fetched->pack;
  pack[pack.size() / 2] ^= 0x20;
  git_oid other = fetched->head;
  other.id[0] ^= 1;
  auto r = remote.Push(fetched->head, other, pack);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status().ToString();
}

}  // namespace
}  // namespace ec::eccfg
