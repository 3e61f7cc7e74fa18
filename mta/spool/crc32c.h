// CRC-32C (Castagnoli), the checksum of every spool record. Uses the SSE4.2 instruction when the
// CPU has it, a table otherwise; both give the same values. Pure functions, any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ec::spool {

// Extends `crc` (0 to start) over `size` bytes.
uint32_t Crc32c(uint32_t crc, const void* data, size_t size);
inline uint32_t Crc32c(std::string_view bytes) { return Crc32c(0, bytes.data(), bytes.size()); }
// The CRC of A followed by B, from crc(A), crc(B) and the length of B (zlib's crc32_combine),
// so a body checksummed while it streamed in can get a prefix without being read again.
uint32_t Crc32cCombine(uint32_t crc_a, uint32_t crc_b, uint64_t len_b);

}  // namespace ec::spool
