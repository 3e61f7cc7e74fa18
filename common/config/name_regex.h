// "/regex/" Domain and Host names: compiled with std::regex (ECMAScript, case-insensitive)
// under size bounds, because libstdc++'s regex compiler and matcher recurse and expand
// repeat counts. Shared by validation and lookups so both refuse the same patterns. Pure.
#pragma once

#include <regex>
#include <string_view>

#include "common/base/status.h"

namespace ec::config {

// True for names written as "/regex/".
bool IsRegexName(std::string_view name);

// Compiles the pattern between the slashes; kInvalidArgument says why it was refused.
Result<std::regex> CompileNameRegex(std::string_view name);

// Whether `subject` (a domain or host name, at most 1024 characters) matches.
bool NameRegexMatches(const std::regex& re, std::string_view subject);

}  // namespace ec::config
