#include "ecconfigd/enrol_tokens.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <vector>

#include "common/base/hex.h"
#include "ecconfigd/protocol.h"
#include "msgc/node_name.h"

namespace ec::ecconfigd {
namespace {

Status Denied(std::string why) { return Status(StatusCode::kPermissionDenied, std::move(why)); }

}  // namespace

bool ValidPeerAddress(std::string_view address) {
  if (address.empty() || address.size() > 255) return false;
  return std::all_of(address.begin(), address.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == ':' || c == '-';
  });
}

std::string HashToken(std::string_view token) {
  unsigned char digest[32];
  unsigned int size = 0;
  EVP_Digest(token.data(), token.size(), digest, &size, EVP_sha256(), nullptr);
  return HexLower(digest, size);
}

Result<std::string> NewToken(size_t bytes) {
  std::vector<unsigned char> random(bytes);
  if (RAND_bytes(random.data(), static_cast<int>(random.size())) != 1) {
    return Internal("no random bytes");
  }
  return HexLower(random.data(), random.size());
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  while (!line.empty()) {
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string_view::npos) break;
    line.remove_prefix(start);
    size_t end = line.find_first_of(" \t\r");
    out.push_back(line.substr(0, end));
    if (end == std::string_view::npos) break;
    line.remove_prefix(end);
  }
  return out;
}

std::vector<std::string_view> SplitLines(std::string_view text) {
  std::vector<std::string_view> lines;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    lines.push_back(text.substr(0, nl));
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
  }
  return lines;
}

bool IsLowerHex(std::string_view s, size_t length) {
  return s.size() == length && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

Result<std::vector<EnrolEntry>> ParseEnrolTokens(std::string_view text) {
  std::vector<EnrolEntry> entries;
  const std::vector<std::string_view> lines = SplitLines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    const int number = static_cast<int>(i) + 1;
    auto f = SplitFields(line);
    if (f.empty() || f[0][0] == '#') continue;
    auto bad = [number](const char* why) {
      return InvalidArgument("enrolment tokens line " + std::to_string(number) + ": " + why);
    };
    if (f.size() != 6) return bad("expected 6 fields");
    EnrolEntry e;
    e.node = std::string(f[0]);
    e.subcluster = std::string(f[1]);
    e.address = f[2] == "-" ? "" : std::string(f[2]);
    e.hash = std::string(f[3]);
    if (!msgc::IsValidNodeName(e.node)) return bad("bad node name");
    if (!ValidSubclusterName(e.subcluster)) return bad("bad subcluster name");
    if (!e.address.empty() && !ValidPeerAddress(e.address)) return bad("bad address");
    if (!IsLowerHex(e.hash, 64)) return bad("bad token hash");
    auto [p, ec] = std::from_chars(f[4].data(), f[4].data() + f[4].size(), e.expires);
    if (ec != std::errc() || p != f[4].data() + f[4].size()) return bad("bad expiry");
    if (f[5] != "pending" && f[5] != "spent") return bad("state must be pending or spent");
    e.spent = f[5] == "spent";
    entries.push_back(std::move(e));
  }
  return entries;
}

std::string RenderEnrolTokens(const std::vector<EnrolEntry>& entries) {
  std::string out = "# ecconfigd enrolment tokens (hashes only): node subcluster address "
                    "sha256 expires state\n";
  for (const EnrolEntry& e : entries) {
    out += e.node + " " + e.subcluster + " " + (e.address.empty() ? "-" : e.address) + " " +
           e.hash + " " + std::to_string(e.expires) + " " + (e.spent ? "spent" : "pending") +
           "\n";
  }
  return out;
}

Result<size_t> FindEnrolment(const std::vector<EnrolEntry>& entries, std::string_view node,
                             std::string_view token, int64_t now) {
  const std::string hash = HashToken(token);
  size_t found = entries.size();
  for (size_t i = 0; i < entries.size(); ++i) {
    // No early exit: the time taken does not depend on which line matched.
    if (SecretsEqual(entries[i].hash, hash) && found == entries.size()) found = i;
  }
  if (found == entries.size()) return Denied("unknown enrolment token");
  const EnrolEntry& e = entries[found];
  if (e.node != node) {
    return Denied("the enrolment token is not for node " + std::string(node));
  }
  if (e.spent) return Denied("the enrolment token was already used");
  if (now >= e.expires) return Denied("the enrolment token has expired");
  return found;
}

std::vector<EnrolEntry> WithEnrolment(std::vector<EnrolEntry> entries, EnrolEntry fresh,
                                      int64_t now) {
  std::erase_if(entries, [&](const EnrolEntry& e) {
    return e.node == fresh.node || e.expires + kKeepSpentSeconds < now;
  });
  entries.push_back(std::move(fresh));
  return entries;
}

Result<std::chrono::seconds> ParseTtl(std::string_view text) {
  int64_t unit = 1;
  if (!text.empty()) {
    switch (text.back()) {
      case 's': unit = 1; text.remove_suffix(1); break;
      case 'm': unit = 60; text.remove_suffix(1); break;
      case 'h': unit = 3600; text.remove_suffix(1); break;
      case 'd': unit = 86400; text.remove_suffix(1); break;
      default: break;
    }
  }
  int64_t n = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || p != text.data() + text.size() || n <= 0 ||
      n > 30 * 86400 / unit) {
    return InvalidArgument("bad --ttl (examples: 90s, 30m, 1h, 2d; at most 30 days)");
  }
  return std::chrono::seconds(n * unit);
}

}  // namespace ec::ecconfigd
