#include "properties/idempotency.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace essim::properties {
namespace {

const model::Domain& bank() {
  return *model::Registry::builtin().domain("bank");
}
const model::ProjectionHandler& handler(const std::string& name) {
  return *model::Registry::builtin().handler(name)->handler;
}

TEST(DecidedHistory, IsValidAndGrowsByPrefix) {
  const auto short_history = decided_history(bank(), 5, 10);
  const auto long_history = decided_history(bank(), 5, 40);
  ASSERT_FALSE(short_history.empty());
  ASSERT_GE(long_history.size(), short_history.size());
  for (std::size_t i = 0; i < short_history.size(); ++i)
    EXPECT_EQ(short_history[i], long_history[i]);
  std::map<std::string, std::uint64_t> versions;
  for (const model::Event& e : long_history) EXPECT_EQ(e.version, ++versions[e.stream]);
}

// Idempotent handlers pass with any strategy; the others need deduplication.
RC_GTEST_PROP(Idempotency, TransfersHandlerIsIdempotentWithoutDedup, ()) {
  check_idempotent(bank(), handler("bank.transfers"), model::Dedup::kNone);
}
RC_GTEST_PROP(Idempotency, BalancesHandlerIsSafeWithEventIdDedup, ()) {
  check_idempotent(bank(), handler("bank.balances"), model::Dedup::kEventId);
}
RC_GTEST_PROP(Idempotency, BalancesHandlerIsSafeWithAtomicCheckpoint, ()) {
  check_idempotent(bank(), handler("bank.balances"), model::Dedup::kAtomicCheckpoint);
}

TEST(Idempotency, FindsTheNonIdempotentHandler) {
  const auto result = rc::detail::checkTestable(
      [] { check_idempotent(bank(), handler("bank.balances"), model::Dedup::kNone); });
  ASSERT_TRUE(result.template is<rc::detail::FailureResult>());
  const auto failure = result.template get<rc::detail::FailureResult>();
  EXPECT_NE(failure.description.find("differs from one in-order application"), std::string::npos);
  EXPECT_LT(failure.numSuccess, 100);
}

}  // namespace
}  // namespace essim::properties
