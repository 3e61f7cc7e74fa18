#include "ecconfigd/protocol.h"

#include <openssl/crypto.h>

#include <algorithm>
#include <cctype>
#include <charconv>

#include "msgc/subcluster.h"

namespace ec::ecconfigd {
namespace {

constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr size_t kMaxHeaderBytes = 64 * 1024;

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

Result<std::string> PercentDecode(std::string_view in) {
  std::string out;
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%') {
      if (i + 2 >= in.size()) return InvalidArgument("truncated %-escape");
      int hi = HexValue(in[i + 1]), lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return InvalidArgument("bad %-escape");
      out.push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (in[i] == '+') {
      out.push_back(' ');
    } else {
      out.push_back(in[i]);
    }
  }
  return out;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && Lower(s.substr(0, prefix.size())) == Lower(prefix);
}

}  // namespace

// The bus's rule (ec_sc_<name> must be a group name), so every repository's nodes can join.
bool ValidSubclusterName(std::string_view name) { return msgc::IsValidSubclusterName(name); }

Result<RequestTarget> ParseRequestTarget(std::string_view uri) {
  if (uri.size() > 4096) return InvalidArgument("request target too long");
  std::string_view path = uri, query;
  if (size_t q = uri.find('?'); q != std::string_view::npos) {
    path = uri.substr(0, q);
    query = uri.substr(q + 1);
  }
  constexpr std::string_view kPrefix = "/config/";
  if (path.substr(0, kPrefix.size()) != kPrefix) return NotFound("no such resource");
  path.remove_prefix(kPrefix.size());
  size_t slash = path.find('/');
  if (slash == std::string_view::npos) return NotFound("no operation in request");
  RequestTarget target;
  target.subcluster = std::string(path.substr(0, slash));
  target.operation = std::string(path.substr(slash + 1));
  if (!ValidSubclusterName(target.subcluster)) return InvalidArgument("bad subcluster name");
  if (target.operation != "fetch" && target.operation != "wait" && target.operation != "push") {
    return NotFound("no such operation");
  }
  EC_ASSIGN_OR_RETURN(target.params, ParseQueryString(query));
  return target;
}

Result<std::map<std::string, std::string>> ParseQueryString(std::string_view query) {
  std::map<std::string, std::string> params;
  while (!query.empty()) {
    size_t amp = query.find('&');
    std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    size_t eq = pair.find('=');
    EC_ASSIGN_OR_RETURN(std::string key, PercentDecode(pair.substr(0, eq)));
    std::string value;
    if (eq != std::string_view::npos) {
      EC_ASSIGN_OR_RETURN(value, PercentDecode(pair.substr(eq + 1)));
    }
    if (params.size() >= 16) return InvalidArgument("too many parameters");
    params[key] = value;
  }
  return params;
}

