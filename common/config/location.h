// Where a configuration node came from, and a problem found while loading or validating one.
// Plain value types; any thread.
#pragma once

#include <string>
#include <vector>

namespace ec::config {

struct Location {
  std::string file;  // as opened (or "<default>", "<string>")
  int line = 0;      // 1-based; 0 = unknown
  int column = 0;    // 1-based

  // "file:line:column" (or just "file" when line is 0).
  std::string ToString() const;
};

enum class Severity { kError, kWarning };

struct Diagnostic {
  Severity severity = Severity::kError;
  Location location;
  std::string message;

  // "file:line:column: error: message".
  std::string ToString() const;
};

using Diagnostics = std::vector<Diagnostic>;

bool HasErrors(const Diagnostics& diags);

}  // namespace ec::config
