#include "mta/spool/crc32c.h"

#include <array>
#include <cstring>

namespace ec::spool {
namespace {

constexpr uint32_t kPoly = 0x82F63B78;  // reflected Castagnoli polynomial

constexpr std::array<uint32_t, 256> MakeTable() {
  std::array<uint32_t, 256> table{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ kPoly : c >> 1;
    table[i] = c;
  }
  return table;
}
constexpr std::array<uint32_t, 256> kTable = MakeTable();

uint32_t SoftwareCrc(uint32_t crc, const uint8_t* p, size_t n) {
  for (size_t i = 0; i < n; ++i) crc = kTable[(crc ^ p[i]) & 0xFF] ^ (crc >> 8);
  return crc;
}

// a * b modulo the polynomial, both as reflected bit strings (x^0 in the top bit).
uint32_t MultModP(uint32_t a, uint32_t b) {
  uint32_t m = 1u << 31, p = 0;
  for (;;) {
    if (a & m) {
      p ^= b;
      if ((a & (m - 1)) == 0) break;
    }
    m >>= 1;
    b = (b & 1) ? (b >> 1) ^ kPoly : b >> 1;
  }
  return p;
}

// x^(2^k) modulo the polynomial, for k = 0..31.
std::array<uint32_t, 32> MakeX2nTable() {
  std::array<uint32_t, 32> table{};
  uint32_t p = 1u << 30;  // x^1
  table[0] = p;
  for (size_t k = 1; k < table.size(); ++k) table[k] = p = MultModP(p, p);
  return table;
}

// x^(8 * n) modulo the polynomial: shifts a CRC over n zero bytes when multiplied by it.
uint32_t XPow8n(uint64_t n) {
  static const std::array<uint32_t, 32> kX2n = MakeX2nTable();
  uint32_t p = 1u << 31;  // x^0
  for (unsigned k = 3; n != 0; n >>= 1, ++k) {
    if (n & 1) p = MultModP(kX2n[k & 31], p);
  }
  return p;
}

#if defined(__x86_64__)
// The crc32 instruction has a latency of three cycles and a throughput of one, so one chain of it
// runs at a third of the speed the CPU allows. Long inputs are taken in blocks of three strides
// whose CRCs are computed side by side, then joined: crc(A B) = crc(A) * x^(8 |B|) + crc(B) when
// B's starts from zero, the multiplication being four table lookups (ShiftTable). Recovery
// checksums every byte of the spool: this was a third of its CPU time (bench/queue/README.md).
constexpr size_t kStride = 256;

// Multiplies a CRC register by x^(8 * kStride) modulo the polynomial: one table per byte.
struct ShiftTable {
  std::array<std::array<uint32_t, 256>, 4> t;
  uint32_t operator()(uint32_t crc) const {
    return t[0][crc & 0xFF] ^ t[1][(crc >> 8) & 0xFF] ^ t[2][(crc >> 16) & 0xFF] ^
           t[3][crc >> 24];
  }
};

const ShiftTable& StrideShift() {
  static const ShiftTable table = [] {
    ShiftTable s;
    const uint32_t x = XPow8n(kStride);
    for (uint32_t i = 0; i < 4; ++i) {
      for (uint32_t b = 0; b < 256; ++b) s.t[i][b] = MultModP(x, b << (8 * i));
    }
    return s;
  }();
  return table;
}

__attribute__((target("sse4.2"))) uint32_t HardwareCrc(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  if (n >= 3 * kStride) {
    const ShiftTable& shift = StrideShift();
    do {
      uint64_t c1 = 0, c2 = 0;
      for (size_t i = 0; i < kStride; i += 8) {
        uint64_t w0, w1, w2;
        std::memcpy(&w0, p + i, 8);
        std::memcpy(&w1, p + kStride + i, 8);
        std::memcpy(&w2, p + 2 * kStride + i, 8);
        c = __builtin_ia32_crc32di(c, w0);
        c1 = __builtin_ia32_crc32di(c1, w1);
        c2 = __builtin_ia32_crc32di(c2, w2);
      }
      c = shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c1);
      c = shift(static_cast<uint32_t>(c)) ^ static_cast<uint32_t>(c2);
      p += 3 * kStride;
      n -= 3 * kStride;
    } while (n >= 3 * kStride);
  }
  while (n >= 8) {
    uint64_t word;
    std::memcpy(&word, p, 8);
    c = __builtin_ia32_crc32di(c, word);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n > 0) {
    c32 = __builtin_ia32_crc32qi(c32, *p++);
    --n;
  }
  return c32;
}

bool HaveSse42() {
  static const bool have = __builtin_cpu_supports("sse4.2");
  return have;
}
#endif

}  // namespace

uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b) {
  // crc_a shifted over len_b zero bytes: multiply by x^(8 * len_b).
  return MultModP(XPow8n(len_b), crc_a) ^ crc_b;
}

uint32_t Crc32c(uint32_t crc, const void* data, size_t size) {
  const auto* p = static_cast<const uint8_t*>(data);
  crc = ~crc;
#if defined(__x86_64__)
  crc = HaveSse42() ? HardwareCrc(crc, p, size) : SoftwareCrc(crc, p, size);
#else
  crc = SoftwareCrc(crc, p, size);
#endif
  return ~crc;
}

}  // namespace ec::spool
