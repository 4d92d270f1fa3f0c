#pragma once
// Assertions that stay on in every build type (TigerBeetle's rule): a broken
// invariant of essim's own code stops the run and names where it happened.
//
// When an assertion fires inside a simulation, the message also carries the
// seed, the trace step and the simulated time, so the failure can be replayed.

#include <cstdint>
#include <string_view>

namespace essim::sim {

// What an assertion reports about the simulation running on this thread.
struct AssertContext {
  std::uint64_t seed = 0;
  std::uint64_t step = 0;
  std::int64_t now_us = 0;
};

// Installs `context` as the one reported by assertions on this thread until the
// returned guard is destroyed. Guards nest.
class AssertContextGuard {
 public:
  explicit AssertContextGuard(const AssertContext* context);
  ~AssertContextGuard();
  AssertContextGuard(const AssertContextGuard&) = delete;
  AssertContextGuard& operator=(const AssertContextGuard&) = delete;

 private:
  const AssertContext* previous_;
};

[[noreturn]] void assert_failed(std::string_view condition, std::string_view file, int line,
                                std::string_view message);

}  // namespace essim::sim

#define ESSIM_ASSERT(condition)                                        \
  do {                                                                 \
    if (!(condition)) [[unlikely]]                                     \
      ::essim::sim::assert_failed(#condition, __FILE__, __LINE__, {}); \
  } while (false)

#define ESSIM_ASSERT_MSG(condition, message)                                  \
  do {                                                                        \
    if (!(condition)) [[unlikely]]                                            \
      ::essim::sim::assert_failed(#condition, __FILE__, __LINE__, (message)); \
  } while (false)
