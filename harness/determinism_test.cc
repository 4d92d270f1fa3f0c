#include "harness/determinism.h"

#include <gtest/gtest.h>

#include <functional>

namespace essim::harness {
namespace {

sim::TraceEntry entry(std::uint64_t step, std::uint64_t a) {
  sim::TraceEntry e;
  e.step = step;
  e.kind = sim::TraceKind::kSend;
  e.node = 2;
  e.peer = 0;
  e.a = a;
  return e;
}

// A run of three steps whose last step carries `last`, and whose second
// projection's state hashes to `state`.
SeedResult run_of(std::uint64_t last, std::uint64_t state, bool keep_trace) {
  SeedResult r;
  r.node_names = {"store", "bus", "client0"};
  const std::vector<sim::TraceEntry> trace = {entry(0, 1), entry(1, 2), entry(2, last)};
  r.trace_fingerprint = 1000 + last;
  r.trace_steps = trace.size();
  if (keep_trace) r.trace = trace;
  r.final_states = {{"projection feed", 7}, {"projection tally", state}, {"stream s-1", 9}};
  r.fingerprint = seed_fingerprint(r.trace_fingerprint, r.final_states);
  return r;
}

// Checks run_of(3, 5) against `second`, counting the runs made here again.
DeterminismCheck check_against(const std::function<sim::Result<SeedResult>(bool)>& second,
                               int& runs_again) {
  return check_determinism(
      run_of(3, 5, false),
      [&] {
        ++runs_again;
        return run_of(3, 5, true);
      },
      second);
}

TEST(Determinism, RunsThatAgreeAreTheSame) {
  int more_runs = 0;
  const DeterminismCheck check =
      check_against([&](bool) { return sim::Result<SeedResult>(run_of(3, 5, false)); }, more_runs);
  EXPECT_TRUE(check.same);
  EXPECT_EQ(check.first_fingerprint, check.second_fingerprint);
  EXPECT_EQ(more_runs, 0);
}

TEST(Determinism, NamesTheFirstStepWhereTwoRunsPartWithNodeNames) {
  int more_runs = 0;
  int second_runs = 0;
  const DeterminismCheck check = check_against(
      [&](bool keep_trace) {
        ++second_runs;
        return sim::Result<SeedResult>(run_of(4, 5, keep_trace));
      },
      more_runs);
  EXPECT_FALSE(check.same);
  EXPECT_TRUE(check.failure.empty());
  EXPECT_EQ(second_runs, 2);  // the comparison, then the traced run
  EXPECT_EQ(more_runs, 1);
  ASSERT_TRUE(check.parted_at_step);
  EXPECT_EQ(*check.parted_at_step, 2U);
  EXPECT_EQ(check.agreed_entry, "#1 0s send client0 peer=store a=2 b=0");
  EXPECT_EQ(check.first_entry, "#2 0s send client0 peer=store a=3 b=0");
  EXPECT_EQ(check.second_entry, "#2 0s send client0 peer=store a=4 b=0");
  EXPECT_TRUE(check.differing_states.empty());
}

TEST(Determinism, NamesTheFinalStatesThatDifferWhenEveryStepAgrees) {
  int more_runs = 0;
  const DeterminismCheck check = check_against(
      [&](bool keep_trace) {
        SeedResult r = run_of(3, 6, keep_trace);
        r.final_states.push_back({"stream s-2", 1});
        r.fingerprint = seed_fingerprint(r.trace_fingerprint, r.final_states);
        return sim::Result<SeedResult>(std::move(r));
      },
      more_runs);
  EXPECT_FALSE(check.same);
  EXPECT_FALSE(check.parted_at_step);
  EXPECT_EQ(check.trace_steps, 3U);
  EXPECT_EQ(check.differing_states,
            (std::vector<std::string>{"projection tally", "stream s-2 (only in the second run)"}));
  EXPECT_EQ(more_runs, 0);  // the traces agree: nothing to locate
}

TEST(Determinism, ASecondRunThatFailsIsAHarnessFailure) {
  const DeterminismCheck check = check_determinism(
      run_of(3, 5, false), [] { return run_of(3, 5, true); },
      [](bool) { return sim::Result<SeedResult>(sim::Error{"it died"}); });
  EXPECT_FALSE(check.same);
  EXPECT_EQ(check.failure, "it died");
}

TEST(Determinism, ATracedSecondRunThatFailsLeavesTheMismatchUnlocated) {
  int more_runs = 0;
  const DeterminismCheck check = check_against(
      [](bool keep_trace) {
        if (keep_trace) return sim::Result<SeedResult>(sim::Error{"it died"});
        return sim::Result<SeedResult>(run_of(4, 5, false));
      },
      more_runs);
  EXPECT_FALSE(check.same);
  EXPECT_TRUE(check.failure.empty());
  EXPECT_EQ(check.not_located, "it died");
  EXPECT_FALSE(check.parted_at_step);
}

SeedResult reported_run() {
  SeedResult r = run_of(3, 5, true);
  r.trace[1].text = "a file name with spaces\nand a newline, \xff\x01, and é";
  r.trace[2].peer = sim::kNoNode;
  r.final_states.push_back({"stream with space \xc3\xa9", UINT64_MAX});
  r.node_names.clear();  // not reported
  return r;
}

TEST(SecondRunReport, RoundTrips) {
  const SeedResult r = reported_run();
  const auto back = decode_second_run(encode_second_run(r));
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(back.value().fingerprint, r.fingerprint);
  EXPECT_EQ(back.value().trace_fingerprint, r.trace_fingerprint);
  EXPECT_EQ(back.value().trace_steps, r.trace_steps);
  EXPECT_EQ(back.value().final_states, r.final_states);
  EXPECT_EQ(back.value().trace, r.trace);
}

// A report cut anywhere is refused: a second run that stops writing never
// passes for one that agreed.
TEST(SecondRunReport, EveryCutReportIsRefused) {
  const std::string text = encode_second_run(reported_run());
  for (std::size_t n = 0; n < text.size(); ++n) {
    EXPECT_FALSE(decode_second_run(text.substr(0, n)).ok()) << n << " bytes";
  }
}

TEST(SecondRunReport, GarbageIsRefusedNamingTheLine) {
  const std::string good = encode_second_run(reported_run());
  for (const auto& [text, message] : std::vector<std::pair<std::string, std::string>>{
           {"", "does not start with 'essim-second-run 1'"},
           {"Segmentation fault\n", "does not start with"},
           {"essim-second-run 1\nstate x61 1\nend 1 0\n", "line 2 is not a line of the report"},
           {"essim-second-run 1\nfingerprint 1 2 0\nstep 0 0 99 0 0 0 0 x\nend 0 1\n",
            "line 3 is not"},
           {"essim-second-run 1\nfingerprint 1 2 1\nstep 1 0 1 0 0 0 0 x\nend 0 1\n",
            "line 3 is not"},
           {"essim-second-run 1\nfingerprint 1 2 0\nstate x6 1\nend 1 0\n", "line 3 is not"},
           {"essim-second-run 1\nfingerprint 1 2 0\nend 1 0\n", "line 3: its last line"},
           {good + "state x61 1\n", "its last line does not match"},
           {"essim-second-run 1\nfingerprint -1 2 0\nend 0 0\n", "line 2 is not"}}) {
    const auto r = decode_second_run(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_NE(r.error().message.find(message), std::string::npos) << r.error().message;
  }
}

TEST(Determinism, ShippedScenarioRunsTwiceAlikeThroughItsReport) {
  auto s =
      load_scenario(ESSIM_SOURCE_DIR "/scenarios/bank-everything.yaml", model::Registry::builtin());
  ASSERT_TRUE(s.ok()) << s.error().message;
  const DeterminismCheck check = check_determinism(
      run_seed(s.value(), 3), [&] { return run_seed(s.value(), 3, true); },
      [&](bool keep_trace) {
        return decode_second_run(encode_second_run(run_seed(s.value(), 3, keep_trace)));
      });
  EXPECT_TRUE(check.same);
  EXPECT_TRUE(check.failure.empty());
  EXPECT_EQ(check.first_fingerprint, check.second_fingerprint);
}

}  // namespace
}  // namespace essim::harness
