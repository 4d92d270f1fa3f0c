// Projection benchmarks: a handler applying events into its read model (as a
// projection worker does, with its dedup), and persisting a read model with
// its checkpoint (what every flush writes). Written against calls that have
// not changed since read models became structured, so the same file measures
// the commit before that change as a baseline (bench/README.md).
//
//   build/default/bench/essim_bench --benchmark_filter='Projection'

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "model/codec.h"
#include "model/domain.h"
#include "model/projection.h"

namespace essim::model {
namespace {

// Deposits and withdrawals over `accounts` accounts, each opened first.
std::vector<Event> money_events(std::size_t count, int accounts) {
  std::vector<Event> events;
  events.reserve(count);
  sim::Rng rng(7);
  std::vector<std::uint64_t> versions(static_cast<std::size_t>(accounts), 0);
  for (std::size_t i = 0; i < count; ++i) {
    const auto account = static_cast<std::size_t>(
        i < static_cast<std::size_t>(accounts) ? i
                                               : rng.below(static_cast<std::uint64_t>(accounts)));
    Event e;
    e.id = random_id(rng);
    e.stream = "acct-" + std::to_string(account);
    e.version = ++versions[account];
    e.position = i + 1;
    Writer w(e.payload);
    if (i < static_cast<std::size_t>(accounts)) {
      e.type = "AccountOpened";
      w.string("USD");
    } else if (rng.chance(0.2)) {
      e.type = "FundsWithdrawn";
      w.svarint(rng.between(1, 100));
    } else {
      e.type = "FundsDeposited";
      e.schema_version = 2;
      w.svarint(rng.between(100, 10'000));
      w.string("USD");
    }
    events.push_back(std::move(e));
  }
  return events;
}

const ProjectionHandler& balances() {
  return *Registry::builtin().handler("bank.balances")->handler;
}

// One item: an event through the atomic-checkpoint dedup and the handler.
void BM_ProjectionApply(benchmark::State& state) {
  const std::vector<Event> events = money_events(1'000'000, static_cast<int>(state.range(0)));
  for (auto _ : state) {
    ProjectionState projection;
    for (const Event& e : events) {
      (void)apply_event(projection, balances(), Dedup::kAtomicCheckpoint, e);
    }
    benchmark::DoNotOptimize(projection.events_applied);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * events.size()));
}
BENCHMARK(BM_ProjectionApply)->Arg(8)->Arg(10'000)->Unit(benchmark::kMillisecond);

// One item: a read-model entry (with its checkpoint entry) encoded.
void BM_ProjectionPersist(benchmark::State& state) {
  const auto accounts = static_cast<int>(state.range(0));
  ProjectionState projection;
  for (const Event& e : money_events(static_cast<std::size_t>(accounts) * 4, accounts)) {
    (void)apply_event(projection, balances(), Dedup::kAtomicCheckpoint, e);
  }
  Bytes out;
  for (auto _ : state) {
    out.clear();
    encode_projection_state(projection, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * accounts);
}
BENCHMARK(BM_ProjectionPersist)->Arg(10'000)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace essim::model
