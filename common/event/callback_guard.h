// CallNoThrow: the last C++ frame under every libevent C callback. An exception that reaches it
// is logged (error level, with `where`) and swallowed, so none unwinds through libevent's C code.
// Runs on whatever thread calls it (the loop thread for libevent callbacks).
#pragma once

#include <exception>
#include <utility>

#include "common/log/logger.h"

namespace ec::event {

template <typename F>
void CallNoThrow(const char* where, F&& f) noexcept {
  try {
    std::forward<F>(f)();
  } catch (const std::exception& e) {
    EC_LOG(kError, "callback threw").Field("where", where).Field("error", e.what());
  } catch (...) {
    EC_LOG(kError, "callback threw").Field("where", where).Field("error", "unknown exception");
  }
}

}  // namespace ec::event
