// Base64 (RFC 4648, standard alphabet, padding required) for SASL exchanges in AUTH.
// Pure functions; no threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace ec::smtp {

std::string Base64Encode(std::string_view data);
// nullopt on any character outside the alphabet, bad padding or a length not a multiple of 4.
std::optional<std::string> Base64Decode(std::string_view text);

}  // namespace ec::smtp
