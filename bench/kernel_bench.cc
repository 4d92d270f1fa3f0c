// Kernel benchmarks: the scheduler against a bare std::priority_queue run in
// the same binary, and the network's send-and-deliver rate.
//
//   cmake --preset default && cmake --build --preset default
//   build/default/bench/essim_bench --benchmark_min_time=2

#include <benchmark/benchmark.h>

#include <functional>
#include <memory>
#include <queue>
#include <utility>
#include <vector>

#include "sim/event_queue.h"
#include "sim/rng.h"
#include "sim/simulation.h"

namespace essim::sim {
namespace {

constexpr Micros kDelayMax = 1'000;
constexpr NodeId kPeers = 4;

// ---- baseline: a bare priority queue of (time, sequence) pairs ----

void BM_BaselinePriorityQueue(benchmark::State& state) {
  using Item = std::pair<Micros, std::uint64_t>;
  std::priority_queue<Item, std::vector<Item>, std::greater<>> queue;
  Rng rng(1);
  std::uint64_t seq = 0;
  for (std::int64_t i = 0; i < state.range(0); ++i) queue.emplace(rng.between(1, kDelayMax), seq++);
  for (auto _ : state) {
    const Item top = queue.top();
    queue.pop();
    queue.emplace(top.first + rng.between(1, kDelayMax), seq++);
    benchmark::DoNotOptimize(top);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_BaselinePriorityQueue)->Arg(64)->Arg(1024)->Arg(16384);

// ---- essim's event queue alone, the same workload ----

void BM_EventQueue(benchmark::State& state) {
  EventQueue queue;
  Rng rng(1);
  for (std::int64_t i = 0; i < state.range(0); ++i) queue.push(rng.between(1, kDelayMax), 0);
  for (auto _ : state) {
    const EventQueue::Entry top = queue.pop();
    queue.push(top.at_us + rng.between(1, kDelayMax), top.ref);
    benchmark::DoNotOptimize(top);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventQueue)->Arg(64)->Arg(1024)->Arg(16384);

// ---- the whole scheduler: timers of a node, each re-arming itself ----

class TimerNode final : public Node {
 public:
  explicit TimerNode(int timers) : timers_(timers) {}
  void on_start(Env& env) override {
    for (int i = 0; i < timers_; ++i) arm(env);
  }
  void on_message(Env&, const Message&) override {}

 private:
  void arm(Env& env) {
    env.set_timer(env.rng().between(1, kDelayMax), [this](Env& e) { arm(e); });
  }
  int timers_;
};

void BM_SchedulerTimers(benchmark::State& state) {
  Simulation sim(1, SimConfig{.max_events = UINT64_MAX});
  const auto timers = static_cast<int>(state.range(0));
  sim.add_node("timers", [timers] { return std::make_unique<TimerNode>(timers); });
  sim.start();
  std::uint64_t events = 0;
  Micros until = 0;
  for (auto _ : state) {
    until += 1'000;  // ~timers events per step, on average
    events += sim.run_until(until).events;
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(events));
}
BENCHMARK(BM_SchedulerTimers)->Arg(64)->Arg(1024)->Arg(16384);

// ---- the network: a blaster sends a burst, the others receive ----

class Sink final : public Node {
 public:
  void on_start(Env&) override {}
  void on_message(Env&, const Message& m) override { benchmark::DoNotOptimize(m.bytes.data()); }
};

class Blaster final : public Node {
 public:
  Blaster(NodeId peers, int burst) : peers_(peers), burst_(burst) {}
  void on_start(Env&) override {}
  void on_message(Env&, const Message&) override {}
  void blast(Env& env) {
    std::uint8_t payload[16] = {};
    for (int i = 0; i < burst_; ++i) {
      payload[0] = static_cast<std::uint8_t>(i);
      env.send(1 + static_cast<NodeId>(i) % peers_, payload);
    }
  }

 private:
  NodeId peers_;
  int burst_;
};

// Each iteration sends `burst` messages and runs until all are delivered
// (or dropped); items = messages sent.
void network_bench(benchmark::State& state, const NetworkFaults& faults) {
  const auto burst = static_cast<int>(state.range(0));
  Simulation sim(1, SimConfig{.network = faults, .max_events = UINT64_MAX});
  Blaster* blaster = nullptr;
  sim.add_node("blaster", [&blaster, burst] {
    auto node = std::make_unique<Blaster>(kPeers, burst);
    blaster = node.get();
    return node;
  });
  for (NodeId i = 0; i < kPeers; ++i) {
    sim.add_node("sink" + std::to_string(i), [] { return std::make_unique<Sink>(); });
  }
  sim.start();
  std::int64_t sent = 0;
  for (auto _ : state) {
    // The blaster sends through its own Env, as a node would.
    sim.at(sim.now(), [blaster](Simulation& s) {
      SimEnv env(s, 0);
      blaster->blast(env);
    });
    (void)sim.run_until_quiet(kTimeMax);
    sent += burst;
  }
  state.SetItemsProcessed(sent);
  state.counters["delivered"] = static_cast<double>(sim.trace().count(TraceKind::kDeliver));
}

void BM_NetworkFaultsOff(benchmark::State& state) {
  network_bench(state, NetworkFaults{.latency = {1'000, 50'000}});
}
BENCHMARK(BM_NetworkFaultsOff)->Arg(1024);

void BM_NetworkFaultsOn(benchmark::State& state) {
  network_bench(state, NetworkFaults{.latency = {1'000, 50'000},
                                     .drop = 0.01,
                                     .duplicate = 0.05,
                                     .delay = 0.01,
                                     .delay_extra = {50'000, 200'000},
                                     .reorder = 0.2,
                                     .reorder_jitter = {0, 10'000}});
}
BENCHMARK(BM_NetworkFaultsOn)->Arg(1024);

}  // namespace
}  // namespace essim::sim
