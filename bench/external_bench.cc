// An external domain's cost: events applied per second through a trivial
// Python handler (bench/trivial_handler.py, on the SDK) over pipes, one round
// trip per event and in batches (apply_many, and one apply per event in a
// batch as an SDK without capabilities answers), against the same handler in
// C++, in the same run. Wall-clock time: the process works while essim waits.
//
//   build/default/bench/essim_bench --benchmark_filter='Handler'

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "external/domain.h"
#include "model/codec.h"
#include "model/domain.h"

namespace essim::external {
namespace {

std::vector<Event> ticks(std::size_t count) {
  std::vector<Event> events(count);
  std::vector<std::uint64_t> versions(8, 0);
  for (std::size_t i = 0; i < count; ++i) {
    Event& e = events[i];
    e.stream = "s-" + std::to_string(i % 8);
    e.version = ++versions[i % 8];
    e.position = i + 1;
    e.type = "Ticked";
    Writer w(e.payload);
    encode(w, Value(Value::Map{{"n", 1}}));
  }
  return events;
}

std::unique_ptr<model::Domain> open_python(const std::string& capabilities) {
  ExternalSpec spec;
  spec.child = ChildSpec{{"python3", "trivial_handler.py"},
                         ESSIM_BENCH_DIR,
                         {{"ESSIM_SDK_CAPABILITIES", capabilities}}};
  return open_external(spec);
}

// The SDK as it is: apply_many (docs/protocol.md, "Capabilities").
const model::Domain& python() {
  static const std::unique_ptr<model::Domain> domain = open_python("fold,apply_many");
  return *domain;
}

// The SDK serving no capability: a batch of one apply per event.
const model::Domain& python_without_capabilities() {
  static const std::unique_ptr<model::Domain> domain = open_python("");
  return *domain;
}

void BM_PythonHandlerPerEvent(benchmark::State& state) {
  const ProjectionHandler handler = python().projections().front();
  const std::vector<Event> events = ticks(1000);
  for (auto _ : state) {
    ReadModel model;
    for (const Event& e : events) handler.apply(model, e);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
}
BENCHMARK(BM_PythonHandlerPerEvent)->Unit(benchmark::kMillisecond)->UseRealTime();

// 10,000 events through `domain`'s handler in essim's batches (apply_all).
void apply_batched(benchmark::State& state, const model::Domain& domain) {
  const ProjectionHandler handler = domain.projections().front();
  const std::vector<Event> events = ticks(10'000);
  for (auto _ : state) {
    ReadModel model;
    handler.apply_all(model, events);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
}

void BM_PythonHandlerBatched(benchmark::State& state) {
  apply_batched(state, python());
}
BENCHMARK(BM_PythonHandlerBatched)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_PythonHandlerBatchedWithoutCapabilities(benchmark::State& state) {
  apply_batched(state, python_without_capabilities());
}
BENCHMARK(BM_PythonHandlerBatchedWithoutCapabilities)->Unit(benchmark::kMillisecond)->UseRealTime();

// The same handler in C++, on the same events (their payloads decoded as an
// external domain's are).
void BM_CppHandler(benchmark::State& state) {
  const std::vector<Event> events = ticks(10'000);
  const HandlerFn apply = [](ReadModel& model, const Event& e) {
    Reader r(e.payload);
    const Value payload = decode_value(r).value();
    model[e.stream] += payload.find("n")->as_int();
  };
  for (auto _ : state) {
    ReadModel model;
    for (const Event& e : events) apply(model, e);
    benchmark::DoNotOptimize(model);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(events.size()));
}
BENCHMARK(BM_CppHandler)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace essim::external
