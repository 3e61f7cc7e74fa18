#include "common/config/name_regex.h"

#include <algorithm>
#include <string>

namespace ec::config {
namespace {

constexpr size_t kMaxPatternLength = 512;
constexpr long kMaxRepeatProduct = 1000;

// The product of the largest counts of every {n,m} in the pattern, capped.
long RepeatProduct(std::string_view pattern) {
  long product = 1;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\') {
      ++i;
      continue;
    }
    if (pattern[i] != '{') continue;
    long largest = 0, n = 0;
    for (size_t j = i + 1; j < pattern.size() && pattern[j] != '}'; ++j) {
      char c = pattern[j];
      if (c >= '0' && c <= '9') {
        n = std::min<long>(n * 10 + (c - '0'), kMaxRepeatProduct + 1);
      } else {
        largest = std::max(largest, n);
        n = 0;
      }
    }
    largest = std::max(largest, n);
    product = std::min(product * std::max(largest, 1L), kMaxRepeatProduct + 1);
  }
  return product;
}

}  // namespace

bool IsRegexName(std::string_view name) {
  return name.size() >= 2 && name.front() == '/' && name.back() == '/';
}

Result<std::regex> CompileNameRegex(std::string_view name) {
  if (!IsRegexName(name)) return InvalidArgument("not a /regex/ name");
  std::string pattern(name.substr(1, name.size() - 2));
  if (pattern.size() > kMaxPatternLength) {
    return InvalidArgument("regular expression longer than " + std::to_string(kMaxPatternLength) +
                           " characters");
  }
  if (RepeatProduct(pattern) > kMaxRepeatProduct) {
    return InvalidArgument("regular expression repeat counts multiply beyond " +
                           std::to_string(kMaxRepeatProduct));
  }
  try {
    return std::regex(pattern, std::regex::ECMAScript | std::regex::icase);
  } catch (const std::regex_error& e) {
    return InvalidArgument(std::string("invalid regular expression: ") + e.what());
  }
}

bool NameRegexMatches(const std::regex& re, std::string_view subject) {
  if (subject.size() > 1024) return false;
  try {
    return std::regex_search(subject.begin(), subject.end(), re);
  } catch (const std::regex_error&) {
    return false;  // e.g. error_complexity: treat as no match
  }
}

}  // namespace ec::config
