#include "harness/verdict.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace essim::harness {
namespace {

Expectation pass() {
  return {};
}
Expectation violation(std::string property) {
  return {
      .pass = false, .violation = std::move(property), .within_seeds = 10, .required_probes = {}};
}

const PropertyVerdict& find(const Verdict& v, std::string_view property) {
  for (const PropertyVerdict& p : v.properties) {
    if (p.property == property) return p;
  }
  ADD_FAILURE() << "no verdict for " << property;
  static const PropertyVerdict none;
  return none;
}

TEST(Judge, APassScenarioFailsOnAnyViolation) {
  Tally t;
  t.seeds_run = 5;
  EXPECT_TRUE(judge(pass(), {"a", "b"}, t).met);
  t.seeds_failed = 1;
  t.violated["b"] = 1;
  const Verdict v = judge(pass(), {"a", "b"}, t);
  EXPECT_FALSE(v.met);
  EXPECT_EQ(find(v, "a").status, PropertyStatus::kHeld);
  EXPECT_EQ(find(v, "b").status, PropertyStatus::kViolated);
  EXPECT_EQ(find(v, "b").seeds, 1U);
}

TEST(Judge, SeedZeroCountsAsCaught) {
  const Tally t{
      .seeds_run = 1, .seeds_failed = 1, .caught_at_seed = 0, .violated = {{"x", 1}}, .probes = {}};
  const Verdict v = judge(violation("x"), {"x"}, t);
  EXPECT_TRUE(v.met);
  EXPECT_EQ(find(v, "x").status, PropertyStatus::kCaught);
}

TEST(Judge, ABugScenarioReportsWhatElseFell) {
  const Tally t{.seeds_run = 3,
                .seeds_failed = 2,
                .caught_at_seed = 3,
                .violated = {{"x", 1}, {"y", 2}, {"unlisted", 1}},
                .probes = {}};
  const Verdict v = judge(violation("x"), {"x", "y", "z"}, t);
  EXPECT_TRUE(v.met);
  EXPECT_EQ(find(v, "y").status, PropertyStatus::kAlsoViolated);
  EXPECT_EQ(find(v, "z").status, PropertyStatus::kHeld);
  EXPECT_EQ(find(v, "unlisted").status, PropertyStatus::kAlsoViolated);
  ASSERT_EQ(v.properties.size(), 4U);
  EXPECT_EQ(v.properties.back().property, "unlisted");
}

TEST(Judge, ARequiredProbeNeverReachedFailsAPassingSweep) {
  Expectation e = pass();
  e.required_probes = {"store.torn-tail-truncated", "client.saga-compensated"};
  Tally t;
  t.seeds_run = 10;
  t.probes["client.saga-compensated"] = {3, 2};
  const Verdict v = judge(e, {"a"}, t);
  EXPECT_FALSE(v.met);
  EXPECT_EQ(v.missing_probes, std::vector<std::string>{"store.torn-tail-truncated"});
  t.probes["store.torn-tail-truncated"] = {1, 9};
  EXPECT_TRUE(judge(e, {"a"}, t).met);
  t.seeds_failed = 1;
  t.violated["a"] = 1;
  EXPECT_FALSE(judge(e, {"a"}, t).met) << "probes reached do not excuse a violation";
}

TEST(Tally, ShardsAddProbeHitsAndKeepTheLowestFirstSeed) {
  Tally a;
  a.probes["p"] = {2, 7};
  a.probes["q"] = {1, 4};
  Tally b;
  b.probes["p"] = {5, 3};
  b.probes["r"] = {1, 8};
  a.add(b);
  EXPECT_EQ(a.probes.at("p"), (Tally::Probe{7, 3}));
  EXPECT_EQ(a.probes.at("q"), (Tally::Probe{1, 4}));
  EXPECT_EQ(a.probes.at("r"), (Tally::Probe{1, 8}));
}

TEST(Judge, AMissedViolationIsNamedEvenWhenNotListed) {
  Tally t;
  t.seeds_run = 10;
  const Verdict v = judge(violation("x"), {"y"}, t);
  EXPECT_FALSE(v.met);
  EXPECT_EQ(find(v, "x").status, PropertyStatus::kMissed);
}

TEST(PropertyStatus, NamesRoundTrip) {
  for (const PropertyStatus s :
       {PropertyStatus::kHeld, PropertyStatus::kViolated, PropertyStatus::kCaught,
        PropertyStatus::kMissed, PropertyStatus::kAlsoViolated}) {
    EXPECT_EQ(property_status_by_name(to_string(s)), s);
  }
  EXPECT_FALSE(property_status_by_name("passed"));
}

// Judging the sum of shards equals judging the whole sweep: the verdict of a
// merge never depends on how the seeds were split.
RC_GTEST_PROP(Judge, ShardsAddUpToTheWholeSweep, (const std::vector<std::uint8_t>& outcomes)) {
  // Each seed: bit 0 violates x (the expected one), bit 1 violates y.
  const auto shards = *rc::gen::inRange<std::size_t>(1, 5);
  std::vector<Tally> parts(shards);
  Tally whole;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    for (Tally* t : {&parts[i % shards], &whole}) {
      ++t->seeds_run;
      if ((outcomes[i] & 3U) == 0) continue;
      ++t->seeds_failed;
      if ((outcomes[i] & 1U) != 0) {
        ++t->violated["x"];
        if (!t->caught_at_seed) t->caught_at_seed = i;
      }
      if ((outcomes[i] & 2U) != 0) ++t->violated["y"];
    }
  }
  Tally sum;
  for (const Tally& t : parts) sum.add(t);
  RC_ASSERT(sum.seeds_run == whole.seeds_run);
  RC_ASSERT(sum.caught_at_seed == whole.caught_at_seed);
  for (const Expectation& e : {pass(), violation("x")}) {
    const Verdict a = judge(e, {"x", "y"}, sum);
    const Verdict b = judge(e, {"x", "y"}, whole);
    RC_ASSERT(a.met == b.met);
    RC_ASSERT(a.properties.size() == b.properties.size());
    for (std::size_t i = 0; i < a.properties.size(); ++i) {
      RC_ASSERT(a.properties[i].status == b.properties[i].status);
      RC_ASSERT(a.properties[i].seeds == b.properties[i].seeds);
    }
  }
}

}  // namespace
}  // namespace essim::harness
