// Small string helpers shared by the config lexer, validator and resolver. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ec::config {

inline bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
// Characters that end a bare word and must be quoted inside a value.
inline bool IsSpecial(char c) {
  return c == '#' || c == '"' || c == '\'' || c == '=' || c == '{' || c == '}' || c == '[' ||
         c == ']' || c == '(' || c == ')';
}
std::string ToLower(std::string_view s);
bool EqualsIgnoreCase(std::string_view a, std::string_view b);
// Levenshtein distance, capped: returns > cap as soon as the distance must exceed cap.
size_t EditDistance(std::string_view a, std::string_view b, size_t cap);
// The candidate closest to `word` (case-insensitive), or "" when none is close enough.
std::string ClosestMatch(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace ec::config
