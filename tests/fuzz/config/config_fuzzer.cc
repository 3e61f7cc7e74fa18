// Fuzzes the config language end to end on one in-memory file: lexer, parser, validation
// against the default schema, a few fallback lookups and the YAML rendering. Includes are
// refused so no input reaches the file system. No input may crash, hang or grow memory
// without bound.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/config/loader.h"
#include "common/config/resolve.h"
#include "common/config/schema.h"
#include "common/config/validate.h"
#include "common/config/yaml_render.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ec::config;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  LoadOptions options;
  options.allow_includes = false;
  options.use_environment = false;
  Diagnostics diags;
  auto config = ParseConfigString(text, "fuzz.conf", options, &diags);
  const SchemaRegistry& schema = DefaultSchema();
  Diagnostics problems = Validate(*config, schema);
  for (const Diagnostic& d : problems) (void)d.ToString();
  (void)TreeToYaml(*config);
  for (const ScopePath& path :
       {ScopePath{}, ScopePath{.binding = "b", .domain = "example.com", .host = "mx"},
        ScopePath{.listen = "*:25", .peer = "10.1.2.3"}}) {
    (void)Eval(*config, schema, path, "max_outbound_connections");
    (void)Eval(*config, schema, path, "relay_hosts");
  }
  return 0;
}
