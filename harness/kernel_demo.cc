#include "harness/kernel_demo.h"

#include <map>
#include <memory>
#include <set>

#include <fmt/format.h>
#include <boost/crc.hpp>

namespace essim::harness {

namespace {

using sim::Bytes;
using sim::ByteView;
using sim::Env;
using sim::Message;
using sim::Micros;
using sim::NodeId;

// Wire and log format: little-endian fixed-width fields.
void put_u32(Bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}
std::uint32_t get_u32(ByteView in, std::size_t at) {
  std::uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= std::uint32_t{in[at + i]} << (8 * i);
  return v;
}

std::uint32_t crc32c(ByteView bytes) {
  boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true> crc;
  crc.process_bytes(bytes.data(), bytes.size());
  return crc.checksum();
}

// A write is (writer, seq). Messages: kPut and kAck, each 9 bytes.
enum : std::uint8_t { kPut = 1, kAck = 2 };
constexpr std::size_t kMessageSize = 9;
constexpr std::size_t kRecordSize = 12;  // writer, seq, crc32c
constexpr std::string_view kLogFile = "writes.log";

Bytes encode_message(std::uint8_t type, std::uint32_t writer, std::uint32_t seq) {
  Bytes out{type};
  put_u32(out, writer);
  put_u32(out, seq);
  return out;
}

struct Write {
  std::uint32_t writer;
  std::uint32_t seq;
  friend auto operator<=>(const Write&, const Write&) = default;
};

// What the writers observed, kept outside the nodes so it survives their
// crashes: the history the checks compare the keeper's log with.
struct History {
  std::set<Write> invoked;
  std::set<Write> acked;
};

class Keeper final : public sim::Node {
 public:
  explicit Keeper(const DemoConfig& config) : config_(config) {}

  void on_start(Env& env) override {
    auto& disk = env.storage();
    if (!disk.exists(kLogFile)) return;
    auto log = disk.read_all(kLogFile);
    if (!log) return;
    const Bytes& bytes = log.value();
    std::size_t valid = 0;
    for (; valid + kRecordSize <= bytes.size(); valid += kRecordSize) {
      const ByteView record(bytes.data() + valid, kRecordSize);
      if (crc32c(record.first(8)) != get_u32(record, 8)) break;
      stored_.insert(Write{get_u32(record, 0), get_u32(record, 4)});
    }
    if (valid < bytes.size()) {
      env.note("truncate-torn-tail", valid, bytes.size());
      (void)disk.truncate(kLogFile, valid);
      (void)disk.sync(kLogFile);
    }
  }

  void on_message(Env& env, const Message& m) override {
    if (m.bytes.size() != kMessageSize || m.bytes[0] != kPut) return;
    const Write w{get_u32(m.bytes, 1), get_u32(m.bytes, 5)};
    if (stored_.contains(w)) {
      // A retry or a duplicate: answer again once the record is durable.
      if (!unsynced_.contains(w)) ack(env, m.from, w);
      return;
    }
    Bytes record;
    put_u32(record, w.writer);
    put_u32(record, w.seq);
    put_u32(record, crc32c(record));
    (void)env.storage().append(kLogFile, record);
    stored_.insert(w);
    if (config_.ack_before_sync) {
      ack(env, m.from, w);
      return;
    }
    unsynced_[w] = m.from;
    if (!sync_armed_) {
      sync_armed_ = true;
      env.set_timer(config_.group_commit_us, [this](Env& e) { group_commit(e); });
    }
  }

 private:
  void ack(Env& env, NodeId to, const Write& w) {
    env.send(to, encode_message(kAck, w.writer, w.seq));
  }

  void group_commit(Env& env) {
    sync_armed_ = false;
    (void)env.storage().sync(kLogFile);
    for (const auto& [w, from] : unsynced_) ack(env, from, w);
    unsynced_.clear();
  }

  const DemoConfig& config_;
  std::set<Write> stored_;
  std::map<Write, NodeId> unsynced_;
  bool sync_armed_ = false;
};

class Writer final : public sim::Node {
 public:
  Writer(const DemoConfig& config, std::uint32_t index, NodeId keeper, History& history)
      : config_(config), index_(index), keeper_(keeper), history_(history) {}

  void on_start(Env& env) override {
    // Volatile memory is gone after a crash: resume after the highest write
    // this writer ever issued (a real client would persist its counter).
    for (const Write& w : history_.invoked) {
      if (w.writer == index_) next_seq_ = std::max(next_seq_, w.seq + 1);
      if (w.writer == index_ && !history_.acked.contains(w)) outstanding_.insert(w.seq);
    }
    for (const std::uint32_t seq : outstanding_) send_put(env, seq);
    schedule_next(env);
  }

  void on_message(Env& env, const Message& m) override {
    if (m.bytes.size() != kMessageSize || m.bytes[0] != kAck) return;
    const Write w{get_u32(m.bytes, 1), get_u32(m.bytes, 5)};
    if (w.writer != index_ || outstanding_.erase(w.seq) == 0) return;
    history_.acked.insert(w);
    env.note("acked", w.writer, w.seq);
  }

 private:
  void schedule_next(Env& env) {
    if (env.now() >= config_.chaos_us) return;
    env.set_timer(config_.write_every_us, [this](Env& e) {
      const std::uint32_t seq = next_seq_++;
      history_.invoked.insert(Write{index_, seq});
      outstanding_.insert(seq);
      send_put(e, seq);
      schedule_next(e);
    });
  }

