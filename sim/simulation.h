#pragma once
// The simulated world: nodes, virtual time, the scheduler, the network, the
// disks, crashes and restarts, the fault plan and the trace. One seed fixes
// everything that happens in it.
//
// Nothing here knows of events or domains: a Simulation runs Nodes, which it
// builds from factories and reaches only through their Env.

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sim/assert.h"
#include "sim/disk.h"
#include "sim/env.h"
#include "sim/event_queue.h"
#include "sim/fault_plan.h"
#include "sim/network.h"
#include "sim/rng.h"
#include "sim/trace.h"

namespace essim::sim {

struct SimConfig {
  NetworkFaults network{};
  DiskFaults disk{};
  // Keep every trace entry (for replay, the viewer, tests). Off in sweeps:
  // the fingerprint is computed either way.
  bool keep_trace = false;
  // The most events one run may process; reaching it stops the run and is
  // reported (RunOutcome::Stop::kStepBound), never a hang.
  std::uint64_t max_events = 100'000'000;
  // How long a fail-stopped node stays down before it restarts (drawn per
  // fail-stop from a stream of its own).
  DurationRange fail_stop_restart_after{millis(10), millis(500)};
};

using NodeFactory = std::function<std::unique_ptr<Node>()>;

struct RunOutcome {
  enum class Stop {
    kReachedTime,  // run_until: every event up to the time ran
    kQuiet,        // run_until_quiet: nothing left to do (or the predicate held)
    kTimeBound,    // run_until_quiet: still busy when the bound passed
    kStepBound,    // SimConfig::max_events reached
  };
  Stop stop = Stop::kReachedTime;
  Micros at_us = 0;
  std::uint64_t events = 0;  // processed by this call
};
std::string_view to_string(RunOutcome::Stop stop);

class Simulation;

// The Env a simulated node sees.
class SimEnv final : public Env {
 public:
  SimEnv(Simulation& sim, NodeId self) : sim_(&sim), self_(self) {}
  Micros now() const override;
  NodeId self() const override { return self_; }
  void send(NodeId to, ByteView bytes) override;
  TimerId set_timer(Micros after_us, TimerCallback callback) override;
  bool cancel_timer(TimerId id) override;
  Storage& storage() override;
  Rng& rng() override;
  void log(std::string_view text) override;
  void note(std::string_view what, std::uint64_t a, std::uint64_t b) override;
  void fail_stop(std::string_view reason) override;

 private:
  Simulation* sim_;
  NodeId self_;
};

class Simulation {
 public:
  Simulation(std::uint64_t seed, SimConfig config);
  ~Simulation();
  Simulation(const Simulation&) = delete;
  Simulation& operator=(const Simulation&) = delete;

  // Adds a node, down until start(). Names must be unique and non-empty; a
  // node's streams (disk, rng) derive from its name, not from its id.
  NodeId add_node(std::string name, NodeFactory factory);
  // Starts every node added so far, now, in id order. Called once.
  void start();

  // Runs every event due at or before `until_us`, then sets the clock to it.
  RunOutcome run_until(Micros until_us);
  // Runs until no event is pending, or `quiet()` holds after an event, or
  // `max_us` of simulated time pass.
  RunOutcome run_until_quiet(Micros max_us, const std::function<bool()>& quiet = {});

  // Schedules a harness-level action (not a node's) at `at_us` >= now().
  void at(Micros at_us, std::function<void(Simulation&)> action);
  // A note of the harness's own (an operation it ran) in the trace, at now(),
  // on no node.
  void note(std::string_view what, std::uint64_t a, std::uint64_t b);
  // Schedules every action of the plan (times are absolute).
  void apply(const FaultPlan& plan);

  // Faults, applied now. Crashing a down node or restarting an up one does nothing.
  void crash(NodeId node);
  void restart(NodeId node);
  // The node stopped itself on a storage error (Env::fail_stop): a crash,
  // traced with `reason`, and a restart scheduled. Safe from inside the node's
  // own callback: the node object outlives the callback.
  void fail_stop(NodeId node, std::string_view reason);
  std::uint64_t partition(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b);
  bool heal(std::uint64_t partition_id);
  void clog(NodeId from, NodeId to, Micros duration_us);

