// MessageRoute: what queueing a message for delivery needs of its envelope (each recipient's
// domain and the binding the envelope names), and RouteTable, which keeps one copy of each
// distinct route. Spool::Open's scan files every recovered message's route there, so the
// scheduler can queue a large spool at start without reading every envelope a second time
// (Spool::ForEachRoute). Pure, no I/O; RouteTable is not thread-safe (the spool guards it).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "mta/spool/envelope.h"

namespace ec::spool {

struct MessageRoute {
  // Per envelope recipient, in order: its address after the last '@', as written (not
  // lower-cased); empty when the address has no '@'.
  std::vector<std::string> rcpt_domains;
  std::string binding;        // Envelope::binding
  std::string binding_group;  // Envelope::binding_group

  bool operator==(const MessageRoute&) const = default;
};

// The part of `address` after its last '@', or "" when it has none.
std::string_view AddressDomain(std::string_view address);
MessageRoute RouteOf(const Envelope& envelope);

// Distinct routes, each stored once and named by a small index. Bounded: past kMaxRoutes
// routes, or for a route whose encoding exceeds kMaxKeyBytes (hundreds of recipients), Intern
// keeps nothing and returns kNone; the caller then reads that envelope again when it needs it.
class RouteTable {
 public:
  static constexpr uint32_t kNone = UINT32_MAX;
  static constexpr size_t kMaxRoutes = 1 << 16;
  static constexpr size_t kMaxKeyBytes = 4096;

  uint32_t Intern(const Envelope& envelope);
  // `index` from Intern, not kNone.
  const MessageRoute& at(uint32_t index) const { return routes_[index]; }
  size_t size() const { return routes_.size(); }

 private:
  std::vector<MessageRoute> routes_;
  std::unordered_map<std::string, uint32_t> index_;  // by encoded route
  std::string key_;                                  // scratch, reused by every Intern
};

}  // namespace ec::spool
