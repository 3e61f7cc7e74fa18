#include "common/daemon/capabilities.h"

#include <sys/capability.h>

#include <algorithm>
#include <cctype>

namespace ec::daemon {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// One word: "cap_x", "cap_x+ep", "cap_x=ep". Returns the capability number.
Result<int> ParseWord(const std::string& word) {
  const size_t op = word.find_first_of("+=-");
  const std::string name = word.substr(0, op);
  if (op != std::string::npos) {
    const std::string flags = word.substr(op + 1);
    if (word[op] == '-' || flags.empty() || flags.find_first_not_of("epi") != std::string::npos) {
      return InvalidArgument("capability \"" + word +
                             "\": only additions are accepted (cap_name, cap_name+ep)");
    }
  }
  if (name.empty() || name == "all") {
    return InvalidArgument("capability \"" + word + "\": name each capability to keep");
  }
  cap_value_t value = 0;
  if (cap_from_name(name.c_str(), &value) != 0) {
    return InvalidArgument("unknown capability \"" + name + "\" (see capabilities(7))");
  }
  return static_cast<int>(value);
}

}  // namespace

Result<CapabilityList> ParseCapabilities(std::string_view text) {
  CapabilityList caps;
  std::string lowered = Lower(text);
  // cap_from_text lets several names share one flag: "a,b+ep". Keep the flag on the last.
  std::string word;
  auto flush = [&]() -> Status {
    if (word.empty()) return Status::Ok();
    EC_ASSIGN_OR_RETURN(int cap, ParseWord(word));
    caps.push_back(cap);
    word.clear();
    return Status::Ok();
  };
  for (char c : lowered) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      EC_RETURN_IF_ERROR(flush());
    } else {
      word += c;
    }
  }
  EC_RETURN_IF_ERROR(flush());
  std::sort(caps.begin(), caps.end());
  caps.erase(std::unique(caps.begin(), caps.end()), caps.end());
  return caps;
}

std::string CapabilityNames(const CapabilityList& caps) {
  if (caps.empty()) return "none";
  std::string out;
  for (int cap : caps) {
    char* name = cap_to_name(static_cast<cap_value_t>(cap));
    if (!out.empty()) out += ",";
    out += name != nullptr ? name : std::to_string(cap);
    cap_free(name);
  }
  return out;
}

uint64_t CapabilityMask(const CapabilityList& caps) {
  uint64_t mask = 0;
  for (int cap : caps) mask |= uint64_t{1} << cap;
  return mask;
}

}  // namespace ec::daemon
