#include "mta/cluster/config_revision.h"

#include <filesystem>
#include <system_error>

namespace ec::mta::cluster {
namespace fs = std::filesystem;

std::string RevisionOfCheckout(std::string_view link, std::string_view target) {
  constexpr size_t kRev = 12, kRand = 8;
  if (link.empty() || target.size() != link.size() + 1 + kRev + 1 + kRand) return "";
  if (target.substr(0, link.size()) != link) return "";
  std::string_view rest = target.substr(link.size());
  if (rest[0] != '.' || rest[1 + kRev] != '.') return "";
  const std::string_view rev = rest.substr(1, kRev);
  for (char c : rev) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return "";
  }
  for (char c : rest.substr(2 + kRev)) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z'))) return "";
  }
  return std::string(rev);
}

std::string ConfigRevisionOf(const std::vector<std::string>& files) {
  for (const std::string& file : files) {
    std::error_code ec;
    const fs::path path = fs::absolute(file, ec).lexically_normal();
    if (ec) continue;
    fs::path prefix;
    for (const fs::path& part : path.parent_path()) {
      prefix /= part;
      if (!fs::is_symlink(prefix, ec)) continue;
      fs::path target = fs::read_symlink(prefix, ec).lexically_normal();
      if (ec) continue;
      if (!target.has_filename()) target = target.parent_path();  // "conf.<rev>.<rand>/"
      std::string rev =
          RevisionOfCheckout(prefix.filename().string(), target.filename().string());
      if (!rev.empty()) return rev;
    }
  }
  return "";
}

}  // namespace ec::mta::cluster
