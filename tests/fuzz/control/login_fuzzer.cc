// Fuzzes the console's two new parsers of untrusted text: the `login <user> <password>` line a
// TCP client sends before it is authenticated, and the console user file (user:$hash lines,
// hashed_only). The first byte picks which; neither may crash, and a parsed login keeps to its
// limits and never contains a NUL.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "common/auth/password_file.h"
#include "common/base/check.h"
#include "common/control/login.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (data[0] & 1) {
    auto login = ec::control::ParseLogin(input);
    if (!login.ok()) return 0;
    EC_CHECK(ec::control::IsLoginLine(input));
    EC_CHECK(!login->user.empty() && login->user.size() <= ec::control::kMaxLoginUser);
    EC_CHECK(!login->password.empty() && login->password.size() <= ec::control::kMaxLoginPassword);
    EC_CHECK(login->password.find('\0') == std::string::npos);
    auto again = ec::control::ParseLogin(ec::control::FormatLogin(login->user, login->password));
    EC_CHECK(again.ok() && again->user == login->user && again->password == login->password);
    return 0;
  }
  // No Check() here: crypt(3) with fuzzed salts is slow and not this parser.
  (void)ec::auth::PasswordFile::Parse(input, "fuzz", {.hashed_only = true});
  return 0;
}
