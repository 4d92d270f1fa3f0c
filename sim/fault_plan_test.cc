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
