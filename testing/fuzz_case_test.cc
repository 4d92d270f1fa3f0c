#include "testing/fuzz_case.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <tuple>

namespace essim::fuzzing {
namespace {

const model::Domain& bank() {
  return *model::Registry::builtin().domain("bank");
}

DecidedCase decided(const FuzzCase& c) {
  HistoryBuilder builder(bank());
  DecidedCase d;
  decide_case(builder, bank().mix(), c, d);
  return d;
}

std::vector<std::uint32_t> events_of(const FuzzCase& c, std::size_t s, const DecidedCase& d) {
  DeliveryPlan plan;
  plan.plan(c, s, d);
  std::vector<std::uint32_t> events;
  for (const Delivery& delivery : plan.deliveries()) events.push_back(delivery.event);
  return events;
}

// What every shrink step must make smaller, in this order (see fuzz_case.h):
// works, schedules, the redeliveries' weight, their delays, the sum of their
// events' positions, the interleavings left.
using Measure =
    std::tuple<std::size_t, std::size_t, std::uint64_t, std::uint64_t, std::uint64_t, std::size_t>;
Measure measure(const FuzzCase& c, const DecidedCase& d) {
  Measure m{c.works.size(), c.schedules.size(), 0, 0, 0, 0};
  for (const Schedule& s : c.schedules) {
    if (s.interleaving != 0) ++std::get<5>(m);
    for (const Redelivery& r : s.redeliveries) {
      std::get<2>(m) += r.unacked == 0 ? 1 : 1 + r.unacked;
      std::get<3>(m) += r.delay;
      const auto w = std::find_if(c.works.begin(), c.works.end(),
                                  [&](const CaseWork& work) { return work.tag == r.tag; });
      if (w == c.works.end()) continue;
      const auto place = static_cast<std::size_t>(w - c.works.begin());
      if (d.count[place] > 0) std::get<4>(m) += d.first[place] + r.event % d.count[place];
    }
  }
  return m;
}

TEST(FuzzCase, IsAFunctionOfItsSeed) {
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const FuzzCase c = draw_case(seed, 30);
    EXPECT_EQ(c, draw_case(seed, 30));
    ASSERT_GE(c.works.size(), 1u);
    ASSERT_LE(c.works.size(), 30u);
    ASSERT_GE(c.schedules.size(), 1u);
    ASSERT_LE(c.schedules.size(), kSchedulesMax);
    const DecidedCase d = decided(c);
    EXPECT_EQ(d.history, decided(c).history);
    for (std::size_t s = 0; s < c.schedules.size(); ++s)
      EXPECT_EQ(events_of(c, s, d), events_of(c, s, d));
    const std::vector<ShrinkStep> steps = shrink_steps(c, &d);
    const std::vector<ShrinkStep> again = shrink_steps(c, &d);
    ASSERT_EQ(steps.size(), again.size());
    for (std::size_t i = 0; i < steps.size(); ++i)
      EXPECT_EQ(shrunk(c, steps[i]), shrunk(c, again[i]));
  }
  EXPECT_NE(draw_case(1, 30), draw_case(2, 30));
}

// Every event comes once in stream order before its redeliveries; an event
// again is one delivered before; a crash redelivers the last first deliveries.
RC_GTEST_PROP(DeliveryPlan, DeliversEveryEventOnceInStreamOrderAndRedeliversOnlyWhatCame, ()) {
  const FuzzCase c = draw_case(*rc::gen::arbitrary<std::uint64_t>(), 30);
  const DecidedCase d = decided(c);
  for (std::size_t s = 0; s < c.schedules.size(); ++s) {
    DeliveryPlan plan;
    plan.plan(c, s, d);
    std::vector<bool> delivered(d.history.size(), false);
    std::map<std::string, std::uint64_t> version;  // per stream, the last first delivered
    std::vector<std::uint32_t> firsts;
    for (const Delivery& delivery : plan.deliveries()) {
      const model::Event& e = d.history[delivery.event];
      if (delivery.why == Why::kDeliver) {
        RC_ASSERT(!delivered[delivery.event]);
        delivered[delivery.event] = true;
        RC_ASSERT(e.version == version[e.stream] + 1);
        version[e.stream] = e.version;
        firsts.push_back(delivery.event);
        continue;
      }
      RC_ASSERT(delivered[delivery.event]);
      if (delivery.why == Why::kAfterCrash) {
        const auto last = std::find(
            firsts.rbegin(), firsts.rbegin() + std::min<std::size_t>(kUnackedMax, firsts.size()),
            delivery.event);
        RC_ASSERT(last != firsts.rbegin() + std::min<std::size_t>(kUnackedMax, firsts.size()));
      }
    }
    RC_ASSERT(std::count(delivered.begin(), delivered.end(), true) ==
              static_cast<std::ptrdiff_t>(d.history.size()));
  }
}

// Removing any one work (its events, and its redeliveries) and any one
// redelivery are each a single shrink step.
TEST(FuzzCase, RemovingOneWorkOrOneRedeliveryIsOneShrinkStep) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed) {
    const FuzzCase c = draw_case(seed, 12);
    const DecidedCase d = decided(c);
    std::vector<FuzzCase> shrinks;
    for (const ShrinkStep& step : shrink_steps(c, &d)) shrinks.push_back(shrunk(c, step));
    const auto has = [&](const FuzzCase& wanted) {
      return std::find(shrinks.begin(), shrinks.end(), wanted) != shrinks.end();
    };
    for (std::size_t w = 0; c.works.size() > 1 && w < c.works.size(); ++w) {
      FuzzCase without = c;
      without.works.erase(without.works.begin() + static_cast<std::ptrdiff_t>(w));
      for (Schedule& s : without.schedules) {
        std::erase_if(s.redeliveries, [&](const Redelivery& r) { return r.tag == c.works[w].tag; });
      }
      EXPECT_TRUE(has(without)) << "seed " << seed << ", work " << w;
    }
    for (std::size_t s = 0; s < c.schedules.size(); ++s) {
      for (std::size_t j = 0; j < c.schedules[s].redeliveries.size(); ++j) {
        FuzzCase without = c;
        auto& list = without.schedules[s].redeliveries;
        list.erase(list.begin() + static_cast<std::ptrdiff_t>(j));
        EXPECT_TRUE(has(without)) << "seed " << seed << ", schedule " << s << ", redelivery " << j;
      }
      if (c.schedules.size() > 1) {
        FuzzCase without = c;
        without.schedules.erase(without.schedules.begin() + static_cast<std::ptrdiff_t>(s));
        EXPECT_TRUE(has(without)) << "seed " << seed << ", schedule " << s;
      }
    }
  }
}

