// Resolver: the asynchronous DNS lookups outbound routing needs (MX, A, AAAA), answered on the
// loop thread. An interface so the scheduler can be tested with canned answers; DnsResolver
// (dns_resolver.h) is the real one, on c-ares: DNS over UDP (TCP for truncated answers, when
// dns_fallback_to_tcp is on) to the nameservers the config names.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "common/base/status.h"

namespace ec::dns {

struct MxRecord {
  uint16_t preference = 0;
  std::string exchange;  // hostname, no trailing dot
  bool operator==(const MxRecord&) const = default;
};

// kNotFound: the name does not exist (NXDOMAIN). An empty vector: it exists, but has no
// records of that type (NODATA). kUnavailable/kDeadlineExceeded: try again later.
using MxCallback = std::function<void(Result<std::vector<MxRecord>>)>;
using AddressCallback = std::function<void(Result<std::vector<std::string>>)>;  // IP literals

class Resolver {
 public:
  virtual ~Resolver() = default;
  // MX records sorted by preference.
  virtual void LookupMx(const std::string& name, MxCallback done) = 0;
  // A records (and AAAA when `ipv6`, IPv4 first). Empty: NODATA for every family asked.
  virtual void LookupAddresses(const std::string& name, bool ipv6, AddressCallback done) = 0;
};

}  // namespace ec::dns
