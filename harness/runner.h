#pragma once
// Runs scenarios: one seed (for replay), or a sweep of seeds on threads, and
// judges the result against the scenario's expectation.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "harness/scenario.h"
#include "harness/sweep.h"
#include "properties/properties.h"
#include "sim/trace.h"

namespace essim::harness {

struct SeedResult {
  std::uint64_t seed = 0;
  std::uint64_t fingerprint = 0;
  std::vector<properties::Violation> violations;
  std::string heal_end;
  std::uint64_t events = 0;       // simulation events
  std::uint64_t trace_steps = 0;
  std::uint64_t operations = 0;   // history operations invoked
  std::uint64_t faults = 0;       // fault-plan actions
  std::vector<sim::TraceEntry> trace;  // only when asked
  std::vector<std::string> node_names;  // by node id
};

// Runs one seed of the scenario. `keep_trace` keeps every trace entry.
SeedResult run_seed(const Scenario& scenario, std::uint64_t seed, bool keep_trace = false);

// Runs the same seed twice and compares; when the fingerprints differ, runs
// both again keeping their traces and names the first step where they part.
struct DeterminismCheck {
  bool same = true;
  std::uint64_t first_fingerprint = 0;
  std::uint64_t second_fingerprint = 0;
  std::uint64_t parted_at_step = 0;  // when !same
  std::string first_entry;           // the two runs' entries at that step
  std::string second_entry;
};
DeterminismCheck check_determinism(const std::function<SeedResult(bool keep_trace)>& run);

struct ScenarioResult {
  const Scenario* scenario = nullptr;
  std::uint64_t seeds_run = 0;
  std::vector<SeedResult> failures;  // seeds with a violation, in seed order
  bool expectation_met = false;
  std::uint64_t caught_at_seed = 0;  // expect.violation: the first seed that showed it
  double wall_seconds = 0;
  std::uint64_t events = 0;
  // Per property: seeds that violated it.
  std::vector<std::pair<std::string, std::uint64_t>> violated;
  // With RunOptions::check_determinism: the seeds whose two runs differed.
  std::vector<std::pair<std::uint64_t, DeterminismCheck>> nondeterministic;
};

struct RunOptions {
  SweepPlan plan;        // seeds (0: the scenario's own count), jobs, shard
  bool stop_when_caught = true;  // an expect-violation scenario stops at its first catch
  bool check_determinism = false;  // run every seed twice and compare fingerprints
  std::function<void(std::size_t done, std::size_t total, std::size_t failed)> progress;
};

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options);

// The command that replays `seed` of `scenario`.
std::string replay_command(const Scenario& scenario, std::uint64_t seed);

}  // namespace essim::harness
