#include "common/net/cidr.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace ec::net {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

std::optional<IpAddress> IpAddress::Parse(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) return std::nullopt;
  if (text.find('\0') != std::string_view::npos) return std::nullopt;  // inet_pton would stop there
  char buf[INET6_ADDRSTRLEN];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (inet_pton(AF_INET, buf, ip.bytes.data() + 12) == 1) {
    std::memcpy(ip.bytes.data(), kMappedPrefix, sizeof(kMappedPrefix));
    ip.is_v4 = true;
    return ip;
  }
  if (inet_pton(AF_INET6, buf, ip.bytes.data()) == 1) {
    ip.is_v4 = std::memcmp(ip.bytes.data(), kMappedPrefix, sizeof(kMappedPrefix)) == 0;
    return ip;
  }
  return std::nullopt;
}

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  const char* s = is_v4 ? inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof(buf))
                        : inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  return s ? std::string(s) : std::string();
}

Result<Cidr> Cidr::Parse(std::string_view text) {
  const size_t slash = text.find('/');
  const std::string_view addr_text = text.substr(0, slash);
  std::optional<IpAddress> ip = IpAddress::Parse(addr_text);
  if (!ip) {
    return InvalidArgument("expected an IP address or CIDR block, found '" + std::string(text) +
                           "'");
  }
  const int max_len = ip->is_v4 ? 32 : 128;
  int len = max_len;
  if (slash != std::string_view::npos) {
    const std::string_view len_text = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
    if (ec != std::errc() || end != len_text.data() + len_text.size() || len_text.empty() ||
        len < 0 || len > max_len) {
      return InvalidArgument("bad CIDR \"" + std::string(text) + "\": prefix length must be 0.." +
                             std::to_string(max_len));
    }
  }
  Cidr cidr;
  cidr.is_v4_ = ip->is_v4;
  cidr.prefix_ = ip->is_v4 ? len + 96 : len;
  cidr.network_ = *ip;
  // Host bits set ("10.1.2.3/8") are almost always a typo in an ACL: refuse them.
  for (int bit = cidr.prefix_; bit < 128; ++bit) {
    if (cidr.network_.bytes[bit / 8] & (0x80 >> (bit % 8))) {
      return InvalidArgument("bad CIDR \"" + std::string(text) + "\": host bits are set");
    }
  }
  return cidr;
}

bool Cidr::Contains(const IpAddress& ip) const {
  // An IPv6 range other than ::/0 never matches an IPv4 client and vice versa, except through
  // the mapped form, which is the same 128-bit value.
  const int full = prefix_ / 8;
  if (std::memcmp(ip.bytes.data(), network_.bytes.data(), full) != 0) return false;
  const int rest = prefix_ % 8;
  if (rest == 0) return true;
  const uint8_t mask = static_cast<uint8_t>(0xff00 >> rest);
  return (ip.bytes[full] & mask) == network_.bytes[full];
}

std::string Cidr::ToString() const {
  return network_.ToString() + "/" + std::to_string(prefix_length());
}

Result<CidrSet> CidrSet::Parse(const std::vector<std::string>& entries) {
  CidrSet set;
  for (const std::string& entry : entries) {
    EC_ASSIGN_OR_RETURN(Cidr cidr, Cidr::Parse(entry));
    set.Add(cidr);
  }
  return set;
}

bool CidrSet::Contains(std::string_view ip) const {
  std::optional<IpAddress> parsed = IpAddress::Parse(ip);
  return parsed && Contains(*parsed);
}

std::optional<size_t> CidrSet::MostSpecific(const IpAddress& ip) const {
  std::optional<size_t> best;
  for (size_t i = 0; i < ranges_.size(); ++i) {
    if (!ranges_[i].Contains(ip)) continue;
    if (!best || ranges_[i].prefix_length() > ranges_[*best].prefix_length()) best = i;
  }
  return best;
}

}  // namespace ec::net
