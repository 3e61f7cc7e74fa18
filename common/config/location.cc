#include "common/config/location.h"

#include <algorithm>

namespace ec::config {

std::string Location::ToString() const {
  if (line <= 0) return file;
  return file + ":" + std::to_string(line) + ":" + std::to_string(column);
}

std::string Diagnostic::ToString() const {
  return location.ToString() + (severity == Severity::kError ? ": error: " : ": warning: ") +
         message;
}

bool HasErrors(const Diagnostics& diags) {
  return std::any_of(diags.begin(), diags.end(),
                     [](const Diagnostic& d) { return d.severity == Severity::kError; });
}

}  // namespace ec::config
