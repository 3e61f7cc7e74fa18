#include "ecconfigd/enrol_request.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "ecconfigd/enrol_tokens.h"
#include "ecconfigd/protocol.h"
#include "msgc/curve_keys.h"
#include "msgc/node_name.h"

namespace ec::ecconfigd {
namespace {

// ZeroMQ's Z85 alphabet (rfc.zeromq.org/spec/32).
constexpr char kZ85[] =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr size_t kZ85KeyLength = 40;

}  // namespace

bool IsEnrolTarget(std::string_view uri) {
  return uri.substr(0, 7) == "/clone/" || uri.substr(0, 7) == "/enrol/";
}

Result<EnrolTarget> ParseEnrolTarget(std::string_view uri) {
  if (uri.size() > 1024) return InvalidArgument("request target too long");
  if (!IsEnrolTarget(uri)) return NotFound("no such resource");
  EnrolTarget target;
  target.kind = uri[1] == 'c' ? EnrolTarget::Kind::kClone : EnrolTarget::Kind::kEnrol;
  std::string_view rest = uri.substr(7), query;
  if (size_t q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  if (!msgc::IsValidNodeName(rest)) return InvalidArgument("bad node name");
  target.node = std::string(rest);
  EC_ASSIGN_OR_RETURN(auto params, ParseQueryString(query));
  if (target.kind == EnrolTarget::Kind::kClone) {
    auto it = params.find("token");
    if (it == params.end() || it->second.empty()) {
      return Status(StatusCode::kPermissionDenied, "the clone package needs ?token=");
    }
    if (it->second.size() > 256) return InvalidArgument("token too long");
    target.token = it->second;
  }
  return target;
}

Result<std::string> ParseEnrolBody(std::string_view body) {
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  if (!body.empty() && body.back() == '\r') body.remove_suffix(1);
  if (body.size() != kZ85KeyLength) {
    return InvalidArgument("the body must be the node's CURVE public key (40 Z85 characters)");
  }
  for (char c : body) {
    if (c == '\0' || std::strchr(kZ85, c) == nullptr) {
      return InvalidArgument("the public key holds a character outside Z85");
    }
  }
  // Z85 characters that do not decode (a group above 2^32) would be committed as a key no
  // member can load.
  if (!msgc::IsValidZ85Key(body)) return InvalidArgument("the public key is not valid Z85");
  return std::string(body);
}

Result<std::string> ParseHostHeader(std::string_view host) {
  if (host.empty() || host.size() > 255) return InvalidArgument("bad Host header");
  bool ok = std::all_of(host.begin(), host.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == ':' ||
           c == '[' || c == ']';
  });
  if (!ok) return InvalidArgument("bad Host header");
  return std::string(host);
}

}  // namespace ec::ecconfigd
