// Lower-case hex of a byte string: token digests, salts, generated secrets.
#ifndef EC_COMMON_BASE_HEX_H_
#define EC_COMMON_BASE_HEX_H_

#include <cstddef>
#include <string>

namespace ec {

inline std::string HexLower(const unsigned char* p, size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  s.reserve(2 * n);
  for (size_t i = 0; i < n; ++i) {
    s.push_back(kDigits[p[i] >> 4]);
    s.push_back(kDigits[p[i] & 15]);
  }
  return s;
}

}  // namespace ec

#endif  // EC_COMMON_BASE_HEX_H_
