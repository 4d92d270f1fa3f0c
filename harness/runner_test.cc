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
  auto s = load_scenario(ESSIM_SOURCE_DIR "/scenarios/bank-everything.yaml",
                         model::Registry::builtin());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const DeterminismCheck check =
      check_determinism([&](bool keep) { return run_seed(s.value(), 3, keep); });
  EXPECT_TRUE(check.same);
  EXPECT_EQ(check.first_fingerprint, check.second_fingerprint);
}

}  // namespace
}  // namespace essim::harness
