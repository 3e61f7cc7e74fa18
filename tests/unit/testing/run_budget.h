// How many random runs a property test makes. The g++ -O2 pass (scripts/test.sh) runs every
// property test in full in a few seconds; under ASan and UBSan at -O0 the same runs take 20 to
// 50 times longer, so the sanitizer pass runs a tenth of them: enough to take every code path
// the sanitizers watch, while the full count keeps its statistical reach in the optimised pass.
#ifndef EC_TESTS_UNIT_TESTING_RUN_BUDGET_H_
#define EC_TESTS_UNIT_TESTING_RUN_BUDGET_H_

namespace ec::testutil {

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EC_TESTING_SANITIZED 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(EC_TESTING_SANITIZED)
#define EC_TESTING_SANITIZED 1
#endif

// `full` runs in optimised builds, a tenth (at least one) under sanitizers.
constexpr int RunBudget(int full) {
#ifdef EC_TESTING_SANITIZED
  return full / 10 > 0 ? full / 10 : 1;
#else
  return full;
#endif
}

}  // namespace ec::testutil

#endif  // EC_TESTS_UNIT_TESTING_RUN_BUDGET_H_
