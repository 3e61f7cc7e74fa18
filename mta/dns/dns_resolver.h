// DnsResolver: the real Resolver, on c-ares (cares_channel.h): random query ids and source ports,
// answers matched on id, question and server address, EDNS0. It asks the nameservers of a
// resolv.conf-style file (`resolv_conf`; "nameserver IP" or "nameserver IP:PORT", the port form
// being ours so tests can point at a dnsmasq on 127.0.0.x:high-port; "options timeout:N
// attempts:N") over UDP, in order, the next one on a timeout. A truncated answer is asked again
// over TCP with dns_fallback_to_tcp on (and used as far as it goes if TCP fails), else used as
// far as it goes. Records are taken from answers by dns_answer.h (owner names checked). Owned by
// MtaDaemon; loop thread only.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "common/event/address.h"
#include "common/event/event_base.h"
#include "mta/dns/dns_answer.h"
#include "mta/dns/resolver.h"

namespace ec::dns {

class CaresChannel;

struct ResolverConfig {
  std::vector<event::SocketAddress> nameservers;
  std::chrono::milliseconds timeout{5000};  // of a first try; each round doubles it (c-ares)
  int attempts = 2;                         // rounds over all nameservers
  bool tcp_fallback = false;  // dns_fallback_to_tcp: ask a truncated answer again over TCP
};

// Parses resolv.conf text; unknown lines are ignored as the C library does.
Result<ResolverConfig> ParseResolvConf(std::string_view text);

class DnsResolver : public Resolver {
 public:
  // Without nameservers (or if c-ares cannot start), every lookup fails transiently, saying why.
  DnsResolver(event::EventBase& base, ResolverConfig config);
  ~DnsResolver() override;

  void LookupMx(const std::string& name, MxCallback done) override;
  void LookupAddresses(const std::string& name, bool ipv6, AddressCallback done) override;

 private:
  using AnswerCallback = std::function<void(Result<DnsAnswer>)>;
  void Lookup(const std::string& name, RecordType type, AnswerCallback done);
  void OnTruncated(const std::string& name, DnsAnswer truncated, AnswerCallback done);

  event::EventBase& base_;
  Status broken_;  // why there are no channels, when there are none
  std::unique_ptr<CaresChannel> udp_;
  std::unique_ptr<CaresChannel> tcp_;  // with tcp_fallback only
};

// The answer to "A and AAAA of one name" from the two lookups: every address (IPv4 first) if
// either found some; else a transient error of either; else NXDOMAIN; else NODATA (empty).
Result<std::vector<std::string>> MergeAddressLookups(Result<std::vector<std::string>> v4,
                                                     Result<std::vector<std::string>> v6);

// A DnsResolver from a resolv.conf path ("" = /etc/resolv.conf). A missing file gives a
// resolver without nameservers, whose lookups fail (transiently) with a clear message.
Result<std::unique_ptr<Resolver>> MakeResolver(event::EventBase& base, const std::string& path,
                                               bool tcp_fallback = false);

}  // namespace ec::dns
