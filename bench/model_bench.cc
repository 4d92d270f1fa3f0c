// Model benchmarks: replaying a log of 1M events (decode, upcast, evolve),
// recovering it (CRC and chain checks, then decode), and appending to the
// store in simulation.
//
//   build/default/bench/essim_bench --benchmark_filter='Replay|Recovery|StoreAppend'

#include <benchmark/benchmark.h>

#include <algorithm>
#include <map>
#include <memory>

#include "model/codec.h"
#include "model/domains/bank.h"
#include "model/log.h"
#include "model/messages.h"
#include "model/store.h"
#include "sim/simulation.h"

namespace essim::model {
namespace {

constexpr std::size_t kEvents = 1'000'000;
constexpr int kAccounts = 8;

// A bank log: accounts opened, then deposits (some written as v1) and withdrawals.
std::vector<Event> bank_events() {
  std::vector<Event> events;
  events.reserve(kEvents);
  sim::Rng rng(1);
  std::vector<std::uint64_t> versions(kAccounts, 0);
  for (std::size_t i = 0; i < kEvents; ++i) {
    const auto account = static_cast<int>(i < kAccounts ? i : rng.below(kAccounts));
    Event e;
    e.id = random_id(rng);
    e.stream = "acct-" + std::to_string(account);
    e.version = ++versions[static_cast<std::size_t>(account)];
    e.position = i + 1;
    e.metadata.actor = "client-1";
    Writer w(e.payload);
    if (i < kAccounts) {
      e.type = "AccountOpened";
      w.string("USD");
    } else if (rng.chance(0.2)) {
      e.type = "FundsWithdrawn";
      w.svarint(rng.between(1, 100));
    } else if (rng.chance(0.1)) {
      e.type = "FundsDeposited";
      e.schema_version = 1;
      w.varint(static_cast<std::uint64_t>(rng.between(1, 100)));
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

const std::vector<Event>& events() {
  static const std::vector<Event> events = bank_events();
  return events;
}

// Replays the log the way aggregates are loaded: each stream's events in
// version order (as read-stream returns them), decoded, upcast and folded into
// that stream's state.
const Bytes& events_by_stream() {
  static const Bytes encoded = [] {
    std::vector<const Event*> by_stream;
    for (const Event& e : events()) by_stream.push_back(&e);
    std::stable_sort(by_stream.begin(), by_stream.end(),
                     [](const Event* a, const Event* b) { return a->stream < b->stream; });
    Bytes out;
    Writer w(out);
    for (const Event* e : by_stream) w.event(*e);
    return out;
  }();
  return encoded;
}

// One replay of `encoded` into a state per stream: an error, or none.
// Not inlined, so that a profile (perf, callgrind --toggle-collect) can tell
// the replay from the benchmark's setup.
[[gnu::noinline]] std::string replay(const Bytes& encoded, const Domain& domain) {
  std::vector<std::unique_ptr<AggregateState>> states;
  Reader r(encoded);
  Event e;
  std::string stream;
  AggregateState* current = nullptr;
  while (!r.at_end()) {
    r.event_into(e);
    if (current == nullptr || !same_text(e.stream, stream)) {
      stream = e.stream;
      states.push_back(domain.initial_state());
      current = states.back().get();
    }
    upcast_in_place(domain, e);
    domain.evolve_state(*current, e);
  }
  benchmark::DoNotOptimize(states);
  if (!r.ok()) return r.error();
  if (states.size() != kAccounts) return "wrong number of streams";
  return {};
}

void BM_ReplayDecodeEvolve(benchmark::State& state) {
  const Bytes& encoded = events_by_stream();
  const domains::BankDomain bank;
  for (auto _ : state) {
    if (const std::string error = replay(encoded, bank); !error.empty()) {
      state.SkipWithError(error.c_str());
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * encoded.size()));
}
BENCHMARK(BM_ReplayDecodeEvolve)->Unit(benchmark::kMillisecond);

// Decoding alone, for comparison with the whole replay.
void BM_ReplayDecodeOnly(benchmark::State& state) {
  Bytes encoded;
  Writer w(encoded);
  for (const Event& e : events()) w.event(e);
  for (auto _ : state) {
    Reader r(encoded);
    Event e;
    std::uint64_t versions = 0;
    while (!r.at_end()) {
      r.event_into(e);
      versions += e.version;
    }
    benchmark::DoNotOptimize(versions);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
}
BENCHMARK(BM_ReplayDecodeOnly)->Unit(benchmark::kMillisecond);

// The store's log of the benchmark's events, one commit per event.
const Bytes& store_log() {
  static const Bytes log = [] {
    Bytes out;
    std::uint64_t hash = 0;
    Bytes body;
    for (const Event& e : events()) {
      body.clear();
      encode_commit(CommitRecord{CommandId{1, e.position}, {e}}, body);
      hash = append_record(out, hash, body);
    }
    return out;
  }();
  return log;
}

// Records CRC-checked and chain-checked, not decoded: the scan recovery
// starts with.
void BM_RecoveryScan(benchmark::State& state) {
  const Bytes& log = store_log();
  for (auto _ : state) {
    const LogScan scan = scan_log(log);
    if (scan.bodies.size() != kEvents) state.SkipWithError("lost records");
    benchmark::DoNotOptimize(scan);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * log.size()));
}
BENCHMARK(BM_RecoveryScan)->Unit(benchmark::kMillisecond);

void BM_RecoveryScanAndDecode(benchmark::State& state) {
  const Bytes& log = store_log();
  for (auto _ : state) {
    const StoreLog recovered = read_store_log(log);
    if (recovered.commits.size() != kEvents) state.SkipWithError("lost records");
    benchmark::DoNotOptimize(recovered);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kEvents));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * log.size()));
}
BENCHMARK(BM_RecoveryScanAndDecode)->Unit(benchmark::kMillisecond);

// CRC32C over 64 KiB: Arg(1) the SSE4.2 instruction, Arg(0) Boost.CRC's tables.
void BM_Crc32c(benchmark::State& state) {
  const bool hardware = state.range(0) == 1;
  if (hardware && !detail::crc32c_hardware()) {
    state.SkipWithError("no SSE4.2 on this processor");
    return;
  }
  Bytes data(64 << 10);
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = static_cast<std::uint8_t>(i * 131);
  for (auto _ : state) {
    benchmark::DoNotOptimize(hardware ? detail::crc32c_sse42(data, {})
                                      : detail::crc32c_portable(data, {}));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
}
BENCHMARK(BM_Crc32c)->Arg(0)->Arg(1);

// A driver that keeps `window` single-event appends in flight against the store.
class Appender final : public sim::Node {
 public:
  explicit Appender(std::uint32_t window) : window_(window) {}
  void on_start(sim::Env&) override {}
  void on_message(sim::Env& env, const sim::Message& m) override {
    auto reply = decode(m.bytes);
    if (reply.ok() && std::holds_alternative<AppendReply>(reply.value())) {
      ++acked;
      if (sent < target) send(env);
    }
  }
  void start(sim::Env& env, std::uint64_t count) {
    target = sent + count;
    for (std::uint32_t i = 0; i < window_ && sent < target; ++i) send(env);
  }
  std::uint64_t sent = 0;
  std::uint64_t acked = 0;
  std::uint64_t target = 0;

 private:
  void send(sim::Env& env) {
    AppendRequest r;
    r.request_id = ++sent;
    r.stream = "s-" + std::to_string(sent % 64);
    r.command_id = CommandId{7, sent};
    Event e;
    e.id = CommandId{9, sent};
    e.type = "Appended";
    e.payload = Bytes(32, 1);
    r.events.push_back(std::move(e));
    encode_into(r, buffer_);
    env.send(0, buffer_);
  }
  std::uint32_t window_;
  Bytes buffer_;
};

void BM_StoreAppend(benchmark::State& state) {
  sim::Simulation sim(1, sim::SimConfig{.max_events = UINT64_MAX});
  sim.add_node("store", [] { return std::make_unique<StoreNode>(StoreConfig{}); });
  Appender* appender = nullptr;
  sim.add_node("appender", [&appender] {
    auto node = std::make_unique<Appender>(256);
    appender = node.get();
    return node;
  });
  sim.start();
  constexpr std::uint64_t kBatch = 10'000;
  for (auto _ : state) {
    sim::SimEnv env(sim, 1);
    appender->start(env, kBatch);
    (void)sim.run_until_quiet(sim::kTimeMax,
                              [appender] { return appender->acked == appender->target; });
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(appender->acked));
}
BENCHMARK(BM_StoreAppend)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace essim::model