std::string Base64Encode(std::string_view in) {
  std::string out;
  size_t i = 0;
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t v = byte(i) << 16 | byte(i + 1) << 8 | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out.push_back(kB64[(v >> s) & 63]);
  }
  if (size_t rest = in.size() - i; rest > 0) {
    uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out.push_back(kB64[(v >> 18) & 63]);
    out.push_back(kB64[(v >> 12) & 63]);
    out.push_back(rest == 2 ? kB64[(v >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view in) {
  if (in.size() % 4 != 0) return InvalidArgument("bad base64 length");
  std::string out;
  for (size_t i = 0; i < in.size(); i += 4) {
    uint32_t v = 0;
    int pad = 0;
    for (size_t k = 0; k < 4; ++k) {
      char c = in[i + k];
      uint32_t d = 0;
      if (c == '=') {
        if (i + 4 != in.size() || k < 2) return InvalidArgument("bad base64 padding");
        ++pad;
      } else {
        if (pad > 0) return InvalidArgument("bad base64 padding");
        const char* p = std::find(kB64, kB64 + 64, c);
        if (p == kB64 + 64 || c == '\0') return InvalidArgument("bad base64 character");
        d = static_cast<uint32_t>(p - kB64);
      }
      v = v << 6 | d;
    }
    out.push_back(static_cast<char>((v >> 16) & 0xff));
    if (pad < 2) out.push_back(static_cast<char>((v >> 8) & 0xff));
    if (pad < 1) out.push_back(static_cast<char>(v & 0xff));
  }
  return out;
}

Result<BasicCredentials> ParseBasicAuth(std::string_view header) {
  header = Trim(header);
  if (!StartsWithNoCase(header, "Basic ")) return InvalidArgument("not Basic credentials");
  EC_ASSIGN_OR_RETURN(std::string decoded, Base64Decode(Trim(header.substr(6))));
  size_t colon = decoded.find(':');
  if (colon == std::string::npos || colon == 0) return InvalidArgument("bad Basic credentials");
  return BasicCredentials{decoded.substr(0, colon), decoded.substr(colon + 1)};
}

std::string FormatBasicAuth(const BasicCredentials& c) {
  return "Basic " + Base64Encode(c.user + ":" + c.password);
}

Result<std::string> ParseBearer(std::string_view header) {
  header = Trim(header);
  if (!StartsWithNoCase(header, "Bearer ")) return InvalidArgument("not Bearer credentials");
  std::string_view token = Trim(header.substr(7));
  if (token.empty()) return InvalidArgument("empty Bearer token");
  return std::string(token);
}

std::string HttpResponse::Header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? "" : it->second;
}

Result<HttpResponse> ParseHttpResponse(std::string_view raw) {
  size_t end = raw.find("\r\n\r\n");
  if (end == std::string_view::npos) {
    return InvalidArgument(raw.size() > kMaxHeaderBytes ? "response header too long"
                                                        : "truncated response header");
  }
  if (end > kMaxHeaderBytes) return InvalidArgument("response header too long");
  std::string_view head = raw.substr(0, end);
  std::string_view body = raw.substr(end + 4);
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  if (status_line.substr(0, 5) != "HTTP/" || status_line.size() < 12 || status_line[8] != ' ') {
    return InvalidArgument("bad status line");
  }
  HttpResponse response;
  auto [ptr, ec] =
      std::from_chars(status_line.data() + 9, status_line.data() + 12, response.status);
  if (ec != std::errc() || ptr != status_line.data() + 12 || response.status < 100 ||
      response.status > 599) {
    return InvalidArgument("bad status code");
  }
  std::string_view rest = eol == std::string_view::npos ? std::string_view() : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t next = rest.find("\r\n");
    std::string_view line = rest.substr(0, next);
    rest = next == std::string_view::npos ? std::string_view() : rest.substr(next + 2);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) return InvalidArgument("bad header line");
    response.headers[Lower(Trim(line.substr(0, colon)))] =
        std::string(Trim(line.substr(colon + 1)));
  }
  if (Lower(response.Header("transfer-encoding")) == "chunked") {
    for (;;) {
      size_t line_end = body.find("\r\n");
      if (line_end == std::string_view::npos) return InvalidArgument("truncated chunk");
      size_t size = 0;
      std::string_view size_text = body.substr(0, line_end);
      if (size_t semi = size_text.find(';'); semi != std::string_view::npos) {
        size_text = size_text.substr(0, semi);
      }
      auto [p, e] =
          std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
      if (e != std::errc() || p != size_text.data() + size_text.size() || size_text.empty()) {
        return InvalidArgument("bad chunk size");
      }
      body.remove_prefix(line_end + 2);
      if (size == 0) break;
      if (body.size() < size + 2 || body.substr(size, 2) != "\r\n") {
        return InvalidArgument("truncated chunk");
      }
      response.body.append(body.substr(0, size));
      body.remove_prefix(size + 2);
    }
  } else if (std::string length = response.Header("content-length"); !length.empty()) {
    size_t n = 0;
    auto [p, e] = std::from_chars(length.data(), length.data() + length.size(), n);
    if (e != std::errc() || p != length.data() + length.size()) {
      return InvalidArgument("bad Content-Length");
    }
    if (body.size() < n) return InvalidArgument("truncated response body");
    response.body = std::string(body.substr(0, n));
  } else {
    response.body = std::string(body);
  }
  return response;
}

bool SecretsEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace ec::ecconfigd
