// StateList: the recipient states the spool's index keeps per message, in 16 bytes. Most mail has
// one recipient, so one state is stored inline (no heap block, where a std::vector costs 24
// bytes plus a 32-byte allocation); two or more live in one heap array. A million queued
// messages thus save ~48 bytes each (bench/queue/README.md). Plain value type, any thread.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <new>
#include <span>
#include <vector>

#include "mta/spool/envelope.h"

namespace ec::spool {

class StateList {
 public:
  StateList() { SetMany(0, nullptr); }
  // `n` recipients, all pending.
  explicit StateList(size_t n) {
    if (n == 1) {
      new (&u_.one) RecipientState{};
    } else {
      SetMany(n, n ? new RecipientState[n]() : nullptr);
    }
  }
  explicit StateList(std::span<const RecipientState> states) {
    if (states.size() == 1) {
      new (&u_.one) RecipientState(states[0]);
    } else {
      SetMany(states.size(), states.empty() ? nullptr : new RecipientState[states.size()]);
      std::copy(states.begin(), states.end(), u_.many.states);
    }
  }
  StateList(const StateList& other) : StateList(other.span()) {}
  StateList(StateList&& other) noexcept : u_(other.u_) { other.SetMany(0, nullptr); }
  StateList& operator=(const StateList& other) {
    if (this != &other) *this = StateList(other);
    return *this;
  }
  StateList& operator=(StateList&& other) noexcept {
    if (this != &other) {
      Free();
      u_ = other.u_;
      other.SetMany(0, nullptr);
    }
    return *this;
  }
  ~StateList() { Free(); }

  size_t size() const { return inline_one() ? 1 : u_.many.n; }
  // `i` < size().
  const RecipientState& operator[](size_t i) const {
    return inline_one() ? u_.one : u_.many.states[i];
  }
  void Set(size_t i, const RecipientState& state) {
    if (inline_one()) {
      u_.one = state;
    } else {
      u_.many.states[i] = state;
    }
  }
  std::span<const RecipientState> span() const {
    return inline_one() ? std::span<const RecipientState>(&u_.one, 1)
                        : std::span<const RecipientState>(u_.many.states, u_.many.n);
  }
  std::vector<RecipientState> ToVector() const {
    auto s = span();
    return std::vector<RecipientState>(s.begin(), s.end());
  }

 private:
  // Marks the array form in the field that holds a state's kind in the inline form: both
  // structs start with a RecipientState::Kind, so either may read it (common initial sequence).
  static constexpr auto kManyTag = static_cast<RecipientState::Kind>(0xFF);
  struct Many {
    RecipientState::Kind tag;
    uint32_t n;
    RecipientState* states;
  };
  union Storage {
    Storage() : many{} {}
    RecipientState one;
    Many many;
  };

  bool inline_one() const { return u_.many.tag != kManyTag; }
  void SetMany(size_t n, RecipientState* states) {
    new (&u_.many) Many{kManyTag, static_cast<uint32_t>(n), states};
  }
  void Free() {
    if (!inline_one()) delete[] u_.many.states;
  }

  Storage u_;
};

static_assert(sizeof(StateList) == 16);

}  // namespace ec::spool
