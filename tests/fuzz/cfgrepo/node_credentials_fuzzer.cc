// Fuzzes the node credentials file parser (ecconfigd/node_credentials.h) and the fetch
// Authorization parser. Nothing may crash; a rewrite loses nothing (what parsed, parses again
// the same, damaged lines included); a parsed entry's node is a valid node name; no entry
// verifies an empty secret.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "ecconfigd/node_credentials.h"
#include "msgc/node_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto file = ec::ecconfigd::ParseNodeCredentials(in);
  if (file.errors.size() != file.damaged.size()) std::abort();
  for (const auto& e : file.entries) {
    if (!ec::msgc::IsValidNodeName(e.node)) std::abort();
    if (ec::ecconfigd::VerifyNodeCredential(file, e.node, "")) std::abort();
  }
  auto again = ec::ecconfigd::ParseNodeCredentials(ec::ecconfigd::RenderNodeCredentials(file));
  if (again.entries.size() != file.entries.size() || again.damaged != file.damaged) {
    std::abort();
  }
  for (size_t i = 0; i < file.entries.size(); ++i) {
    if (again.entries[i].node != file.entries[i].node ||
        again.entries[i].hash != file.entries[i].hash) {
      std::abort();
    }
  }
  if (auto c = ec::ecconfigd::ParseFetchAuthorization(in); c.ok() && !c->node.empty()) {
    if (c->node.find(':') != std::string::npos) std::abort();
  }
  return 0;
}
