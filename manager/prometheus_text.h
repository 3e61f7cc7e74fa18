// Pieces of the Prometheus text exposition format that eccmgr's /metrics sections share
// (HealthView, SharedView). Pure; any thread.
#pragma once

#include <string>

namespace ec::manager::prometheus {

// "# HELP" and "# TYPE" lines of one metric.
inline std::string Header(const std::string& name, const char* type, const char* help) {
  return "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

// Label values come from peers (addresses, object keys): escape them as the format demands.
inline std::string LabelValue(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\' || c == '"') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

}  // namespace ec::manager::prometheus
