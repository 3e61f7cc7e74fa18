// Fuzzes what eccmgr's HTTP server does with a request path and the /api/logs parameters.
// Beyond "no crash": a path that resolves names a file strictly inside the web root (no "." or
// ".." segment, no NUL, no backslash, relative), and the tail JSON is always one object.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/base/check.h"
#include "manager/dashboard/log_tail.h"
#include "manager/dashboard/static_files.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto target = ec::manager::dashboard::ResolveStaticPath(bytes);
  if (target.ok()) {
    const std::string& r = target->relative;
    EC_CHECK(!r.empty() && r.front() != '/' && r.front() != '.');
    EC_CHECK(r.find("/.") == std::string::npos && r.find('\0') == std::string::npos);
    EC_CHECK(r.find('\\') == std::string::npos && r.find("//") == std::string::npos);
    EC_CHECK(target->content_type != nullptr);
  }
  const size_t third = size / 3;
  (void)ec::manager::dashboard::ParseLogQuery(bytes.substr(0, third), bytes.substr(third, third),
                                              bytes.substr(2 * third));
  const std::string json = ec::manager::dashboard::RenderTail(bytes, 1 + size % 50);
  EC_CHECK(json.starts_with("{\"lines\":[") && json.ends_with("}\n"));
  return 0;
}
