// Fuzzes the enrolment requests' parsers (ecconfigd/enrol_request.h): the first line is a
// request target, the second a Host header, the rest an enrol body. Nothing may crash, and what
// parses must be safe to use as a file name and a cluster.boot value.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "ecconfigd/enrol_request.h"
#include "ecconfigd/enrol_tokens.h"
#include "msgc/node_name.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  size_t a = in.find('\n');
  std::string_view target = in.substr(0, a);
  std::string_view rest = a == std::string_view::npos ? "" : in.substr(a + 1);
  size_t b = rest.find('\n');
  std::string_view host = rest.substr(0, b);
  std::string_view body = b == std::string_view::npos ? "" : rest.substr(b + 1);
  if (auto t = ec::ecconfigd::ParseEnrolTarget(target); t.ok()) {
    if (!ec::msgc::IsValidNodeName(t->node) || t->node.front() == '.') std::abort();
  }
  if (auto h = ec::ecconfigd::ParseHostHeader(host); h.ok()) {
    if (h->find('\n') != std::string::npos) std::abort();
  }
  if (auto k = ec::ecconfigd::ParseEnrolBody(body); k.ok()) {
    if (k->size() != 40) std::abort();
  }
  (void)ec::ecconfigd::ParseEnrolTokens(in);
  return 0;
}
