// The test domain's non-determinism shows only across processes: a second
// run in the same process agrees (which is why --check-determinism makes it
// in a new one; tests/determinism/check.cmake shows that one catches it).

#include <gtest/gtest.h>

#include "determinism/nondet.h"
#include "harness/runner.h"

namespace {

using essim::harness::RunOptions;
using essim::harness::ScenarioResult;

ScenarioResult checked_in_this_process(const char* file) {
  static const essim::model::Registry registry = [] {
    essim::model::Registry r = essim::model::Registry::with_builtins();
    nondet::register_domain(r);
    return r;
  }();
  auto s = essim::harness::load_scenario(std::string(ESSIM_TESTS_DIR) + file, registry);
  EXPECT_TRUE(s.ok()) << s.error().message;
  RunOptions o;
  o.plan = {.first_seed = 1, .seeds = 2, .jobs = 1};
  o.check_determinism = true;  // no second_run: in this process
  ScenarioResult r = essim::harness::run_scenario(s.value(), o);
  r.scenario = nullptr;  // `s` goes out of scope
  return r;
}

TEST(NondetDomain, ASecondRunInTheSameProcessAgrees) {
  for (const char* file :
       {"/determinism/tagged-events.yaml", "/determinism/read-model-only.yaml"}) {
    const ScenarioResult r = checked_in_this_process(file);
    EXPECT_TRUE(r.verdict.met) << file;
    EXPECT_EQ(r.tally.seeds_run, 2U) << file;
    EXPECT_EQ(r.nondeterministic_seeds, 0U) << file;
    EXPECT_EQ(r.unchecked_seeds, 0U) << file;
  }
}

}  // namespace
