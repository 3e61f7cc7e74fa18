#include "common/config/tree.h"

namespace ec::config {

const Option* Scope::FindOption(std::string_view option_name) const {
  for (size_t i = options.size(); i-- > 0;) {
    if (options[i].name == option_name) return &options[i];
  }
  return nullptr;
}

std::vector<const Scope*> Scope::Children(std::string_view child_type) const {
  std::vector<const Scope*> out;
  for (const Scope& c : children) {
    if (c.type == child_type) out.push_back(&c);
  }
  return out;
}

std::vector<const Scope*> Scope::Children(std::string_view child_type,
                                          std::string_view child_name) const {
  std::vector<const Scope*> out;
  for (const Scope& c : children) {
    if (c.type == child_type && c.name && *c.name == child_name) out.push_back(&c);
  }
  return out;
}

std::string Scope::Label() const {
  if (!name) return spelling;
  return spelling + " " + Quote(*name);
}

}  // namespace ec::config
