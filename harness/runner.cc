#include "harness/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

#include <fmt/format.h>

namespace essim::harness {

SeedResult run_seed(const Scenario& scenario, std::uint64_t seed, bool keep_trace) {
  ClusterSpec spec = scenario.spec;
  spec.sim.keep_trace = keep_trace;
  SeedResult r;
  r.seed = seed;
  auto built = build_cluster(spec, seed, *scenario.registry);
  if (!built.ok()) {
    r.violations.push_back({"scenario", built.error().message, {}});
    return r;
  }
  Cluster& c = *built.value();
  run_cluster(c, spec);
  r.fingerprint = c.sim->fingerprint();
  r.events = c.sim->events();
  r.trace_steps = c.sim->trace().steps();
  r.heal_end = fmt::format("{} at {}", sim::to_string(c.heal.stop), sim::format_time(c.heal.at_us));
  r.faults = c.plan.actions.size();
  for (const model::HistoryEntry& h : c.history.entries()) {
    r.operations += h.type == model::HistoryEntry::Type::kInvoke ? 1 : 0;
  }
  r.violations = check_cluster(c, spec, scenario.properties).violations;
  if (keep_trace) r.trace = c.sim->trace().entries();
  for (sim::NodeId n = 0; n < c.sim->node_count(); ++n) r.node_names.push_back(c.sim->name(n));
  return r;
}

DeterminismCheck check_determinism(const std::function<SeedResult(bool keep_trace)>& run) {
  DeterminismCheck out;
  out.first_fingerprint = run(false).fingerprint;
  out.second_fingerprint = run(false).fingerprint;
  out.same = out.first_fingerprint == out.second_fingerprint;
  if (out.same) return out;
  const SeedResult a = run(true);
  const SeedResult b = run(true);
  const std::size_t n = std::min(a.trace.size(), b.trace.size());
  std::size_t i = 0;
  while (i < n && a.trace[i] == b.trace[i]) ++i;
  out.parted_at_step = i;
  auto show = [](const SeedResult& r, std::size_t at) {
    return at < r.trace.size() ? sim::describe(r.trace[at]) : std::string("(the run ended here)");
  };
  out.first_entry = show(a, i);
  out.second_entry = show(b, i);
  return out;
}

std::string replay_command(const Scenario& scenario, std::uint64_t seed) {
  return fmt::format("essim replay {} --seed {}", scenario.file, seed);
}

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  SweepPlan plan = options.plan;
  if (scenario.repro_seed) {  // a repro file replays its one seed
    plan.first_seed = *scenario.repro_seed;
    plan.seeds = 1;
    plan.shard_index = 0;
    plan.shard_count = 1;
  }
  if (plan.seeds == 0) {
    plan.seeds = scenario.expect.pass ? scenario.seeds : scenario.expect.within_seeds;
  }
  const std::vector<std::uint64_t> seeds = plan.seed_list();
  std::vector<SeedResult> results(seeds.size());
  // One byte per slot, written by the sweep thread that owns it: a
  // std::vector<bool> packs slots into shared words, a data race.
  std::vector<std::uint8_t> ran(seeds.size(), 0);
  std::vector<DeterminismCheck> checks(seeds.size());
  std::atomic<bool> stop{false};
  std::atomic<std::size_t> failed{0};
  // Wall time of the sweep, for seeds per second; no simulation reads it.
  const auto started = std::chrono::steady_clock::now();
  const bool hunting = !scenario.expect.pass && options.stop_when_caught;
  sweep(
      plan,
      [&](std::uint64_t seed, std::size_t slot) {
        if (stop) return;  // caught already: the remaining seeds are skipped
        results[slot] = run_seed(scenario, seed);
        ran[slot] = 1;
        if (options.check_determinism) {
          checks[slot] = check_determinism(
              [&](bool keep_trace) { return run_seed(scenario, seed, keep_trace); });
        }
        if (!results[slot].violations.empty()) ++failed;
        if (hunting) {
          for (const auto& v : results[slot].violations) {
            if (v.property == scenario.expect.violation) stop = true;
          }
        }
      },
      [&](std::size_t done, std::size_t total) {
        if (options.progress) options.progress(done, total, failed);
      });
  ScenarioResult out;
  out.scenario = &scenario;
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::map<std::string, std::uint64_t> violated;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    if (!ran[i]) continue;
    ++out.seeds_run;
    if (!checks[i].same) out.nondeterministic.emplace_back(seeds[i], checks[i]);
    out.events += results[i].events;
    std::vector<std::string> seen;
    for (const auto& v : results[i].violations) {
      if (std::find(seen.begin(), seen.end(), v.property) != seen.end()) continue;
      seen.push_back(v.property);
      ++violated[v.property];
      if (!scenario.expect.pass && v.property == scenario.expect.violation &&
          (out.caught_at_seed == 0 || seeds[i] < out.caught_at_seed)) {
        out.caught_at_seed = seeds[i];
      }
    }
    if (!results[i].violations.empty()) out.failures.push_back(std::move(results[i]));
  }
  out.violated.assign(violated.begin(), violated.end());
  out.expectation_met = scenario.expect.pass ? out.failures.empty() : out.caught_at_seed != 0;
  return out;
}

}  // namespace essim::harness
