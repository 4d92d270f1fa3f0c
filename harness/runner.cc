#include "harness/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <typeinfo>

#include <fmt/format.h>

#include "harness/determinism.h"
#include "sim/rng.h"

namespace essim::harness {

namespace {

constexpr std::uint64_t kNoCatch = std::numeric_limits<std::uint64_t>::max();
// How far past the lowest unfinished seed each thread may run ahead.
constexpr std::uint64_t kFoldWindowPerJob = 64;

SeedResult run_seed_unguarded(const Scenario& scenario, std::uint64_t seed, bool keep_trace) {
  SeedResult r;
  r.seed = seed;
  r.swarm = seed_swarm(scenario, seed);
  ClusterSpec spec = r.swarm ? apply_swarm(scenario.spec, *r.swarm) : scenario.spec;
  spec.sim.keep_trace = keep_trace;
  auto built = build_cluster(spec, seed, *scenario.registry);
  // The loader ran check_spec: a scenario it accepted always builds.
  ESSIM_ASSERT_MSG(built.ok(), "a loaded scenario did not build");
  Cluster& c = *built.value();
  sim::RunCounters counters;
  // Wall time for the metrics only; no simulation reads it.
  const auto started = std::chrono::steady_clock::now();
  {
    // The system's paths only: the checkers below run user code too.
    const sim::RunScope scope(counters);
    run_cluster(c, spec);
  }
  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  r.probes = std::move(counters.probes);
  r.metrics = seed_metrics(c, counters, wall);
  r.events = c.sim->events();
  r.trace_steps = c.sim->trace().steps();
  r.heal_end = fmt::format("{} at {}", sim::to_string(c.heal.stop), sim::format_time(c.heal.at_us));
  r.faults = c.plan.actions.size();
  r.operations_run = c.operations;
  for (const model::HistoryEntry& h : c.history.entries()) {
    r.operations += h.type == model::HistoryEntry::Type::kInvoke ? 1 : 0;
  }
  CheckedRun checked = check_cluster(c, spec, scenario.properties);
  r.violations = std::move(checked.violations);
  r.final_states = final_states(c, checked.log);
  r.trace_fingerprint = c.sim->fingerprint();
  r.fingerprint = seed_fingerprint(r.trace_fingerprint, r.final_states);
  if (keep_trace) r.trace = c.sim->trace().entries();
  for (sim::NodeId n = 0; n < c.sim->node_count(); ++n) r.node_names.push_back(c.sim->name(n));
  return r;
}

// What one seed adds to a sweep, delivered to the fold in any order.
struct SeedOutcome {
  SeedResult result;  // violations and evidence only when it failed
  std::optional<DeterminismCheck> mismatch;
};

// Folds seed outcomes into a ScenarioResult in seed order, whatever order the
// threads finish them in, so the result does not depend on --jobs. Holds only
// the outcomes that arrived ahead of a slower seed.
class Fold {
 public:
  Fold(const Scenario& scenario, bool stop_when_caught, ScenarioResult& out)
      : scenario_(scenario), stop_when_caught_(stop_when_caught), out_(out) {}

  // The lowest index known to catch the expected violation (kNoCatch: none
  // yet); seeds past it need not run.
  std::uint64_t cut() const { return cut_.load(); }

  // Waits until seed `index` may start: at most `window` outcomes may wait
  // behind a slow seed, so what the fold holds is bounded. Cannot deadlock:
  // the seed the fold waits for was taken earlier and is never held here.
  void wait_for_room(std::uint64_t index, std::uint64_t window) {
    std::unique_lock lock(mutex_);
    room_.wait(lock, [&] { return index < next_ + window || index > cut_.load(); });
  }

  void deliver(std::uint64_t index, SeedOutcome outcome) {
    if (stop_when_caught_ && catches(outcome.result)) {
      std::uint64_t seen = cut_.load();
      while (index < seen && !cut_.compare_exchange_weak(seen, index)) {
      }
    }
    {
      const std::lock_guard lock(mutex_);
      pending_.emplace(index, std::move(outcome));
      while (!pending_.empty() && pending_.begin()->first == next_) {
        if (!done_) add(std::move(pending_.begin()->second));
        pending_.erase(pending_.begin());
        ++next_;
      }
    }
    room_.notify_all();
  }
  std::uint64_t failed() const { return failed_.load(); }

 private:
  bool catches(const SeedResult& r) const {
    if (scenario_.expect.pass) return false;
    return std::any_of(r.violations.begin(), r.violations.end(),
                       [&](const auto& v) { return v.property == scenario_.expect.violation; });
  }

