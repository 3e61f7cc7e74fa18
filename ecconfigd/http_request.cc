#include "ecconfigd/http_request.h"

#include <cctype>
#include <charconv>

namespace ec::ecconfigd {
namespace {

// RFC 9110 token characters, for methods and field names.
bool IsTokenChar(char c) {
  if (std::isalnum(static_cast<unsigned char>(c))) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsTokenChar(c)) return false;
  }
  return true;
}

// Field values and targets: visible ASCII, space, tab and obs-text; no CR, LF or NUL.
bool IsFieldText(std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

std::string_view TrimOws(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string HttpRequestHead::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Result<HttpRequestHead> ParseHttpRequestHead(std::string_view head) {
  HttpRequestHead out;
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  // request-line = method SP request-target SP HTTP-version
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return InvalidArgument("bad request line");
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(method)) return InvalidArgument("bad method");
  if (target.empty() || target[0] != '/' || !IsFieldText(target) ||
      target.find_first_of(" \t") != std::string_view::npos) {
    return InvalidArgument("bad request target");
  }
  if (version != "HTTP/1.1" && version != "HTTP/1.0") return InvalidArgument("bad HTTP version");
  out.method = std::string(method);
  out.target = std::string(target);
  while (!rest.empty()) {
    size_t next = rest.find("\r\n");
    std::string_view field = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 2);
    if (field.empty()) return InvalidArgument("empty header line");
    if (field[0] == ' ' || field[0] == '\t') return InvalidArgument("folded header line");
    size_t colon = field.find(':');
    if (colon == std::string_view::npos) return InvalidArgument("header line without colon");
    std::string_view name = field.substr(0, colon);
    std::string_view value = TrimOws(field.substr(colon + 1));
    if (!IsToken(name)) return InvalidArgument("bad header name");
    if (!IsFieldText(value)) return InvalidArgument("bad header value");
    if (out.headers.size() >= kMaxHeaderFields) return InvalidArgument("too many header fields");
    std::string lower(name);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    // One value per name: a repeated Authorization or Content-Length smells of smuggling.
    if (!out.headers.emplace(std::move(lower), std::string(value)).second) {
      return InvalidArgument("repeated header " + std::string(name));
    }
  }
  if (auto it = out.headers.find("content-length"); it != out.headers.end()) {
    const std::string& text = it->second;
    size_t n = 0;
    auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
    if (text.empty() || ec != std::errc() || p != text.data() + text.size()) {
      return InvalidArgument("bad Content-Length");
    }
    out.content_length = n;
  }
  out.chunked = out.headers.count("transfer-encoding") != 0;
  if (out.chunked && out.content_length) {
    return InvalidArgument("both Content-Length and Transfer-Encoding");
  }
  return out;
}

}  // namespace ec::ecconfigd
