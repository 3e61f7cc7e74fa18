#include "common/auth/password_verifier.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace ec::auth {
namespace {

std::shared_ptr<const PasswordFile> Users() {
  auto file = PasswordFile::Parse(
      "bob:$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/"
      "LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB.\n",
      "users");
  EXPECT_TRUE(file.ok());
  return *file;
}

// The verdict comes back on the loop thread, not the worker's.
TEST(PasswordVerifier, AnswersOnTheLoopThread) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  PasswordVerifier verifier;
  int answered = 0;
  bool right = false, wrong = true;
  std::thread::id loop_thread = std::this_thread::get_id(), seen[2];
  ASSERT_TRUE(verifier.Submit(base->get(), Users(), "bob", "s3cret", [&](bool ok) {
    right = ok;
    seen[answered++] = std::this_thread::get_id();
  }));
  ASSERT_TRUE(verifier.Submit(base->get(), Users(), "bob", "S3cret", [&](bool ok) {
    wrong = ok;
    seen[answered++] = std::this_thread::get_id();
  }));
  ASSERT_TRUE((*base)->RunUntil([&] { return answered == 2; }, std::chrono::seconds(10)));
  EXPECT_TRUE(right);
  EXPECT_FALSE(wrong);
  EXPECT_EQ(seen[0], loop_thread);
  EXPECT_EQ(seen[1], loop_thread);
}

// A full queue refuses at once instead of growing; destruction drops what still waits.
TEST(PasswordVerifier, QueueIsBounded) {
  auto base = event::EventBase::Create();
  ASSERT_TRUE(base.ok());
  size_t accepted = 0;
  {
    PasswordVerifier verifier;
    for (size_t i = 0; i < PasswordVerifier::kMaxQueued * 4; ++i) {
      if (verifier.Submit(base->get(), Users(), "bob", "guess", [](bool) {})) ++accepted;
    }
  }
  EXPECT_GE(accepted, PasswordVerifier::kMaxQueued);
  EXPECT_LT(accepted, PasswordVerifier::kMaxQueued * 4);
}

}  // namespace
}  // namespace ec::auth
