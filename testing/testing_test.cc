// The public RapidCheck helpers, used as a user's test suite would.
#include <essim/testing.h>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace essim::testing {
namespace {

const Domain& bank() {
  return *Registry::builtin().domain("bank");
}
const ProjectionHandler& handler(std::string_view name) {
  return *Registry::builtin().handler(name)->handler;
}

RC_GTEST_PROP(PublicTesting, TransfersAreIdempotentWithoutDedup, ()) {
  check_idempotent(bank(), handler("bank.transfers"), Dedup::kNone);
}

RC_GTEST_PROP(PublicTesting, BalancesAreIdempotentBehindAtomicCheckpoints, ()) {
  check_idempotent(bank(), handler("bank.balances"), Dedup::kAtomicCheckpoint, 10);
}

TEST(PublicTesting, BalancesWithoutDedupFail) {
  const bool ok = rc::check("balances without dedup", [] {
    check_idempotent(bank(), handler("bank.balances"), Dedup::kNone);
  });
  EXPECT_FALSE(ok);
}

RC_GTEST_PROP(PublicTesting, TheBankKeepsEveryOracle, ()) {
  check_domain(bank());
}

TEST(PublicTesting, HistoriesAreDecidedAndGrowByExtension) {
  const std::vector<Event> shorter = decided_history(bank(), 3, 10);
  const std::vector<Event> longer = decided_history(bank(), 3, 20);
  ASSERT_FALSE(shorter.empty());
  ASSERT_GE(longer.size(), shorter.size());
  EXPECT_TRUE(std::equal(shorter.begin(), shorter.end(), longer.begin()));
  for (std::size_t i = 0; i < longer.size(); ++i) EXPECT_EQ(longer[i].position, i + 1);
  const ReadModel once = apply_in_order(bank(), handler("bank.balances"), longer);
  EXPECT_EQ(once, apply_in_order(bank(), handler("bank.balances"), longer));
}

TEST(PublicTesting, BadArgumentsAreRefused) {
  EXPECT_THROW(check_idempotent(bank(), handler("bank.balances"), Dedup::kNone, 0),
               std::invalid_argument);
  EXPECT_THROW(check_idempotent(bank(), handler("bank.balances"), Dedup::kNone, 10'001),
               std::invalid_argument);
  EXPECT_THROW(check_domain(bank(), 0), std::invalid_argument);
}

}  // namespace
}  // namespace essim::testing
