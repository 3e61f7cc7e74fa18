#include "mta/smtp/relay.h"

#include <algorithm>

namespace ec::smtp {
namespace {

std::string Normalize(std::string_view domain) {
  if (!domain.empty() && domain.back() == '.') domain.remove_suffix(1);
  std::string out(domain);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; });
  return out;
}

// Routing hints that a downstream host might honour ("user%other@ours", "a!b@ours",
// "\"u@other\"@ours"): delivering them is relaying in disguise.
bool HasRoutingHint(const Mailbox& mailbox) {
  return mailbox.local_part.find_first_of("%!@") != std::string::npos;
}

}  // namespace

DomainPatternList::DomainPatternList(const std::vector<std::string>& patterns) {
  for (const std::string& p : patterns) Add(p);
}

void DomainPatternList::Add(std::string_view pattern) {
  if (pattern.size() > 2 && pattern.substr(0, 2) == "*.") {
    suffixes_.push_back(Normalize(pattern.substr(1)));
  } else if (!pattern.empty()) {
    exact_.push_back(Normalize(pattern));
  }
}

bool DomainPatternList::Matches(std::string_view domain) const {
  if (domain.empty() || domain.front() == '[') return false;
  const std::string d = Normalize(domain);
  for (const std::string& e : exact_) {
    if (d == e) return true;
  }
  for (const std::string& s : suffixes_) {
    // ".example.com" must be a proper suffix with at least one label before it.
    if (d.size() > s.size() && d.compare(d.size() - s.size(), s.size(), s) == 0) return true;
  }
  return false;
}

bool ClientMayRelay(const RelayConfig& config, const net::IpAddress* client, bool authenticated) {
  if (config.open_relay || authenticated) return true;
  return client != nullptr && config.relay_hosts.Contains(*client);
}

RcptVerdict DecideRecipient(const RelayConfig& config, const Mailbox& recipient,
                            bool client_may_relay) {
  // <postmaster> without a domain is always accepted (RFC 5321 §4.5.1).
  if (recipient.domain.empty()) return RcptVerdict::kAccept;
  const bool ours =
      !recipient.domain_is_literal && (config.local_domains.Matches(recipient.domain) ||
                                       config.relay_domains.Matches(recipient.domain));
  if (ours && !HasRoutingHint(recipient)) return RcptVerdict::kAccept;
  return client_may_relay ? RcptVerdict::kRelay : RcptVerdict::kDenied;
}

}  // namespace ec::smtp
