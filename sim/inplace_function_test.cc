#include "sim/inplace_function.h"

#include <gtest/gtest.h>

#include <memory>

namespace essim::sim {
namespace {

TEST(InplaceFunction, CallsAndMoves) {
  int calls = 0;
  InplaceFunction<int(int), 32> f = [&calls](int x) {
    ++calls;
    return x * 2;
  };
  EXPECT_EQ(f(21), 42);
  InplaceFunction<int(int), 32> g = std::move(f);
  EXPECT_FALSE(static_cast<bool>(f));  // NOLINT(bugprone-use-after-move): moved-from is empty
  EXPECT_EQ(g(2), 4);
  EXPECT_EQ(calls, 2);
}

TEST(InplaceFunction, DestroysItsCaptureExactlyOnce) {
  auto token = std::make_shared<int>(0);
  {
    InplaceFunction<void(), 32> f = [token] {};
    EXPECT_EQ(token.use_count(), 2);
    InplaceFunction<void(), 32> g = std::move(f);
    EXPECT_EQ(token.use_count(), 2);
    g.reset();
    EXPECT_EQ(token.use_count(), 1);
    InplaceFunction<void(), 32> h = [token] {};
    h = InplaceFunction<void(), 32>([token] {});
    EXPECT_EQ(token.use_count(), 2);
  }
  EXPECT_EQ(token.use_count(), 1);
}

TEST(InplaceFunctionDeath, CallingEmptyIsAnAssertion) {
  InplaceFunction<void(), 16> f;
  EXPECT_DEATH(f(), "empty InplaceFunction");
}

}  // namespace
}  // namespace essim::sim
