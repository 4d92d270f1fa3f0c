#include "sim/fault_plan.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

namespace essim::sim {
namespace {

FaultConfig all_faults() {
  FaultConfig c;
  c.crashes = {true, {seconds(1), seconds(2)}, {0, 1, 2}, {millis(10), millis(500)}};
  c.partitions = {true, {seconds(2), seconds(4)}, {millis(100), seconds(1)}, {0, 1, 2, 3}};
  c.clogs = {true, {seconds(1), seconds(3)}, {millis(10), millis(50)}, {0, 1, 2, 3}};
  return c;
}

TEST(FaultPlan, SameSeedSamePlanAndFamiliesAreIndependent) {
  const FaultConfig c = all_faults();
  const FaultPlan a = plan_faults(c, Rng(1), seconds(30));
  const FaultPlan b = plan_faults(c, Rng(1), seconds(30));
  EXPECT_EQ(a.actions, b.actions);
  EXPECT_NE(a.actions, plan_faults(c, Rng(2), seconds(30)).actions);

  // Turning partitions off leaves the crashes exactly where they were.
  FaultConfig no_partitions = c;
  no_partitions.partitions.enabled = false;
  auto crashes_of = [](const FaultPlan& p) {
    std::vector<FaultAction> out;
    for (const FaultAction& x : p.actions) {
      if (x.kind == FaultKind::kCrash || x.kind == FaultKind::kRestart) out.push_back(x);
    }
    return out;
  };
  EXPECT_EQ(crashes_of(a), crashes_of(plan_faults(no_partitions, Rng(1), seconds(30))));
}

RC_GTEST_PROP(FaultPlanProperty, PlansAreWellFormed, (std::uint64_t seed)) {
  const Micros chaos = *rc::gen::inRange<Micros>(0, seconds(60));
  const FaultPlan plan = plan_faults(all_faults(), Rng(seed), chaos);
  RC_ASSERT(std::is_sorted(plan.actions.begin(), plan.actions.end(),
                           [](const auto& x, const auto& y) { return x.at_us < y.at_us; }));
  int crashes = 0;
  int restarts = 0;
  for (const FaultAction& a : plan.actions) {
    if (a.kind == FaultKind::kCrash) {
      ++crashes;
      RC_ASSERT(a.at_us < chaos);
      RC_ASSERT(a.node <= 2U);
    }
    if (a.kind == FaultKind::kRestart) ++restarts;
    if (a.kind == FaultKind::kPartition) {
      RC_ASSERT(!a.side_a.empty());
      RC_ASSERT(!a.side_b.empty());
      RC_ASSERT(a.side_a.size() + a.side_b.size() == 4U);
    }
    if (a.kind == FaultKind::kClog) RC_ASSERT(a.node != a.peer);
  }
  RC_ASSERT(crashes == restarts);
}

// The bound holds whatever the seed, and is tight when every gap is the
// least one: a loader that trusts it refuses only plans that could be too big.
RC_GTEST_PROP(FaultPlanProperty, NeverPastItsBound, (std::uint64_t seed)) {
  FaultConfig c = all_faults();
  const Micros min_us = *rc::gen::inRange<Micros>(1, millis(50));
  c.crashes.every = {min_us, min_us + *rc::gen::inRange<Micros>(0, millis(50))};
  c.partitions.every = c.crashes.every;
  c.clogs.every = c.crashes.every;
  const Micros chaos = *rc::gen::inRange<Micros>(0, seconds(2));
  const FaultPlanBound bound = fault_plan_bound(c, chaos);
  // Plans past the limit are refused by the loader before they are drawn.
  RC_PRE(bound.total() <= kFaultPlanEntriesMax);
  RC_ASSERT(entries(plan_faults(c, Rng(seed), chaos)) <= bound.total());
}

TEST(FaultPlan, BoundCountsEachFamily) {
  FaultConfig c = all_faults();
  c.crashes.every = {millis(1), millis(1)};
  c.partitions.every = {millis(1), millis(1)};
  c.clogs.every = {millis(1), millis(1)};
  const FaultPlanBound bound = fault_plan_bound(c, millis(10));
  EXPECT_EQ(bound.crashes, 2U * 11);     // a crash and its restart per draw
  EXPECT_EQ(bound.partitions, 6U * 11);  // cut, heal and 4 nodes named
  EXPECT_EQ(bound.clogs, 11U);
  // Draws at 1ms..9ms: 9 of each, within the bound.
  EXPECT_EQ(entries(plan_faults(c, Rng(1), millis(10))), 9U * 2 + 9U * 6 + 9U);
  // Crashes every microsecond for an hour: far past what a run may hold.
  c.crashes.every = {1, 1};
  EXPECT_GT(fault_plan_bound(c, seconds(3600)).total(), kFaultPlanEntriesMax);
}

TEST(FaultConfig, ValidateNamesTheProblem) {
  FaultConfig c = all_faults();
  EXPECT_TRUE(c.validate(4).ok());
  c.crashes.every = {0, seconds(1)};
  auto r = c.validate(4);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("faults.crashes.every"), std::string::npos);
  c = all_faults();
  c.crashes.targets = {7};
  r = c.validate(4);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("node 7"), std::string::npos);
  c = all_faults();
  c.partitions.nodes = {0};
  EXPECT_FALSE(c.validate(4).ok());
}

}  // namespace
}  // namespace essim::sim
