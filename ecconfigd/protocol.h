// The HTTPS protocol between eccfg and ecconfigd, as pure functions both sides share (and the
// fuzz target drives): request targets, credentials headers, and the HTTP/1.1 response framing
// the client reads. Every function takes untrusted bytes and returns a Status for bad input.
//
//   GET  /config/<subcluster>/fetch[?have=<hex>]       Bearer <cluster secret>
//        200, X-EC-Head: <hex>, body: a git pack of what `have` lacks
//   GET  /config/<subcluster>/wait?have=<hex>[&timeout=<s>]   Bearer <cluster secret>
//        200, body "<hex>\n" as soon as the head differs from `have` (or at the timeout)
//   POST /config/<subcluster>/push?old=<hex>&new=<hex>  Basic <admin user:password>
//        body: a git pack; 200 "<hex>\n" | 409 (stale: X-EC-Head names the head) | 400 (bad pack)
//   401 bad or missing credentials, 404 unknown subcluster or operation.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/base/status.h"

namespace ec::ecconfigd {

inline constexpr char kHeadHeader[] = "X-EC-Head";

struct RequestTarget {
  std::string subcluster;
  std::string operation;  // fetch, wait, push
  std::map<std::string, std::string> params;
};

// Parses "/config/<subcluster>/<operation>?k=v&...". Subcluster names are 1..58 of
// [A-Za-z0-9_-] (msgc::IsValidSubclusterName).
Result<RequestTarget> ParseRequestTarget(std::string_view uri);
bool ValidSubclusterName(std::string_view name);
// "k=v&k2=v2" (%-escapes and '+' decoded; at most 16 parameters).
Result<std::map<std::string, std::string>> ParseQueryString(std::string_view query);

struct BasicCredentials {
  std::string user;
  std::string password;
};
// "Basic <base64(user:password)>".
Result<BasicCredentials> ParseBasicAuth(std::string_view header);
std::string FormatBasicAuth(const BasicCredentials& credentials);
// "Bearer <token>".
Result<std::string> ParseBearer(std::string_view header);

std::string Base64Encode(std::string_view in);
Result<std::string> Base64Decode(std::string_view in);

// A complete HTTP/1.1 response as read until the server closed the connection.
struct HttpResponse {
  int status = 0;
  std::map<std::string, std::string> headers;  // names lower-cased
  std::string body;
  std::string Header(const std::string& lower_name) const;
};
// Handles Content-Length, chunked and read-until-close bodies; refuses malformed framing.
Result<HttpResponse> ParseHttpResponse(std::string_view raw);

// Constant-time comparison for secrets.
bool SecretsEqual(std::string_view a, std::string_view b);

}  // namespace ec::ecconfigd
