// Idempotency fuzzing (`essim fuzz HANDLER`), in-process: finding and
// shrinking the non-idempotent `bank.balances` (no dedup), and the rate of
// deliveries a passing handler is checked at. Written against fuzzing::fuzz()
// and the counterexample's lines only, so the same file measures the code
// before issue 13's fuzz item as its baseline (bench/README.md).
//
//   build/default/bench/essim_bench --benchmark_filter='Fuzz'

#include <benchmark/benchmark.h>

#include <cstdint>

#include "model/domain.h"
#include "testing/idempotency.h"

namespace essim::fuzzing {
namespace {

const model::Domain& bank() {
  return *model::Registry::builtin().domain("bank");
}
const model::ProjectionHandler& balances() {
  return *model::Registry::builtin().handler("bank.balances")->handler;
}

// One iteration: one whole `essim fuzz bank.balances --dedup none --seed S`
// (search, then shrink), S = 1, 2, ... in turn. The counters are means over
// the iterations: the shrunk counterexample's events and deliveries, the
// cases run while searching and the shrinks tried.
void BM_FuzzFindAndShrink(benchmark::State& state) {
  FuzzSettings settings;
  settings.dedup = model::Dedup::kNone;
  FuzzRun run;
  double events = 0;
  double deliveries = 0;
  double runs = 0;
  double shrinks = 0;
  for (auto _ : state) {
    ++run.seed;
    const FuzzOutcome out = fuzz(bank(), balances(), settings, run);
    if (out.kind != FuzzOutcome::Kind::kFailed) {
      state.SkipWithError("bank.balances without dedup passed");
      return;
    }
    events += static_cast<double>(out.counterexample->history.size());
    deliveries += static_cast<double>(out.counterexample->schedule.size());
    runs += static_cast<double>(out.stats.runs);
    shrinks += static_cast<double>(out.stats.shrinks_tried);
  }
  const auto mean = benchmark::Counter::kAvgIterations;
  state.counters["events"] = benchmark::Counter(events, mean);
  state.counters["deliveries"] = benchmark::Counter(deliveries, mean);
  state.counters["runs"] = benchmark::Counter(runs, mean);
  state.counters["shrinks_tried"] = benchmark::Counter(shrinks, mean);
}
BENCHMARK(BM_FuzzFindAndShrink)->Unit(benchmark::kMicrosecond);

// One iteration: 1,000 cases of `bank.balances` under a dedup that makes it
// pass (Arg 1: event-id, 2: atomic-checkpoint), seed 1, 2, ... in turn.
// deliveries/s counts every delivery of every case, as `essim fuzz` does.
void BM_FuzzPassingHandler(benchmark::State& state) {
  FuzzSettings settings;
  settings.dedup = state.range(0) == 1 ? model::Dedup::kEventId : model::Dedup::kAtomicCheckpoint;
  FuzzRun run;
  run.runs = 1'000;
  double deliveries = 0;
  double runs = 0;
  for (auto _ : state) {
    ++run.seed;
    const FuzzOutcome out = fuzz(bank(), balances(), settings, run);
    if (out.kind != FuzzOutcome::Kind::kPassed) {
      state.SkipWithError("bank.balances with dedup did not pass");
      return;
    }
    deliveries += static_cast<double>(out.stats.deliveries);
    runs += static_cast<double>(out.stats.runs);
  }
  state.counters["deliveries/s"] = benchmark::Counter(deliveries, benchmark::Counter::kIsRate);
  state.counters["runs/s"] = benchmark::Counter(runs, benchmark::Counter::kIsRate);
  state.counters["deliveries/run"] =
      benchmark::Counter(runs > 0 ? deliveries / runs : 0, benchmark::Counter::kDefaults);
}
BENCHMARK(BM_FuzzPassingHandler)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace essim::fuzzing
