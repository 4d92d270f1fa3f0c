#include "harness/runner.h"

#include <gtest/gtest.h>

namespace essim::harness {
namespace {

sim::TraceEntry entry(std::uint64_t step, std::uint64_t a) {
  sim::TraceEntry e;
  e.step = step;
  e.kind = sim::TraceKind::kSend;
  e.node = 0;
  e.peer = 1;
  e.a = a;
  return e;
}

TEST(Determinism, NamesTheFirstStepWhereTwoRunsPart) {
  int calls = 0;
  // A run that is not deterministic: its third step depends on how often it ran.
  auto run = [&calls](bool keep_trace) {
    ++calls;
    SeedResult r;
    r.fingerprint = 100 + static_cast<std::uint64_t>(calls);
    if (keep_trace) r.trace = {entry(0, 1), entry(1, 2), entry(2, 10 + calls)};
    return r;
  };
  const DeterminismCheck check = check_determinism(run);
  EXPECT_FALSE(check.same);
  EXPECT_EQ(check.parted_at_step, 2U);
  EXPECT_NE(check.first_entry, check.second_entry);
  EXPECT_NE(check.first_entry.find("#2"), std::string::npos);
}

TEST(Determinism, ShippedScenarioRunsTwiceAlike) {
  auto s =
      load_scenario(ESSIM_SOURCE_DIR "/scenarios/bank-everything.yaml", model::Registry::builtin());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const DeterminismCheck check =
      check_determinism([&](bool keep) { return run_seed(s.value(), 3, keep); });
  EXPECT_TRUE(check.same);
  EXPECT_EQ(check.first_fingerprint, check.second_fingerprint);
}

}  // namespace
}  // namespace essim::harness

namespace essim::harness {
namespace {

ScenarioResult sweep_of(const Scenario& s, std::uint64_t seeds, int jobs) {
  RunOptions o;
  o.plan = {.first_seed = 1, .seeds = seeds, .jobs = jobs};
  return run_scenario(s, o);
}

// With threads, later seeds may finish first; the result must not show it.
TEST(RunScenario, TheSameWhateverTheJobs) {
  for (const char* file : {"/scenarios/bank-calm.yaml", "/scenarios/bugs/ack-before-sync.yaml",
                           "/scenarios/bugs/retry-without-command-id.yaml"}) {
    auto s = load_scenario(std::string(ESSIM_SOURCE_DIR) + file, model::Registry::builtin());
    ASSERT_TRUE(s.ok()) << s.error().message;
    const ScenarioResult one = sweep_of(s.value(), 6, 1);
    const ScenarioResult two = sweep_of(s.value(), 6, 2);
    EXPECT_EQ(one.fingerprint, two.fingerprint) << file;
    EXPECT_EQ(one.tally.seeds_run, two.tally.seeds_run) << file;
    EXPECT_EQ(one.tally.caught_at_seed, two.tally.caught_at_seed) << file;
    EXPECT_EQ(one.verdict.met, two.verdict.met) << file;
    EXPECT_EQ(one.failures.size(), two.failures.size()) << file;
  }
}

TEST(RunScenario, AHuntStopsAtTheFirstCatchInSeedOrder) {
  auto s = load_scenario(ESSIM_SOURCE_DIR "/scenarios/bugs/ack-before-sync.yaml",
                         model::Registry::builtin());
  ASSERT_TRUE(s.ok());
  const ScenarioResult r = sweep_of(s.value(), 50, 2);
  ASSERT_TRUE(r.tally.caught_at_seed);
  EXPECT_EQ(r.tally.seeds_run, *r.tally.caught_at_seed);  // seeds 1..caught, no more
  EXPECT_TRUE(r.verdict.met);
}

TEST(RunScenario, AHugeRequestCostsOnlyTheSeedsRun) {
  // 10^12 seeds asked for; the hunt stops at the first catch, and nothing was
  // allocated per seed asked for.
  auto s = load_scenario(ESSIM_SOURCE_DIR "/scenarios/bugs/ack-before-sync.yaml",
                         model::Registry::builtin());
  ASSERT_TRUE(s.ok());
  const ScenarioResult r = sweep_of(s.value(), 1'000'000'000'000ULL, 2);
  EXPECT_TRUE(r.verdict.met);
  EXPECT_LT(r.tally.seeds_run, 10U);
}

}  // namespace
}  // namespace essim::harness
