// EC_CHECK / EC_DCHECK / EC_PANIC: invariants. A broken invariant is a bug, not bad input: it
// prints file:line and the condition to stderr and aborts (so a core or sanitizer report follows).
#pragma once

namespace ec::internal {
[[noreturn]] void CheckFailed(const char* file, int line, const char* what);
}  // namespace ec::internal

#define EC_CHECK(cond) \
  ((cond) ? (void)0 : ::ec::internal::CheckFailed(__FILE__, __LINE__, "check failed: " #cond))
#define EC_PANIC(msg) ::ec::internal::CheckFailed(__FILE__, __LINE__, msg)
#ifdef NDEBUG
#define EC_DCHECK(cond) ((void)0)
#else
#define EC_DCHECK(cond) EC_CHECK(cond)
#endif
