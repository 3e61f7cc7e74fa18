#include "msgc/node_name.h"

#include <string>

namespace ec::msgc {

bool IsValidNodeName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNodeNameLength) return false;
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (!alnum(name.front())) return false;
  for (char c : name) {
    if (!alnum(c) && c != '_' && c != '.' && c != '-') return false;
  }
  return true;
}

Status CheckNodeName(std::string_view name) {
  if (IsValidNodeName(name)) return Status::Ok();
  return InvalidArgument("bad node name '" + std::string(name) + "' (" +
                         std::string(kNodeNameRule) + ")");
}

}  // namespace ec::msgc
