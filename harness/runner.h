#pragma once
// Runs scenarios: one seed (for replay), or a sweep of seeds on threads, and
// judges the result against the scenario's expectation (harness/verdict.h).
//
// A sweep's result is the same whatever --jobs: seeds are folded into the
// tally in seed order, and a scenario that expects a violation stops at the
// first seed, in seed order, that shows it; seeds after it do not count even
// if a thread ran them.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "harness/cluster.h"
#include "harness/metrics.h"
#include "harness/scenario.h"
#include "harness/sweep.h"
#include "harness/verdict.h"
#include "properties/properties.h"
#include "sim/probe.h"
#include "sim/result.h"
#include "sim/trace.h"

namespace essim::harness {

struct SeedResult {
  std::uint64_t seed = 0;
  // The trace's fingerprint with the final states folded in (seed_fingerprint).
  std::uint64_t fingerprint = 0;
  std::uint64_t trace_fingerprint = 0;
  std::vector<properties::Violation> violations;
  std::string heal_end;
  std::uint64_t events = 0;  // simulation events
  std::uint64_t trace_steps = 0;
  std::uint64_t operations = 0;         // history operations invoked
  std::uint64_t faults = 0;             // fault-plan actions
  std::vector<sim::TraceEntry> trace;   // only when asked
  std::vector<std::string> node_names;  // by node id
  std::vector<FinalState> final_states;
  sim::ProbeHits probes;           // the coverage probes the run reached
  SeedMetrics metrics;             // harness/metrics.h
  std::optional<SwarmDraw> swarm;  // the fault mix it ran with (harness/swarm.h)
  // The operations it ran (scenario key `operations:`, or a repro's), in
  // their order; `operations` above counts the clients' history operations.
  std::vector<Operation> operations_run;
};

// Runs one seed of the scenario. `keep_trace` keeps every trace entry. An
// exception escaping the run becomes a violation of `user_code_does_not_throw`,
// never a crash of the sweep (user code is caught earlier, with its context:
// model/user_code.h).
SeedResult run_seed(const Scenario& scenario, std::uint64_t seed, bool keep_trace = false);

// A seed run twice, compared (harness/determinism.h). The second run is made
// elsewhere (the command line: in a new process), so that what differs between
// processes (heap addresses, statics kept between runs) shows.
struct DeterminismCheck {
  bool same = true;
  // Why the second run could not be made or read: a failure of the harness,
  // not a finding about the code under test.
  std::string failure;
  std::uint64_t first_fingerprint = 0;
  std::uint64_t second_fingerprint = 0;
  // Where the runs part, when they differ: the first trace step that differs,
  // with each run's entry there (nodes by name) and the last step both made.
  std::optional<std::uint64_t> parted_at_step;
  std::string agreed_entry;  // empty when they part at the first step
  std::string first_entry;
  std::string second_entry;
  // When every trace step agrees: the final states that differ, and the steps.
  std::vector<std::string> differing_states;
  std::uint64_t trace_steps = 0;
  // Why the runs differ but where could not be found (the traced second run
  // failed); empty otherwise.
  std::string not_located;
};

// Makes the second run of `seed`, elsewhere, and returns what it reports
// (its fingerprints and final states; its trace when `keep_trace`), or why
// it could not. `first_seconds` is how long the first run took, to bound it.
using SecondRun = std::function<sim::Result<SeedResult>(std::uint64_t seed, bool keep_trace,
                                                        double first_seconds)>;

// At most this many failing seeds (the lowest) keep their whole result, and
// at most this many non-deterministic seeds are described; all are counted.
inline constexpr std::size_t kFailuresKept = 64;

struct ScenarioResult {
  const Scenario* scenario = nullptr;
  SweepPlan plan;  // as run: the seed count resolved, a repro's own seed
  Tally tally;
  Verdict verdict;
  std::vector<SeedResult> failures;  // the lowest failing seeds, in seed order
  // Folds every counted seed's fingerprint; the same for the same plan on any
  // machine, compiler, build type and --jobs. Shards add up (see merge).
  std::uint64_t fingerprint = 0;
  double wall_seconds = 0;
  std::uint64_t events = 0;
  SweepMetrics metrics;  // each metric's per-seed values over the seeds counted
  // With RunOptions::check_determinism: seeds whose two runs differed, and
  // seeds whose second run could not be made or read; the first few of both.
  std::uint64_t nondeterministic_seeds = 0;
  std::uint64_t unchecked_seeds = 0;
  std::vector<std::pair<std::uint64_t, DeterminismCheck>> nondeterministic;
  std::string program;  // RunOptions::program, for replay commands
};

struct RunOptions {
  SweepPlan plan;                  // seeds (0: default_seed_count), jobs, shard
  bool stop_when_caught = true;    // an expect-violation scenario stops at its first catch
  bool check_determinism = false;  // run every seed a second time and compare
  SecondRun second_run;            // how; empty: in this process (cli: a new process)
  std::string program = "essim";   // the runner named in replay commands
  std::function<void(std::uint64_t done, std::uint64_t total, std::uint64_t failed)> progress;
};

// The plan `options` asks for, resolved for `scenario`: the default seed
// count, and a repro file's own seed. Check invalid() before running it.
SweepPlan resolve_plan(const Scenario& scenario, const SweepPlan& requested);

// REQUIRES: !resolve_plan(scenario, options.plan).invalid().
ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options);

// One seed's contribution to a sweep fingerprint; contributions add up.
std::uint64_t fingerprint_term(std::uint64_t seed, std::uint64_t fingerprint);

// The command that replays `seed` of `scenario` with `program`: the runner the
// user ran (a runner built with essim_add_scenarios knows domains the
// installed `essim` does not).
std::string replay_command(std::string_view program, const Scenario& scenario, std::uint64_t seed);

}  // namespace essim::harness