  void add(SeedOutcome o) {
    SeedResult& r = o.result;
    Tally& t = out_.tally;
    ++t.seeds_run;
    out_.events += r.events;
    out_.fingerprint += fingerprint_term(r.seed, r.fingerprint);
    add_seed(out_.metrics, r.metrics);
    for (const auto& [name, hits] : r.probes) {
      // Seeds arrive in seed order: the first to reach a probe is the lowest.
      const auto [it, fresh] = t.probes.try_emplace(name, Tally::Probe{0, r.seed});
      it->second.hits += hits;
    }
    if (o.mismatch) {
      ++(o.mismatch->failure.empty() ? out_.nondeterministic_seeds : out_.unchecked_seeds);
      if (out_.nondeterministic.size() < kFailuresKept)
        out_.nondeterministic.emplace_back(r.seed, *o.mismatch);
    }
    if (r.violations.empty()) return;
    ++t.seeds_failed;
    ++failed_;
    std::vector<std::string> seen;
    for (const properties::Violation& v : r.violations) {
      if (std::find(seen.begin(), seen.end(), v.property) != seen.end()) continue;
      seen.push_back(v.property);
      ++t.violated[v.property];
    }
    if (catches(r) && !t.caught_at_seed) {
      t.caught_at_seed = r.seed;
      done_ = stop_when_caught_;
    }
    if (out_.failures.size() < kFailuresKept) out_.failures.push_back(std::move(r));
  }

  const Scenario& scenario_;
  const bool stop_when_caught_;
  ScenarioResult& out_;
  std::atomic<std::uint64_t> cut_{kNoCatch};
  std::atomic<std::uint64_t> failed_{0};
  std::mutex mutex_;
  std::condition_variable room_;
  std::map<std::uint64_t, SeedOutcome> pending_;
  std::uint64_t next_ = 0;
  bool done_ = false;
};

SeedResult threw(std::uint64_t seed, const std::string& what) {
  SeedResult r;
  r.seed = seed;
  r.violations.push_back(
      {std::string(properties::kUserCodeDoesNotThrow),
       fmt::format("the run threw {}", what),
       {"an exception escaped outside the user-code boundary; replay this seed to see where"}});
  return r;
}

}  // namespace

SeedResult run_seed(const Scenario& scenario, std::uint64_t seed, bool keep_trace) {
  try {
    return run_seed_unguarded(scenario, seed, keep_trace);
  } catch (const model::HarnessFailure& e) {
    // The sweep stops (exit 3); which seed it was running is the first clue.
    throw model::HarnessFailure(fmt::format("seed {} of {}: {}\n  alone: essim replay {} --seed {}",
                                            seed, scenario.name, e.what(), scenario.file, seed));
  } catch (const std::exception& e) {
    return threw(seed, fmt::format("{}: {}", model::demangled(typeid(e)), e.what()));
  } catch (...) {
    return threw(seed, "something that is not a std::exception");
  }
}

std::uint64_t fingerprint_term(std::uint64_t seed, std::uint64_t fingerprint) {
  std::uint64_t state = seed;
  const std::uint64_t salt = sim::splitmix64(state);
  state = fingerprint ^ salt;
  return sim::splitmix64(state);
}

std::string replay_command(std::string_view program, const Scenario& scenario, std::uint64_t seed) {
  return fmt::format("{} replay {} --seed {}", program, scenario.file, seed);
}

SweepPlan resolve_plan(const Scenario& scenario, const SweepPlan& requested) {
  SweepPlan plan = requested;
  if (scenario.repro_seed) {  // a repro file replays its one seed
    plan.first_seed = *scenario.repro_seed;
    plan.seeds = 1;
    plan.shard_index = 0;
    plan.shard_count = 1;
  }
  if (plan.seeds == 0) plan.seeds = default_seed_count(scenario);
  return plan;
}

ScenarioResult run_scenario(const Scenario& scenario, const RunOptions& options) {
  ScenarioResult out;
  out.scenario = &scenario;
  out.program = options.program;
  out.plan = resolve_plan(scenario, options.plan);
  ESSIM_ASSERT(!out.plan.invalid());
  const bool hunting = !scenario.expect.pass && options.stop_when_caught;
  Fold fold(scenario, hunting, out);
  const SecondRun second_run =
      options.second_run ? options.second_run
                         : [&scenario](std::uint64_t seed, bool keep_trace, double) {
                             return sim::Result<SeedResult>(run_seed(scenario, seed, keep_trace));
                           };
  // Wall time of the sweep, for seeds per second; no simulation reads it.
  const auto started = std::chrono::steady_clock::now();
  sweep(
      out.plan,
      [&](std::uint64_t seed, std::uint64_t index) {
        fold.wait_for_room(
            index, kFoldWindowPerJob * static_cast<std::uint64_t>(std::max(1, out.plan.jobs)));
        if (index > fold.cut()) return false;  // an earlier seed caught it: none after counts
        SeedOutcome o;
        // Wall time of the first run bounds the second; no simulation reads it.
        const auto first_started = std::chrono::steady_clock::now();
        o.result = run_seed(scenario, seed);
        const double first_seconds =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - first_started).count();
        if (options.check_determinism) {
          DeterminismCheck check = check_determinism(
              o.result, [&] { return run_seed(scenario, seed, true); },
              [&](bool keep_trace) { return second_run(seed, keep_trace, first_seconds); });
          if (!check.same) o.mismatch = std::move(check);
        }
        // The fold keeps outcomes that finish ahead of a slower seed: only
        // what it reads.
        o.result.node_names.clear();
        o.result.heal_end.clear();
        o.result.final_states.clear();
        fold.deliver(index, std::move(o));
        return index < fold.cut();
      },
      [&](std::uint64_t done, std::uint64_t total) {
        if (options.progress) options.progress(done, total, fold.failed());
      });
  out.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  out.verdict = judge(scenario.expect, checked_properties(scenario), out.tally);
  return out;
}

}  // namespace essim::harness
