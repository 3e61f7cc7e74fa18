// Splitting the one-line records our files and messages use. SplitFields keeps empty fields
// (two separators in a row are an empty field), so a record with a field too many or too few is
// seen as such rather than silently re-aligned; control::SplitWords is the lenient form for
// typed commands.
#pragma once

#include <string_view>
#include <vector>

namespace ec {

inline std::vector<std::string_view> SplitFields(std::string_view line, char separator = ' ') {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i <= line.size()) {
    size_t j = line.find(separator, i);
    if (j == std::string_view::npos) j = line.size();
    out.push_back(line.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

}  // namespace ec
