#include "harness/runner.h"

#include <gtest/gtest.h>

#include "harness/determinism.h"

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

// A seed's fingerprint covers its trace and its final states: every
// projection's state and every stream's aggregate.
TEST(RunSeed, TheFingerprintCoversTheFinalStates) {
  auto s = load_scenario(ESSIM_SOURCE_DIR "/scenarios/bank-calm.yaml", model::Registry::builtin());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const SeedResult r = run_seed(s.value(), 2);
  ASSERT_TRUE(r.violations.empty());
  ASSERT_GE(r.final_states.size(), 3U);
  EXPECT_EQ(r.final_states[0].name, "projection balances");
  EXPECT_EQ(r.final_states[1].name, "projection transfers");
  EXPECT_TRUE(r.final_states[2].name.starts_with("stream "));
  EXPECT_EQ(r.fingerprint, seed_fingerprint(r.trace_fingerprint, r.final_states));
  std::vector<FinalState> changed = r.final_states;
  changed.back().hash ^= 1;
  EXPECT_NE(seed_fingerprint(r.trace_fingerprint, changed), r.fingerprint);
  EXPECT_NE(r.fingerprint, r.trace_fingerprint);
}

ScenarioResult checked_sweep(const Scenario& s, int jobs, SecondRun second) {
  RunOptions o;
  o.plan = {.first_seed = 1, .seeds = 4, .jobs = jobs};
  o.check_determinism = true;
  o.second_run = std::move(second);
  return run_scenario(s, o);
}

TEST(RunScenario, CheckDeterminismComparesEachSeedWithItsSecondRun) {
  auto s = load_scenario(ESSIM_SOURCE_DIR "/scenarios/bank-calm.yaml", model::Registry::builtin());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const Scenario& scenario = s.value();
  // In this process (no second_run given): alike.
  const ScenarioResult alike = checked_sweep(scenario, 2, {});
  EXPECT_EQ(alike.nondeterministic_seeds, 0U);
  EXPECT_EQ(alike.unchecked_seeds, 0U);
  // Through the report a second process writes: alike too.
  const ScenarioResult reported =
      checked_sweep(scenario, 2, [&](std::uint64_t seed, bool keep_trace, double seconds) {
        EXPECT_GE(seconds, 0.0);
        return decode_second_run(encode_second_run(run_seed(scenario, seed, keep_trace)));
      });
  EXPECT_EQ(reported.nondeterministic_seeds, 0U);
  EXPECT_EQ(reported.fingerprint, alike.fingerprint);
  // Seed 3's second run has another read model in its first projection.
  const ScenarioResult differs =
      checked_sweep(scenario, 2, [&](std::uint64_t seed, bool keep_trace, double) {
        SeedResult r = run_seed(scenario, seed, keep_trace);
        if (seed == 3) {
          r.final_states.front().hash ^= 1;
          r.fingerprint = seed_fingerprint(r.trace_fingerprint, r.final_states);
        }
        return sim::Result<SeedResult>(std::move(r));
      });
  EXPECT_EQ(differs.nondeterministic_seeds, 1U);
  ASSERT_EQ(differs.nondeterministic.size(), 1U);
  EXPECT_EQ(differs.nondeterministic[0].first, 3U);
  EXPECT_EQ(differs.nondeterministic[0].second.differing_states,
            std::vector<std::string>{"projection balances"});
  // A second run that cannot be made is counted apart, with its reason.
  const ScenarioResult failed = checked_sweep(scenario, 1, [](std::uint64_t, bool, double) {
    return sim::Result<SeedResult>(sim::Error{"the second run was killed by signal 9"});
  });
  EXPECT_EQ(failed.nondeterministic_seeds, 0U);
  EXPECT_EQ(failed.unchecked_seeds, 4U);
  ASSERT_FALSE(failed.nondeterministic.empty());
  EXPECT_EQ(failed.nondeterministic[0].second.failure, "the second run was killed by signal 9");
}

}  // namespace
}  // namespace essim::harness
