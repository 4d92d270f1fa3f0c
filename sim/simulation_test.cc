#include "sim/simulation.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <map>
#include <set>

#include "sim/test_nodes.h"

namespace essim::sim {
namespace {

using testing::add_script_node;
using testing::ChattyNode;
using testing::payload;
using testing::Received;

// A random world: shape, faults and plan all drawn from RapidCheck.
struct WorldShape {
  NodeId nodes;
  int ticks;
  SimConfig config;
  FaultConfig faults;
};

rc::Gen<WorldShape> gen_world() {
  return rc::gen::exec([] {
    WorldShape w;
    w.nodes = *rc::gen::inRange<NodeId>(2, 7);
    w.ticks = *rc::gen::inRange(1, 60);
    auto p = [] { return *rc::gen::inRange(0, 40) / 100.0; };
    w.config.network.latency = {*rc::gen::inRange<Micros>(0, 1'000),
                                *rc::gen::inRange<Micros>(1'000, 20'000)};
    w.config.network.drop = p();
    w.config.network.duplicate = p();
    w.config.network.delay = p();
    w.config.network.delay_extra = {0, 50'000};
    w.config.network.reorder = p();
    w.config.network.reorder_jitter = {0, 10'000};
    w.config.disk.torn_writes = *rc::gen::arbitrary<bool>();
    w.config.disk.read_corruption = p() / 4;
    std::vector<NodeId> all;
    for (NodeId n = 0; n < w.nodes; ++n) all.push_back(n);
    w.faults.crashes = {*rc::gen::arbitrary<bool>(), {millis(5), millis(50)}, all, {0, millis(20)}};
    w.faults.partitions = {
        *rc::gen::arbitrary<bool>(), {millis(10), millis(80)}, {0, millis(50)}, all};
    w.faults.clogs = {*rc::gen::arbitrary<bool>(), {millis(5), millis(30)}, {0, millis(20)}, all};
    return w;
  });
}

struct RunSummary {
  std::uint64_t fingerprint;
  std::vector<TraceEntry> entries;
};

RunSummary run_world(const WorldShape& w, std::uint64_t seed) {
  SimConfig config = w.config;
  config.keep_trace = true;
  Simulation sim(seed, config);
  for (NodeId n = 0; n < w.nodes; ++n) {
    sim.add_node("node" + std::to_string(n),
                 [&w] { return std::make_unique<ChattyNode>(w.nodes, w.ticks); });
  }
  sim.apply(plan_faults(w.faults, Rng(seed).split("faults"), millis(200)));
  sim.start();
  (void)sim.run_until(millis(200));
  sim.begin_heal();
  (void)sim.run_until_quiet(seconds(10));
  return {sim.fingerprint(), sim.trace().entries()};
}

RC_GTEST_PROP(Determinism, SameSeedSameFingerprintAndTrace, ()) {
  const WorldShape w = *gen_world();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const RunSummary a = run_world(w, seed);
  const RunSummary b = run_world(w, seed);
  RC_ASSERT(a.fingerprint == b.fingerprint);
  RC_ASSERT(a.entries == b.entries);
}

RC_GTEST_PROP(Determinism, DifferentSeedsDifferentFingerprints, ()) {
  const WorldShape w = *gen_world();
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  RC_ASSERT(run_world(w, seed).fingerprint != run_world(w, seed + 1).fingerprint);
}

// The central crash guarantee, checked on the trace of random worlds: no
// delivery reaches a receiver that crashed after the message was sent, and no
// timer fires for an incarnation that ended.
RC_GTEST_PROP(Crashes, NoMessageOrTimerOfAnOldIncarnation, ()) {
  WorldShape w = *gen_world();
  w.faults.crashes.enabled = true;
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  const RunSummary run = run_world(w, seed);
  std::map<std::uint64_t, std::uint64_t> send_step;  // message id -> step of its send
  std::map<NodeId, std::uint64_t> last_crash_step;
  for (const TraceEntry& e : run.entries) {
    switch (e.kind) {
      case TraceKind::kSend:
        send_step[e.a] = e.step;
        break;
      case TraceKind::kDuplicate:
        send_step[e.b] = send_step.at(e.a);
        break;
      case TraceKind::kCrash:
        last_crash_step[e.node] = e.step;
        break;
      case TraceKind::kDeliver: {
        const auto crash = last_crash_step.find(e.node);
        if (crash != last_crash_step.end()) RC_ASSERT(send_step.at(e.a) > crash->second);
        break;
      }
      default:
        break;
    }
  }
}

TEST(Crashes, TimersOfACrashedIncarnationNeverFire) {
  Simulation sim(1, SimConfig{});
  std::vector<Received> inbox;
  // (incarnation that armed it, incarnation live when it fired)
  std::vector<std::pair<std::uint32_t, std::uint32_t>> fired;
  Simulation* sim_ptr = &sim;
  add_script_node(sim, "a", inbox, [&fired, sim_ptr](Env& env, std::uint32_t incarnation) {
    for (int i = 1; i <= 20; ++i) {
      env.set_timer(millis(i * 10), [&fired, sim_ptr, incarnation](Env& e) {
        fired.emplace_back(incarnation, sim_ptr->incarnation(e.self()));
      });
    }
  });
  sim.at(millis(55), [](Simulation& s) { s.crash(0); });
  sim.at(millis(120), [](Simulation& s) { s.restart(0); });
  sim.start();
  (void)sim.run_until_quiet(seconds(5));
  ASSERT_EQ(fired.size(), 5U + 20U);  // 10..50ms of the first life, all of the second
  for (const auto& [armed, live] : fired) EXPECT_EQ(armed, live);
  EXPECT_EQ(sim.incarnation(0), 2U);
}

TEST(Crashes, MessagesInFlightToACrashedNodeAreGone) {
  SimConfig config;
  config.network.latency = {millis(10), millis(10)};
  Simulation sim(1, config);
  std::vector<Received> inbox;
  add_script_node(sim, "sender", inbox, [](Env& env, std::uint32_t) {
    env.send(1, payload(1));                                           // arrives at 10ms
    env.set_timer(millis(20), [](Env& e) { e.send(1, payload(2)); });  // arrives at 30ms
  });
  add_script_node(sim, "receiver", inbox);
  sim.at(millis(5), [](Simulation& s) { s.crash(1); });
  sim.at(millis(8), [](Simulation& s) { s.restart(1); });
  sim.start();
  (void)sim.run_until_quiet(seconds(1));
  ASSERT_EQ(inbox.size(), 1U);
  EXPECT_EQ(testing::payload_value(inbox[0].bytes), 2U);
  EXPECT_EQ(inbox[0].incarnation, 2U);
  EXPECT_EQ(sim.trace().count(TraceKind::kDrop), 1U);
}

TEST(Simulation, CancelledTimersDoNotFire) {
  Simulation sim(1, SimConfig{});
  std::vector<Received> inbox;
  int fired = 0;
  bool second_cancel = true;
  add_script_node(sim, "a", inbox, [&](Env& env, std::uint32_t) {
    const TimerId t = env.set_timer(100, [&fired](Env&) { ++fired; });
    env.set_timer(200, [&fired](Env&) { fired += 10; });
    EXPECT_TRUE(env.cancel_timer(t));
    second_cancel = env.cancel_timer(t);
    EXPECT_FALSE(env.cancel_timer(TimerId{}));
  });
  sim.start();
  (void)sim.run_until_quiet(seconds(1));
  EXPECT_EQ(fired, 10);
  EXPECT_FALSE(second_cancel);
}

TEST(Simulation, BoundsAreReportedNotHung) {
  // A node whose timer re-arms forever.
  struct Forever {
    static void arm(Env& env) {
      env.set_timer(1'000, [](Env& e) { arm(e); });
    }
  };
  std::vector<Received> inbox;
  {
    Simulation sim(1, SimConfig{});
    add_script_node(sim, "loop", inbox, [](Env& env, std::uint32_t) { Forever::arm(env); });
    sim.start();
    const RunOutcome r = sim.run_until_quiet(millis(50));
    EXPECT_EQ(r.stop, RunOutcome::Stop::kTimeBound);
    EXPECT_EQ(r.at_us, millis(50));
    EXPECT_EQ(r.events, 50U);
  }
  {
    SimConfig config;
    config.max_events = 10;
    Simulation sim(1, config);
    add_script_node(sim, "loop", inbox, [](Env& env, std::uint32_t) { Forever::arm(env); });
    sim.start();
    const RunOutcome r = sim.run_until(seconds(1));
    EXPECT_EQ(r.stop, RunOutcome::Stop::kStepBound);
    EXPECT_EQ(r.events, 10U);
  }
  {
    Simulation sim(1, SimConfig{});
    add_script_node(sim, "idle", inbox);
    sim.start();
    const RunOutcome r = sim.run_until_quiet(seconds(1));
    EXPECT_EQ(r.stop, RunOutcome::Stop::kQuiet);
    EXPECT_EQ(r.at_us, 0);
  }
}

TEST(Simulation, HealPhaseRestartsHealsAndCalms) {
  SimConfig config;
  config.network.drop = 1.0;
  Simulation sim(1, config);
  std::vector<Received> inbox;
  add_script_node(sim, "a", inbox);
  add_script_node(sim, "b", inbox);
  sim.start();
  sim.crash(1);
  (void)sim.partition({0}, {1});
  EXPECT_FALSE(sim.is_up(1));
  EXPECT_EQ(sim.network().active_partitions(), 1U);
  sim.begin_heal();
  EXPECT_TRUE(sim.is_up(1));
  EXPECT_EQ(sim.network().active_partitions(), 0U);
  EXPECT_EQ(sim.network().faults().drop, 0.0);
  EXPECT_EQ(sim.trace().count(TraceKind::kHeal), 1U);
}

TEST(Simulation, FingerprintCoversPayloads) {
  auto run = [](std::uint64_t value) {
    Simulation sim(1, SimConfig{});
    std::vector<Received> inbox;
    add_script_node(sim, "a", inbox,
                    [value](Env& env, std::uint32_t) { env.send(0, payload(value)); });
    sim.start();
    (void)sim.run_until_quiet(seconds(1));
    return sim.fingerprint();
  };
  EXPECT_EQ(run(1), run(1));
  EXPECT_NE(run(1), run(2));
}

TEST(SimulationDeath, BadCallsAreClearAssertions) {
  EXPECT_DEATH(
      {
        Simulation sim(1, SimConfig{});
        std::vector<Received> inbox;
        add_script_node(sim, "a", inbox, [](Env& env, std::uint32_t) { env.send(7, payload(1)); });
        sim.start();
      },
      "n0 sent to n7, which does not exist.*\n.*seed=1");
  EXPECT_DEATH(
      {
        Simulation sim(1, SimConfig{});
        std::vector<Received> inbox;
        add_script_node(sim, "a", inbox);
        add_script_node(sim, "a", inbox);
      },
      "two nodes named 'a'");
}

}  // namespace
}  // namespace essim::sim

namespace essim::sim {
namespace {

// Writes and syncs on every timer tick; stops itself when storage says no.
class SyncingNode final : public Node {
 public:
  explicit SyncingNode(int* alive) : alive_(alive) { ++*alive_; }
  ~SyncingNode() override { --*alive_; }
  void on_start(Env& env) override { arm(env); }
  void on_message(Env& /*env*/, const Message& /*message*/) override {}

 private:
  void arm(Env& env) {
    env.set_timer(millis(1), [this](Env& e) {
      const Bytes record{1, 2, 3};
      if (!e.ok_or_fail_stop(e.storage().append("log", record))) return;
      if (!e.ok_or_fail_stop(e.storage().sync("log"))) return;
      ++synced_;  // touching the node after a successful sync is fine
      arm(e);
    });
  }
  int* alive_;
  int synced_ = 0;
};

TEST(FailStop, AFailedSyncStopsTheNodeTracesACrashAndItRestarts) {
  SimConfig config;
  config.keep_trace = true;
  config.disk.sync_failures = 0.3;
  config.fail_stop_restart_after = {millis(5), millis(5)};
  Simulation sim(2, config);
  int alive = 0;
  const NodeId id = sim.add_node("w", [&alive] { return std::make_unique<SyncingNode>(&alive); });
  sim.start();
  (void)sim.run_until(millis(200));
  const Trace& trace = sim.trace();
  ASSERT_GT(trace.count(TraceKind::kSyncFailure), 0U);
  EXPECT_EQ(trace.count(TraceKind::kCrash), trace.count(TraceKind::kSyncFailure));
  EXPECT_GE(trace.count(TraceKind::kRestart) + 1, trace.count(TraceKind::kCrash));
  EXPECT_LE(alive, 1);  // a stopped node's object is gone once its callback returns
  const auto& entries = trace.entries();
  for (std::size_t i = 0; i + 1 < entries.size(); ++i) {
    if (entries[i].kind != TraceKind::kSyncFailure) continue;
    const TraceEntry& crash = entries[i + 1];
    ASSERT_EQ(crash.kind, TraceKind::kCrash);
    EXPECT_EQ(crash.node, id);
    EXPECT_EQ(crash.b, 1U);
    EXPECT_NE(crash.text.find("sync of 'log' failed"), std::string::npos) << crash.text;
    // The restart comes after the configured down time.
    const auto restart =
        std::find_if(entries.begin() + static_cast<std::ptrdiff_t>(i) + 2, entries.end(),
                     [](const TraceEntry& e) { return e.kind == TraceKind::kRestart; });
    if (restart != entries.end()) {
      EXPECT_EQ(restart->at_us, crash.at_us + millis(5));
    }
  }
  // The disk kept only what was synced: whole records, never a failed tail.
  const Bytes durable = sim.disk(id).durable_content("log").value();
  EXPECT_EQ(durable.size() % 3, 0U);
}

TEST(FailStopDeath, ANodeThatTouchesItsDiskAfterStoppingIsAnAssertion) {
  class Careless final : public Node {
   public:
    void on_start(Env& env) override {
      env.fail_stop("test");
      (void)env.storage().exists("x");
    }
    void on_message(Env& /*env*/, const Message& /*message*/) override {}
  };
  EXPECT_DEATH(
      {
        Simulation sim(1, SimConfig{});
        sim.add_node("c", [] { return std::make_unique<Careless>(); });
        sim.start();
      },
      "touched its disk after it stopped");
}

}  // namespace
}  // namespace essim::sim
