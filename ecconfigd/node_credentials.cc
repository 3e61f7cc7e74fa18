#include "ecconfigd/node_credentials.h"

#include <algorithm>
#include <charconv>
#include <utility>

#include "ecconfigd/enrol_tokens.h"
#include "ecconfigd/protocol.h"
#include "msgc/node_name.h"

namespace ec::ecconfigd {
namespace {

constexpr char kHashScheme[] = "sha256";

// Why `f` is not a credential line; empty when it is one.
std::string CredentialLineError(const std::vector<std::string_view>& f, NodeCredential* out) {
  if (f.size() != 5) return "expected 5 fields (node issued sha256 salt hash)";
  if (!msgc::IsValidNodeName(f[0])) return "bad node name";
  int64_t issued = 0;
  auto [p, ec] = std::from_chars(f[1].data(), f[1].data() + f[1].size(), issued);
  if (ec != std::errc() || p != f[1].data() + f[1].size() || issued < 0) return "bad issue time";
  if (f[2] != kHashScheme) return "unknown hash scheme (expected sha256)";
  if (!IsLowerHex(f[3], 2 * kNodeSaltBytes)) return "bad salt";
  if (!IsLowerHex(f[4], 64)) return "bad hash";
  *out = {std::string(f[0]), issued, std::string(f[3]), std::string(f[4])};
  return "";
}

// The node a line names (its first field), damaged or not.
std::string_view FirstField(std::string_view line) {
  auto f = SplitFields(line);
  return f.empty() ? std::string_view() : f[0];
}

void DropNode(NodeCredentialFile& file, std::string_view node, bool* removed) {
  size_t before = file.entries.size() + file.damaged.size();
  std::erase_if(file.entries, [&](const NodeCredential& e) { return e.node == node; });
  std::erase_if(file.damaged, [&](const std::string& line) { return FirstField(line) == node; });
  // The errors describe the file as it was read; they are not rewritten.
  if (removed != nullptr) *removed = file.entries.size() + file.damaged.size() != before;
}

}  // namespace

NodeCredentialFile ParseNodeCredentials(std::string_view text) {
  NodeCredentialFile file;
  size_t number = 0;
  for (std::string_view line : SplitLines(text)) {
    ++number;
    NodeCredential entry;
    auto f = SplitFields(line);
    if (f.empty() || f[0][0] == '#') continue;
    std::string why = CredentialLineError(f, &entry);
    if (why.empty()) {
      bool listed = std::any_of(file.entries.begin(), file.entries.end(),
                                [&](const NodeCredential& e) { return e.node == entry.node; });
      if (listed) why = "node " + entry.node + " listed twice (the first line counts)";
    }
    if (!why.empty()) {
      file.damaged.emplace_back(line);
      file.errors.push_back("line " + std::to_string(number) + ": " + why);
      continue;
    }
    file.entries.push_back(std::move(entry));
  }
  return file;
}

std::string RenderNodeCredentials(const NodeCredentialFile& file) {
  std::string out =
      "# ecconfigd node fetch credentials (salted hashes only): node issued sha256 salt hash\n";
  for (const NodeCredential& e : file.entries) {
    out += e.node + " " + std::to_string(e.issued) + " " + kHashScheme + " " + e.salt + " " +
           e.hash + "\n";
  }
  for (const std::string& line : file.damaged) out += line + "\n";
  return out;
}

NodeCredential MakeNodeCredential(std::string_view node, std::string_view secret,
                                  std::string_view salt, int64_t issued) {
  return {std::string(node), issued, std::string(salt),
          HashToken(std::string(salt) + std::string(secret))};
}

bool VerifyNodeCredential(const NodeCredentialFile& file, std::string_view node,
                          std::string_view secret) {
  auto it = std::find_if(file.entries.begin(), file.entries.end(),
                         [&](const NodeCredential& e) { return e.node == node; });
  bool known = it != file.entries.end();
  // An unknown node is hashed against a salt and hash no secret matches, at the same cost.
  static const std::string kNoSalt(2 * kNodeSaltBytes, '0'), kNoHash(64, 'x');
  const std::string& salt = known ? it->salt : kNoSalt;
  const std::string& hash = known ? it->hash : kNoHash;
  return SecretsEqual(HashToken(salt + std::string(secret)), hash) && known && !secret.empty();
}

NodeCredentialFile WithNodeCredential(NodeCredentialFile file, NodeCredential fresh) {
  DropNode(file, fresh.node, nullptr);
  file.entries.push_back(std::move(fresh));
  return file;
}

NodeCredentialFile WithoutNodeCredential(NodeCredentialFile file, std::string_view node,
                                         bool* removed) {
  DropNode(file, node, removed);
  return file;
}

std::string FormatNodeCredential(std::string_view node, std::string_view secret) {
  return std::string(node) + ":" + std::string(secret);
}

Result<FetchCredential> ParseFetchAuthorization(std::string_view header) {
  FetchCredential c;
  if (auto basic = ParseBasicAuth(header); basic.ok()) {
    c = {std::move(basic->user), std::move(basic->password)};
  } else {
    EC_ASSIGN_OR_RETURN(std::string token, ParseBearer(header));
    size_t colon = token.find(':');
    if (colon == std::string::npos) return FetchCredential{"", std::move(token)};
    c = {token.substr(0, colon), token.substr(colon + 1)};
  }
  // The name is echoed in the refusal and the log: only a real node name gets that far.
  if (!msgc::IsValidNodeName(c.node)) return InvalidArgument("bad node credential");
  return c;
}

std::string FetchAuthorization(std::string_view stored) {
  size_t colon = stored.find(':');
  if (colon == std::string_view::npos) return "Bearer " + std::string(stored);
  return FormatBasicAuth(
      {std::string(stored.substr(0, colon)), std::string(stored.substr(colon + 1))});
}

}  // namespace ec::ecconfigd
