#include "manager/dashboard/static_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace ec::manager::dashboard {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The only types served; anything else is not part of the dashboard.
const char* ContentType(std::string_view name) {
  struct Type {
    std::string_view extension;
    const char* type;
  };
  static constexpr Type kTypes[] = {
      {".html", "text/html; charset=utf-8"},     {".js", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},       {".svg", "image/svg+xml"},
      {".png", "image/png"},                     {".ico", "image/x-icon"},
      {".txt", "text/plain; charset=utf-8"},
  };
  for (const Type& t : kTypes) {
    if (name.size() > t.extension.size() && name.ends_with(t.extension)) return t.type;
  }
  return nullptr;
}

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '-' || c == '_';
}

}  // namespace

Result<std::string> PercentDecode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) {
      return InvalidArgument("truncated percent escape");
    }
    const int hi = HexValue(text[i + 1]), lo = HexValue(text[i + 2]);
    if (hi < 0 || lo < 0) return InvalidArgument("bad percent escape");
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

Result<StaticTarget> ResolveStaticPath(std::string_view path) {
  if (path.empty() || path.front() != '/') return InvalidArgument("path must start with /");
  EC_ASSIGN_OR_RETURN(std::string decoded, PercentDecode(path));
  if (decoded == "/") decoded = "/index.html";
  std::string_view rest = std::string_view(decoded).substr(1);
  // Segment by segment: a dot first is "." / ".." / a hidden file; anything but the name
  // characters (a NUL, a backslash, a second slash hidden in an escape) refuses the whole path.
  size_t start = 0;
  while (start <= rest.size()) {
    const size_t slash = rest.find('/', start);
    const std::string_view segment =
        rest.substr(start, slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (segment.empty()) return NotFound("empty path segment");
    if (segment.front() == '.') return InvalidArgument("path segment starts with a dot");
    for (char c : segment) {
      if (!NameChar(c)) return InvalidArgument("character not allowed in a file name");
    }
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  const char* type = ContentType(rest);
  if (!type) return NotFound("not a dashboard file type");
  return StaticTarget{std::string(rest), type};
}

Result<std::string> ReadStaticFile(const std::string& web_root, const StaticTarget& target) {
  const std::string path = web_root + "/" + target.relative;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return NotFound(target.relative + ": " + std::strerror(errno));
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      static_cast<uint64_t>(st.st_size) > kMaxStaticFileSize) {
    ::close(fd);
    return NotFound(target.relative + ": not a regular file of at most 2 MiB");
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    const ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  out.resize(done);
  return out;
}

}  // namespace ec::manager::dashboard
