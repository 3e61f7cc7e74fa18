#include "common/control/login.h"

#include <cctype>

namespace ec::control {
namespace {

constexpr std::string_view kVerb = "login";

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

bool IsUserChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '@' ||
         c == '-';
}

}  // namespace

bool IsLoginLine(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && IsBlank(line[i])) ++i;
  line.remove_prefix(i);
  if (line.size() < kVerb.size()) return false;
  for (size_t k = 0; k < kVerb.size(); ++k) {
    if (std::tolower(static_cast<unsigned char>(line[k])) != kVerb[k]) return false;
  }
  return line.size() == kVerb.size() || IsBlank(line[kVerb.size()]);
}

Result<LoginRequest> ParseLogin(std::string_view line) {
  constexpr std::string_view kUsage = "usage: login <user> <password>";
  if (!IsLoginLine(line)) return InvalidArgument(std::string(kUsage));
  size_t i = 0;
  while (i < line.size() && IsBlank(line[i])) ++i;
  i += kVerb.size();
  while (i < line.size() && IsBlank(line[i])) ++i;
  size_t user_start = i;
  while (i < line.size() && !IsBlank(line[i])) ++i;
  std::string_view user = line.substr(user_start, i - user_start);
  // Exactly one blank separates user and password: the password keeps its own blanks.
  if (user.empty() || i >= line.size()) return InvalidArgument(std::string(kUsage));
  std::string_view password = line.substr(i + 1);
  if (user.size() > kMaxLoginUser) return InvalidArgument("login: user name too long");
  for (char c : user) {
    if (!IsUserChar(c)) return InvalidArgument("login: bad character in the user name");
  }
  if (password.empty()) return InvalidArgument(std::string(kUsage));
  if (password.size() > kMaxLoginPassword) return InvalidArgument("login: password too long");
  if (password.find('\0') != std::string_view::npos) {
    return InvalidArgument("login: the password holds a NUL");
  }
  return LoginRequest{std::string(user), std::string(password)};
}

std::string FormatLogin(std::string_view user, std::string_view password) {
  std::string line = "login ";
  line.append(user);
  line.push_back(' ');
  line.append(password);
  return line;
}

}  // namespace ec::control
