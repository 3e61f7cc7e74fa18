// Shared by the control server's tests (they link into one binary).
#pragma once

#include <chrono>

namespace ec::control::test_util {

inline constexpr std::chrono::milliseconds kTimeout(10000);
// `openssl passwd -6 -salt abcdefgh s3cret`: TCP sessions log in as admin.
inline constexpr const char* kUsers =
    "admin:$6$abcdefgh$Z7KfoKnKTSZrzo5VZ0YubGLQOj9ov6sHo9TmE3zIU/"
    "LHKhpE30zCnZ0mcIXYf9r9rQ4DYaXoxAFSPFlcWdxjB.\n";

}  // namespace ec::control::test_util
