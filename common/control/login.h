// The console login (docs/control-protocol.md): a TCP console session's first useful request
// is `login <user> <password>`; the password is the rest of the line after the one blank that
// follows the user, so it may hold blanks. ParseLogin only splits the line (the server checks the
// credentials off the loop with auth::PasswordVerifier); it never logs or keeps the password.
// Pure functions, any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::control {

inline constexpr size_t kMaxLoginUser = 64;
inline constexpr size_t kMaxLoginPassword = 1024;

struct LoginRequest {
  std::string user;      // [A-Za-z0-9._@-]+, at most kMaxLoginUser bytes
  std::string password;  // non-empty, no NUL, at most kMaxLoginPassword bytes
};

// True when the line's first word is "login" (any case): such a line is never logged verbatim.
bool IsLoginLine(std::string_view line);

// kInvalidArgument (a message that never repeats the password) for anything but
// "login <user> <password>".
Result<LoginRequest> ParseLogin(std::string_view line);

// The request line a client sends.
std::string FormatLogin(std::string_view user, std::string_view password);

}  // namespace ec::control
