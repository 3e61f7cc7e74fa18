#include "mta/spool/message_route.h"

namespace ec::spool {
namespace {

// Length-prefixed, so no two different routes encode alike whatever bytes the strings hold.
void AppendRouteField(std::string* key, std::string_view s) {
  const uint32_t n = static_cast<uint32_t>(s.size());
  for (int i = 0; i < 4; ++i) key->push_back(static_cast<char>(n >> (8 * i)));
  key->append(s);
}

}  // namespace

std::string_view AddressDomain(std::string_view address) {
  const size_t at = address.rfind('@');
  return at == std::string_view::npos ? std::string_view() : address.substr(at + 1);
}

MessageRoute RouteOf(const Envelope& envelope) {
  MessageRoute route;
  route.rcpt_domains.reserve(envelope.rcpts.size());
  for (const Recipient& r : envelope.rcpts) {
    route.rcpt_domains.emplace_back(AddressDomain(r.address));
  }
  route.binding = envelope.binding;
  route.binding_group = envelope.binding_group;
  return route;
}

uint32_t RouteTable::Intern(const Envelope& envelope) {
  key_.clear();
  AppendRouteField(&key_, envelope.binding);
  AppendRouteField(&key_, envelope.binding_group);
  for (const Recipient& r : envelope.rcpts) {
    AppendRouteField(&key_, AddressDomain(r.address));
    if (key_.size() > kMaxKeyBytes) return kNone;
  }
  if (auto it = index_.find(key_); it != index_.end()) return it->second;
  if (routes_.size() >= kMaxRoutes) return kNone;
  const auto index = static_cast<uint32_t>(routes_.size());
  routes_.push_back(RouteOf(envelope));
  index_.emplace(key_, index);
  return index;
}

}  // namespace ec::spool