  void send_put(Env& env, std::uint32_t seq) {
    env.send(keeper_, encode_message(kPut, index_, seq));
    env.set_timer(config_.retry_after_us, [this, seq](Env& e) {
      if (outstanding_.contains(seq)) send_put(e, seq);
    });
  }

  const DemoConfig& config_;
  std::uint32_t index_;
  NodeId keeper_;
  History& history_;
  std::uint32_t next_seq_ = 0;
  std::set<std::uint32_t> outstanding_;
};

std::set<Write> read_durable_log(sim::SimDisk& disk) {
  std::set<Write> stored;
  auto log = disk.current_content(kLogFile);
  if (!log) return stored;
  const Bytes& bytes = log.value();
  for (std::size_t at = 0; at + kRecordSize <= bytes.size(); at += kRecordSize) {
    const ByteView record(bytes.data() + at, kRecordSize);
    if (crc32c(record.first(8)) != get_u32(record, 8)) break;
    stored.insert(Write{get_u32(record, 0), get_u32(record, 4)});
  }
  return stored;
}

}  // namespace

sim::SimConfig demo_sim_config(const DemoConfig& config) {
  sim::SimConfig s;
  s.keep_trace = config.keep_trace;
  s.network.latency = {sim::millis(1), sim::millis(20)};
  if (config.faults) {
    s.network.drop = 0.05;
    s.network.duplicate = 0.05;
    s.network.delay = 0.01;
    s.network.delay_extra = {sim::millis(50), sim::millis(200)};
    s.network.reorder = 0.1;
    s.network.reorder_jitter = {0, sim::millis(10)};
    s.disk.torn_writes = true;
  }
  return s;
}

sim::FaultConfig demo_fault_config(const DemoConfig& config, NodeId node_count) {
  sim::FaultConfig f;
  if (!config.faults) return f;
  std::vector<NodeId> all;
  for (NodeId n = 0; n < node_count; ++n) all.push_back(n);
  f.crashes = {.enabled = true,
               .every = {sim::seconds(1), sim::seconds(3)},
               .targets = all,
               .restart_after = {sim::millis(10), sim::millis(500)}};
  f.partitions = {.enabled = true,
                  .every = {sim::seconds(2), sim::seconds(5)},
                  .heal_after = {sim::millis(100), sim::seconds(1)},
                  .nodes = all};
  f.clogs = {.enabled = true,
             .every = {sim::seconds(1), sim::seconds(2)},
             .duration = {sim::millis(10), sim::millis(100)},
             .nodes = all};
  return f;
}

DemoResult run_demo(std::uint64_t seed, const DemoConfig& config) {
  sim::Simulation sim(seed, demo_sim_config(config));
  History history;
  const NodeId keeper =
      sim.add_node("keeper", [&config] { return std::make_unique<Keeper>(config); });
  for (int i = 0; i < config.writers; ++i) {
    const auto index = static_cast<std::uint32_t>(i);
    sim.add_node(fmt::format("writer{}", i), [&config, index, keeper, &history] {
      return std::make_unique<Writer>(config, index, keeper, history);
    });
  }
  const sim::FaultConfig faults = demo_fault_config(config, sim.node_count());
  const sim::FaultPlan plan =
      sim::plan_faults(faults, sim::Rng(seed).split("faults"), config.chaos_us);
  sim.apply(plan);
  sim.start();
  sim.run_until(config.chaos_us);
  sim.begin_heal();
  const auto all_acked = [&history] { return history.acked.size() == history.invoked.size(); };
  const sim::RunOutcome healed = sim.run_until_quiet(config.heal_max_us, all_acked);

  DemoResult r;
  r.seed = seed;
  r.heal_stop = healed.stop;
  const std::set<Write> stored = read_durable_log(sim.disk(keeper));
  for (const Write& w : history.acked) {
    if (!stored.contains(w)) {
      r.violations.push_back(fmt::format(
          "no_lost_acknowledged_writes: write writer{}#{} was acknowledged but is not in the "
          "keeper's log",
          w.writer, w.seq));
    }
  }
  if (healed.stop != sim::RunOutcome::Stop::kQuiet) {
    r.violations.push_back(fmt::format(
        "writes_converge: {} of {} writes still unacknowledged when the heal phase ended ({})",
        history.invoked.size() - history.acked.size(), history.invoked.size(),
        sim::to_string(healed.stop)));
  }
  const sim::Trace& t = sim.trace();
  r.fingerprint = sim.fingerprint();
  r.events = sim.events();
  r.trace_steps = t.steps();
  r.writes_acked = history.acked.size();
  r.messages_sent = t.count(sim::TraceKind::kSend);
  r.messages_dropped = t.count(sim::TraceKind::kDrop);
  r.messages_duplicated = t.count(sim::TraceKind::kDuplicate);
  r.crashes = t.count(sim::TraceKind::kCrash);
  r.partitions = t.count(sim::TraceKind::kPartition);
  r.disk_crash_decisions = t.count(sim::TraceKind::kDiskCrash);
  for (const sim::FaultAction& a : plan.actions) r.faults.push_back(sim::describe(a));
  return r;
}

}  // namespace essim::harness
