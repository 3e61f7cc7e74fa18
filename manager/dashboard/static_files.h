// The dashboard's static files (index.html, dashboard.js, dashboard.css) as eccmgr's HTTP
// server serves them from the web root (status_http_web_root, default <root>/share/web).
// ResolveStaticPath is the pure decision: which file a request path names, if any, and its
// fixed content type; nothing outside the web root can be named (no "..", no "." segments,
// no hidden files, no backslash, no NUL, percent-encoding decoded first). ReadStaticFile does
// the I/O: a regular file, not a symbolic link, of bounded size. Any thread.
#pragma once

#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::manager::dashboard {

inline constexpr size_t kMaxStaticFileSize = 2 * 1024 * 1024;

struct StaticTarget {
  std::string relative;      // e.g. "index.html", "img/logo.svg"
  const char* content_type;  // from the extension
};

// `path` is the request's path as sent (percent-encoded, without the query). kInvalidArgument
// (HTTP 400): bad percent-encoding or a name that tries to leave the root; kNotFound (404): a
// name the dashboard does not serve (unknown extension, empty segment). "/" is index.html.
Result<StaticTarget> ResolveStaticPath(std::string_view path);

// The percent-decoding ResolveStaticPath uses; kInvalidArgument on a bad escape.
Result<std::string> PercentDecode(std::string_view text);

// The file's contents; kNotFound when missing, not a regular file, a symbolic link or larger
// than kMaxStaticFileSize.
Result<std::string> ReadStaticFile(const std::string& web_root, const StaticTarget& target);

}  // namespace ec::manager::dashboard
