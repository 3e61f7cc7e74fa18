// Relay control, decided at RCPT: may this client send mail to this recipient? A recipient is
// accepted when its domain is one we receive mail for (local_domains / relay_domains, with left
// globs "*.example.com"), or when the client may relay (open_relay, relay_hosts CIDR, AUTH).
// Odd forms never bypass it: address literals are never "ours", and local parts that carry a
// routing hint ('%', '!', '@' inside quotes) are treated as relaying.
// Immutable after construction; safe to share between sessions and threads.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "mta/smtp/address.h"
#include "common/net/cidr.h"

namespace ec::smtp {

// A list of domain names and left globs: "example.com" matches only itself, "*.example.com"
// matches every subdomain (any depth) but not example.com. Case-insensitive; a trailing dot on
// either side is ignored.
class DomainPatternList {
 public:
  DomainPatternList() = default;
  explicit DomainPatternList(const std::vector<std::string>& patterns);
  void Add(std::string_view pattern);
  bool Matches(std::string_view domain) const;
  bool empty() const { return exact_.empty() && suffixes_.empty(); }

 private:
  std::vector<std::string> exact_;     // lower case
  std::vector<std::string> suffixes_;  // ".example.com", lower case
};

struct RelayConfig {
  bool open_relay = false;
  net::CidrSet relay_hosts;              // clients that may relay anywhere
  DomainPatternList relay_domains;  // recipient domains accepted from anyone (relay_domains)
  DomainPatternList local_domains;  // domains delivered here; also accepted from anyone
};

enum class RcptVerdict {
  kAccept,  // the domain is ours (local or relay_domains), or postmaster
  kRelay,   // not ours, but the client may relay
  kDenied,  // 550 5.7.1 relaying denied
};

// Whether the client may relay anywhere: open_relay, relay_hosts, or a successful AUTH.
bool ClientMayRelay(const RelayConfig& config, const net::IpAddress* client, bool authenticated);

RcptVerdict DecideRecipient(const RelayConfig& config, const Mailbox& recipient,
                            bool client_may_relay);

}  // namespace ec::smtp
