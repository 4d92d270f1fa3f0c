#include "sim/assert.h"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

#include <essim/result.h>

namespace essim::sim {
namespace {
thread_local const AssertContext* current_context = nullptr;
}  // namespace

AssertContextGuard::AssertContextGuard(const AssertContext* context) : previous_(current_context) {
  current_context = context;
}

AssertContextGuard::~AssertContextGuard() {
  current_context = previous_;
}

void assert_failed(std::string_view condition, std::string_view file, int line,
                   std::string_view message) {
  std::fprintf(stderr, "essim: assertion failed: %.*s\n  at %.*s:%d\n",
               static_cast<int>(condition.size()), condition.data(), static_cast<int>(file.size()),
               file.data(), line);
  if (!message.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(message.size()), message.data());
  }
  if (current_context != nullptr) {
    std::fprintf(stderr, "  in simulation seed=%llu step=%llu time_us=%lld\n",
                 static_cast<unsigned long long>(current_context->seed),
                 static_cast<unsigned long long>(current_context->step),
                 static_cast<long long>(current_context->now_us));
  }
  std::fflush(stderr);
  std::abort();
}

}  // namespace essim::sim

namespace essim::detail {

// A Result asked for the side it does not hold. It throws rather than aborts:
// in a user's decider or codec it is a bug of the code under test, which
// essim reports as a finding with its seed (model/user_code.h).
void result_misused(const char* what) {
  throw std::logic_error(what);
}

}  // namespace essim::detail
