// Whole runs of a shipped scenario: trace steps per second as the chaos
// phase grows. The cost of a step must not grow with how long the run has
// gone on (issue 13): compare each length's figure with the 5 s one.
//
//   build/default/bench/essim_bench --benchmark_filter=BM_BankCalm
//
// Arg 0: chaos seconds; arg 1: 1 for bank-calm as shipped, 0 for the same
// run without transfers (the bank's account remembers every transfer that
// touched it, so loading an account costs more as transfers accumulate: the
// demonstration domain's cost, not essim's).

#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <string>

#include "harness/runner.h"
#include "harness/scenario.h"
#include "model/domain.h"

namespace essim {
namespace {

harness::Scenario bank_calm(bool transfers) {
  const std::string file = std::string(ESSIM_SOURCE_DIR) + "/scenarios/bank-calm.yaml";
  auto text = harness::read_regular_file(file, harness::kScenarioBytesMax, "a scenario file");
  if (!text.ok()) throw std::runtime_error(text.error().message);
  std::string yaml = text.value();
  if (!transfers) {
    const std::string with = ", transfer: 2}";
    const auto at = yaml.find(with);
    if (at == std::string::npos) throw std::runtime_error("bank-calm's mix has changed");
    yaml = yaml.substr(0, at) + "}" + yaml.substr(at + with.size());
  }
  auto scenario = harness::parse_scenario(yaml, file, model::Registry::builtin());
  if (!scenario.ok()) throw std::runtime_error(scenario.error().message);
  return std::move(scenario).value();
}

void BM_BankCalm(benchmark::State& state) {
  harness::Scenario scenario = bank_calm(state.range(1) == 1);
  scenario.spec.chaos_us = sim::seconds(state.range(0));
  std::uint64_t seed = 0;
  std::uint64_t steps = 0;
  double simulated_s = 0;
  for (auto _ : state) {
    const harness::SeedResult r = harness::run_seed(scenario, ++seed);
    if (!r.violations.empty()) state.SkipWithError("a property failed");
    steps += r.trace_steps;
    simulated_s += static_cast<double>(scenario.spec.chaos_us) / 1e6;
  }
  state.counters["steps_per_s"] =
      benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
  state.counters["steps_per_seed"] = benchmark::Counter(
      static_cast<double>(steps), benchmark::Counter::kAvgIterations);
  // Simulated seconds of chaos per wall second (the heal phase, a few
  // milliseconds here, is not counted).
  state.counters["compression"] = benchmark::Counter(simulated_s, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_BankCalm)
    ->ArgsProduct({{5, 10, 20, 40, 60}, {1, 0}})
    ->Unit(benchmark::kMillisecond)
    ->MinTime(2.0);

// Peak memory of a whole sweep of N seeds, in a child process of its own (so
// the figure is that sweep's alone): it must not grow with N, since seeds are
// drawn one at a time and only failures (at most kFailuresKept) are kept.
void BM_SweepPeakMemory(benchmark::State& state) {
  const std::string yaml = R"(name: tiny
domain: bank
duration: 20ms
heal_max: 1s
topology: {clients: 1, projections: [{name: balances, handler: bank.balances}]}
workload: {rate: 200/s}
expect: pass
)";
  auto scenario = harness::parse_scenario(yaml, "tiny.yaml", model::Registry::builtin());
  if (!scenario.ok()) throw std::runtime_error(scenario.error().message);
  harness::RunOptions options;
  options.plan.seeds = static_cast<std::uint64_t>(state.range(0));
  long peak_kb = 0;
  for (auto _ : state) {
    const pid_t child = fork();
    if (child == 0) {
      const harness::ScenarioResult r = harness::run_scenario(scenario.value(), options);
      _exit(r.verdict.met && r.tally.seeds_run == options.plan.seeds ? 0 : 1);
    }
    int status = 0;
    rusage usage{};
    if (child < 0 || wait4(child, &status, 0, &usage) != child || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      state.SkipWithError("the sweep's process failed");
      return;
    }
    peak_kb = usage.ru_maxrss;
  }
  state.counters["peak_rss_MiB"] = static_cast<double>(peak_kb) / 1024.0;
  state.counters["seeds_per_s"] = benchmark::Counter(
      static_cast<double>(state.range(0)) * static_cast<double>(state.iterations()),
      benchmark::Counter::kIsRate);
}
BENCHMARK(BM_SweepPeakMemory)
    ->Arg(1'000)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Iterations(1)
    ->Unit(benchmark::kSecond)
    ->UseRealTime();

}  // namespace
}  // namespace essim
