// DnsResolver: the real Resolver. Sends each query over UDP (and, for a truncated answer with
// dns_fallback_to_tcp on, again over TCP to the same server) to the nameservers of a
// resolv.conf-style file (`resolv_conf`; "nameserver IP" or "nameserver IP:PORT", the port
// form being ours so tests can point at a dnsmasq on 127.0.0.x:high-port; "options timeout:N
// attempts:N"), trying the next server on a timeout, and answers on the loop thread.
// libevent's evdns cannot ask for MX records, so the query and answer are our own
// (dns_message.h). Owned by MtaDaemon; loop thread only.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/event/address.h"
#include "common/event/event_base.h"
#include "mta/dns/dns_message.h"
#include "mta/dns/dns_tcp.h"
#include "mta/dns/resolver.h"

namespace ec::dns {

struct ResolverConfig {
  std::vector<event::SocketAddress> nameservers;
  std::chrono::milliseconds timeout{5000};  // per try
  int attempts = 2;                         // rounds over all nameservers
  bool tcp_fallback = false;  // dns_fallback_to_tcp: ask a truncated answer's server over TCP
};

// Parses resolv.conf text; unknown lines are ignored as the C library does.
Result<ResolverConfig> ParseResolvConf(std::string_view text);

class DnsResolver : public Resolver {
 public:
  DnsResolver(event::EventBase& base, ResolverConfig config);
  ~DnsResolver() override;

  void LookupMx(const std::string& name, MxCallback done) override;
  void LookupAddresses(const std::string& name, bool ipv6, AddressCallback done) override;

 private:
  struct Query;
  void Send(RecordType type, const std::string& name,
            std::function<void(Result<DnsResponse>)> done);
  void Try(Query* q);
  static Result<DnsResponse> Classify(const std::string& name, DnsResponse r);  // by rcode
  void OnTruncated(Query* q, DnsResponse r);
  void OnTcpAnswer(uint64_t key, Result<DnsResponse> r);
  void Finish(uint64_t key, Result<DnsResponse> r);
  static void OnSocket(evutil_socket_t fd, short what, void* arg);

  event::EventBase& base_;
  ResolverConfig config_;
  uint64_t next_key_ = 1;
  uint16_t next_id_;
  std::unordered_map<uint64_t, std::unique_ptr<Query>> queries_;
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