// Each work draws from its own seed: removing a work whose commands were all
// refused leaves the history exactly as it was, and removing one that
// decided events leaves every other work's commands as they were.
TEST(FuzzCase, RemovingAWorkLeavesTheOthersAsTheyWere) {
  std::size_t refused = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const FuzzCase c = draw_case(seed, 30);
    const DecidedCase d = decided(c);
    for (std::size_t w = 0; w < c.works.size(); ++w) {
      if (d.count[w] != 0) continue;
      ++refused;
      FuzzCase without = c;
      without.works.erase(without.works.begin() + static_cast<std::ptrdiff_t>(w));
      EXPECT_EQ(decided(without).history, d.history) << "seed " << seed << ", work " << w;
    }
  }
  EXPECT_GT(refused, 10u);  // the bank refuses deposits to accounts never opened
}

// Every step makes the case smaller in a well-founded order, so shrinking ends.
RC_GTEST_PROP(FuzzCase, EveryShrinkStepMakesTheCaseSmaller, ()) {
  const FuzzCase c = draw_case(*rc::gen::arbitrary<std::uint64_t>(), 12);
  const DecidedCase d = decided(c);
  const Measure before = measure(c, d);
  for (const ShrinkStep& step : shrink_steps(c, &d)) {
    const FuzzCase s = shrunk(c, step);
    RC_ASSERT(!s.works.empty());
    RC_ASSERT(!s.schedules.empty());
    RC_ASSERT(measure(s, s.works == c.works ? d : decided(s)) < before);
  }
}

// Turning a crash into the events it redelivered, each again, keeps the
// deliveries the same.
RC_GTEST_PROP(FuzzCase, SplittingACrashKeepsTheDeliveries, ()) {
  const FuzzCase c = draw_case(*rc::gen::arbitrary<std::uint64_t>(), 12);
  const DecidedCase d = decided(c);
  for (const ShrinkStep& step : shrink_steps(c, &d, ShrinkPhase::kSplitCrashes)) {
    RC_ASSERT(step.kind == ShrinkStep::Kind::kSplitCrash);
    const FuzzCase s = shrunk(c, step);
    RC_ASSERT(events_of(s, step.schedule, d) == events_of(c, step.schedule, d));
  }
}

}  // namespace
}  // namespace essim::fuzzing