  // Ends the chaos phase: random network and disk faults off, partitions
  // healed, clogs cleared, crashed nodes restarted, and fault-plan actions
  // still pending ignored.
  void begin_heal();
  bool healing() const { return healing_; }

  Micros now() const { return now_us_; }
  std::uint64_t seed() const { return seed_; }
  std::uint64_t fingerprint() const { return trace_.fingerprint(); }
  const Trace& trace() const { return trace_; }
  std::uint64_t events() const { return events_; }
  std::size_t pending_events() const { return queue_.size(); }

  NodeId node_count() const { return static_cast<NodeId>(nodes_.size()); }
  const std::string& name(NodeId node) const;
  bool is_up(NodeId node) const;
  std::uint32_t incarnation(NodeId node) const;
  // The running node object, or nullptr while the node is down. For checkers.
  Node* node(NodeId node);
  SimDisk& disk(NodeId node);
  Network& network() { return network_; }
  const Network& network() const { return network_; }

 private:
  friend class SimEnv;

  struct NodeSlot {
    std::string name{};
    NodeFactory factory{};
    std::unique_ptr<Node> node{};
    bool up = false;
    std::uint32_t incarnation = 0;
    std::unique_ptr<SimDisk> disk{};
    Rng rng;
    std::unique_ptr<SimEnv> env{};
  };
  struct PendingTimer {
    TimerCallback callback;
    NodeId node = kNoNode;
    std::uint32_t incarnation = 0;
    std::uint32_t generation = 0;
    bool armed = false;
  };
  struct InFlight {
    NodeId from = kNoNode;
    NodeId to = kNoNode;
    std::uint32_t to_incarnation = 0;
    std::uint64_t id = 0;
    std::uint64_t hash = 0;
    Bytes bytes;
  };

  NodeSlot& slot(NodeId node);
  const NodeSlot& slot(NodeId node) const;
  RunOutcome run(Micros until_us, bool until_quiet, const std::function<bool()>& quiet);
  void dispatch(std::uint64_t ref);
  void fire_timer(std::uint32_t index, std::uint32_t generation);
  void deliver(std::uint32_t index);
  void run_action(std::uint32_t index);
  void start_node(NodeId node);
  void send(NodeId from, NodeId to, ByteView bytes);
  void schedule_delivery(Micros at_us, NodeId from, NodeId to, std::uint64_t id, std::uint64_t hash,
                         ByteView bytes);
  TimerId set_timer(NodeId node, Micros after_us, TimerCallback callback);
  bool cancel_timer(TimerId id);
  void apply_action(const FaultAction& action);
  void stop_node(NodeId node, std::uint64_t why, std::string_view reason);
  void record(TraceKind kind, NodeId node, NodeId peer, std::uint64_t a, std::uint64_t b,
              std::string_view text = {});

  std::uint64_t seed_;
  SimConfig config_;
  Rng root_;
  Micros now_us_ = 0;
  std::uint64_t events_ = 0;
  bool started_ = false;
  bool healing_ = false;
  AssertContext assert_context_;
  Trace trace_;
  Network network_;
  EventQueue queue_;
  std::vector<NodeSlot> nodes_;
  // Nodes that fail-stopped inside their own callback, destroyed after it.
  std::vector<std::unique_ptr<Node>> stopped_;
  Rng fail_stop_rng_;
  std::set<std::string> names_;  // of nodes_, to refuse a second node of one name
  // Pools: a slot is reused once free, so steady state allocates nothing.
  // Deques keep references stable while a callback adds to them.
  std::deque<PendingTimer> timers_;
  std::vector<std::uint32_t> free_timers_;
  std::deque<InFlight> in_flight_;
  std::vector<std::uint32_t> free_in_flight_;
  std::deque<std::function<void(Simulation&)>> actions_;
  std::vector<std::uint32_t> free_actions_;
  std::uint64_t next_message_id_ = 1;
  // Fault-plan partition number -> the network's partition id.
  std::map<std::uint32_t, std::uint64_t> plan_partitions_;
};

}  // namespace essim::sim
