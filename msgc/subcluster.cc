#include "msgc/subcluster.h"

#include <algorithm>

#include "msgc/codec.h"

namespace ec::msgc {
namespace {

std::string_view TrimBootBlanks(std::string_view s) {
  constexpr std::string_view kBlanks = " \t\r";
  size_t start = s.find_first_not_of(kBlanks);
  if (start == std::string_view::npos) return {};
  return s.substr(start, s.find_last_not_of(kBlanks) - start + 1);
}

}  // namespace

bool IsValidSubclusterName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength - kSubclusterGroupPrefix.size()) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

Result<std::string> SubclusterGroup(std::string_view subcluster) {
  if (!IsValidSubclusterName(subcluster)) {
    return InvalidArgument("subcluster name `" + std::string(subcluster) +
                           "` is not 1..58 of [A-Za-z0-9_-]");
  }
  return std::string(kSubclusterGroupPrefix) + std::string(subcluster);
}

Result<std::string> SubclusterFromClusterBoot(std::string_view text) {
  std::string_view found = kDefaultSubcluster;
  while (!text.empty()) {
    size_t end = text.find('\n');
    std::string_view line = TrimBootBlanks(text.substr(0, end));
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (line.empty() || line.front() == '#') continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || TrimBootBlanks(line.substr(0, eq)) != "cluster_name") {
      continue;
    }
    found = TrimBootBlanks(line.substr(eq + 1));
  }
  if (!IsValidSubclusterName(found)) {
    return InvalidArgument("cluster.boot: cluster_name `" + std::string(found) +
                           "` is not 1..58 of [A-Za-z0-9_-]");
  }
  return std::string(found);
}

}  // namespace ec::msgc
