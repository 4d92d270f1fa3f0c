#include "sim/simulation.h"

#include <fmt/format.h>

#include "sim/probe.h"

namespace essim::sim {

namespace {

// An event reference: kind in the top 8 bits, then a 24-bit generation (timers
// only), then a 32-bit pool index.
enum class EventKind : std::uint64_t { kTimer = 1, kDelivery = 2, kAction = 3 };
constexpr std::uint32_t kGenerationMask = 0xffffff;

constexpr std::uint64_t make_ref(EventKind kind, std::uint32_t generation, std::uint32_t index) {
  return (static_cast<std::uint64_t>(kind) << 56) |
         (static_cast<std::uint64_t>(generation & kGenerationMask) << 32) | index;
}
constexpr EventKind ref_kind(std::uint64_t ref) {
  return static_cast<EventKind>(ref >> 56);
}
constexpr std::uint32_t ref_generation(std::uint64_t ref) {
  return static_cast<std::uint32_t>(ref >> 32) & kGenerationMask;
}
constexpr std::uint32_t ref_index(std::uint64_t ref) {
  return static_cast<std::uint32_t>(ref);
}

template <typename Pool>
std::uint32_t acquire(Pool& pool, std::vector<std::uint32_t>& free_list) {
  if (!free_list.empty()) {
    const std::uint32_t index = free_list.back();
    free_list.pop_back();
    return index;
  }
  ESSIM_ASSERT_MSG(pool.size() < UINT32_MAX, "too many pending events");
  pool.emplace_back();
  return static_cast<std::uint32_t>(pool.size() - 1);
}

}  // namespace

std::string_view to_string(RunOutcome::Stop stop) {
  switch (stop) {
    case RunOutcome::Stop::kReachedTime:
      return "reached-time";
    case RunOutcome::Stop::kQuiet:
      return "quiet";
    case RunOutcome::Stop::kTimeBound:
      return "time-bound";
    case RunOutcome::Stop::kStepBound:
      return "step-bound";
  }
  return "unknown";
}

// ---- SimEnv ----

Micros SimEnv::now() const {
  return sim_->now_us_;
}
void SimEnv::send(NodeId to, ByteView bytes) {
  sim_->send(self_, to, bytes);
}
TimerId SimEnv::set_timer(Micros after_us, TimerCallback callback) {
  return sim_->set_timer(self_, after_us, std::move(callback));
}
bool SimEnv::cancel_timer(TimerId id) {
  return sim_->cancel_timer(id);
}
Storage& SimEnv::storage() {
  Simulation::NodeSlot& n = sim_->slot(self_);
  ESSIM_ASSERT_MSG(n.up, "a node touched its disk after it stopped");
  return *n.disk;
}
Rng& SimEnv::rng() {
  return sim_->slot(self_).rng;
}
void SimEnv::log(std::string_view text) {
  sim_->record(TraceKind::kLog, self_, kNoNode, 0, 0, text);
}
void SimEnv::note(std::string_view what, std::uint64_t a, std::uint64_t b) {
  sim_->record(TraceKind::kNote, self_, kNoNode, a, b, what);
}
void SimEnv::fail_stop(std::string_view reason) {
  sim_->fail_stop(self_, reason);
}

// ---- Simulation ----

Simulation::Simulation(std::uint64_t seed, SimConfig config)
    : seed_(seed),
      config_(config),
      root_(seed),
      trace_(config_.keep_trace),
      network_(root_.split("network"), config_.network),
      fail_stop_rng_(root_.split("fail-stop")) {
  assert_context_.seed = seed;
  queue_.reserve(1024);
}

Simulation::~Simulation() = default;

Simulation::NodeSlot& Simulation::slot(NodeId node) {
  ESSIM_ASSERT_MSG(node < nodes_.size(), fmt::format("no node n{} in this simulation", node));
  return nodes_[node];
}

const Simulation::NodeSlot& Simulation::slot(NodeId node) const {
  ESSIM_ASSERT_MSG(node < nodes_.size(), fmt::format("no node n{} in this simulation", node));
  return nodes_[node];
}

void Simulation::record(TraceKind kind, NodeId node, NodeId peer, std::uint64_t a, std::uint64_t b,
                        std::string_view text) {
  trace_.record(now_us_, kind, node, peer, a, b, text);
}

NodeId Simulation::add_node(std::string name, NodeFactory factory) {
  ESSIM_ASSERT_MSG(!started_, "nodes are added before start()");
  ESSIM_ASSERT_MSG(!name.empty(), "a node needs a name");
  ESSIM_ASSERT_MSG(factory != nullptr, "a node needs a factory");
  ESSIM_ASSERT_MSG(names_.insert(name).second, fmt::format("two nodes named '{}'", name));
  const auto id = static_cast<NodeId>(nodes_.size());
  const std::uint64_t stream = hash_label(name);
  auto recorder = [this, id](TraceKind kind, std::string_view file, std::uint64_t a,
                             std::uint64_t b) { record(kind, id, kNoNode, a, b, file); };
  nodes_.push_back(NodeSlot{
      .name = std::move(name),
      .factory = std::move(factory),
      .disk = std::make_unique<SimDisk>(root_.split("disk", stream), config_.disk, recorder),
      .rng = root_.split("node", stream),
      .env = std::make_unique<SimEnv>(*this, id)});
  return id;
}

void Simulation::start() {
  ESSIM_ASSERT_MSG(!started_, "Simulation::start() called twice");
  started_ = true;
  // Sized once here, not per add_node: the network holds a link per ordered
  // pair, and growing it one node at a time cost O(n^3).
  network_.set_node_count(node_count());
  const AssertContextGuard guard(&assert_context_);
  for (NodeId id = 0; id < node_count(); ++id) start_node(id);
}

void Simulation::start_node(NodeId id) {
  NodeSlot& n = slot(id);
  ESSIM_ASSERT(!n.up);
  n.node = n.factory();
  ESSIM_ASSERT_MSG(n.node != nullptr, fmt::format("the factory of '{}' built no node", n.name));
  n.up = true;
  ++n.incarnation;
  record(n.incarnation == 1 ? TraceKind::kStart : TraceKind::kRestart, id, kNoNode, n.incarnation,
         0);
  n.node->on_start(*n.env);
}

const std::string& Simulation::name(NodeId node) const {
  return slot(node).name;
}
bool Simulation::is_up(NodeId node) const {
  return slot(node).up;
}
std::uint32_t Simulation::incarnation(NodeId node) const {
  return slot(node).incarnation;
}
Node* Simulation::node(NodeId node) {
  return slot(node).node.get();
}
SimDisk& Simulation::disk(NodeId node) {
  return *slot(node).disk;
}

// ---- running ----

RunOutcome Simulation::run_until(Micros until_us) {
  ESSIM_ASSERT_MSG(until_us >= now_us_, "run_until() a time in the past");
  return run(until_us, false, {});
}

RunOutcome Simulation::run_until_quiet(Micros max_us, const std::function<bool()>& quiet) {
  ESSIM_ASSERT_MSG(max_us >= 0, "run_until_quiet() with a negative bound");
  const Micros until_us = now_us_ + std::min(max_us, kTimeMax - now_us_);
  return run(until_us, true, quiet);
}

RunOutcome Simulation::run(Micros until_us, bool until_quiet, const std::function<bool()>& quiet) {
  ESSIM_ASSERT_MSG(started_, "run before start()");
  const AssertContextGuard guard(&assert_context_);
  const std::uint64_t events_before = events_;
  auto outcome = [&](RunOutcome::Stop stop) {
    return RunOutcome{stop, now_us_, events_ - events_before};
  };
  for (;;) {
    if (until_quiet && (queue_.empty() || (quiet && quiet()))) {
      return outcome(RunOutcome::Stop::kQuiet);
    }
    if (queue_.empty() || queue_.top().at_us > until_us) {
      now_us_ = until_us;
      return outcome(until_quiet ? RunOutcome::Stop::kTimeBound : RunOutcome::Stop::kReachedTime);
    }
    if (events_ >= config_.max_events) return outcome(RunOutcome::Stop::kStepBound);
    const EventQueue::Entry entry = queue_.pop();
    ESSIM_ASSERT(entry.at_us >= now_us_);
    now_us_ = entry.at_us;
    ++events_;
    assert_context_.step = trace_.steps();
    assert_context_.now_us = now_us_;
    dispatch(entry.ref);
    stopped_.clear();
  }
}

void Simulation::dispatch(std::uint64_t ref) {
  switch (ref_kind(ref)) {
    case EventKind::kTimer:
      fire_timer(ref_index(ref), ref_generation(ref));
      return;
    case EventKind::kDelivery:
      deliver(ref_index(ref));
      return;
    case EventKind::kAction:
      run_action(ref_index(ref));
      return;
  }
  ESSIM_ASSERT_MSG(false, "an event of unknown kind");
}

// ---- timers ----

TimerId Simulation::set_timer(NodeId node, Micros after_us, TimerCallback callback) {
  ESSIM_ASSERT_MSG(after_us >= 0, "a timer cannot fire in the past");
  ESSIM_ASSERT_MSG(after_us <= kTimeMax - now_us_, "a timer beyond the end of time");
  ESSIM_ASSERT_MSG(static_cast<bool>(callback), "a timer needs a callback");
  const std::uint32_t index = acquire(timers_, free_timers_);
  PendingTimer& t = timers_[index];
  t.generation = (t.generation + 1) & kGenerationMask;
  if (t.generation == 0) t.generation = 1;
  t.callback = std::move(callback);
  t.node = node;
  t.incarnation = slot(node).incarnation;
  t.armed = true;
  queue_.push(now_us_ + after_us, make_ref(EventKind::kTimer, t.generation, index));
  return TimerId{(std::uint64_t{t.generation} << 32) | index};
}

bool Simulation::cancel_timer(TimerId id) {
  const auto index = static_cast<std::uint32_t>(id.value);
  const auto generation = static_cast<std::uint32_t>(id.value >> 32);
  if (index >= timers_.size()) return false;
  PendingTimer& t = timers_[index];
  if (!t.armed || t.generation != generation) return false;
  t.armed = false;
  t.callback.reset();
  free_timers_.push_back(index);
  return true;
}

void Simulation::fire_timer(std::uint32_t index, std::uint32_t generation) {
  PendingTimer& t = timers_[index];
  if (!t.armed || t.generation != generation) return;  // cancelled
  t.armed = false;
  TimerCallback callback = std::move(t.callback);
  const NodeId node = t.node;
  const std::uint32_t incarnation = t.incarnation;
  free_timers_.push_back(index);
  NodeSlot& n = slot(node);
  // A timer of an earlier incarnation died with it.
  if (!n.up || n.incarnation != incarnation) return;
  record(TraceKind::kTimer, node, kNoNode, (std::uint64_t{generation} << 32) | index, 0);
  callback(*n.env);
}

// ---- messages ----

void Simulation::send(NodeId from, NodeId to, ByteView bytes) {
  ESSIM_ASSERT_MSG(to < nodes_.size(),
                   fmt::format("n{} sent to n{}, which does not exist", from, to));
  const std::uint64_t id = next_message_id_++;
  const std::uint64_t hash = hash_bytes(bytes);
  record(TraceKind::kSend, from, to, id, hash);
  const Network::Route route = network_.route(now_us_, from, to);
  if (route.dropped) {
    record(TraceKind::kDrop, from, to, id, static_cast<std::uint64_t>(route.reason));
    if (route.reason == DropReason::kPartitioned) probe(kProbePartitionDropped);
    if (route.reason == DropReason::kRandom) count("faults.drop");
    return;
  }
  if (route.delay_extra_us > 0) {
    record(TraceKind::kDelay, from, to, id, static_cast<std::uint64_t>(route.delay_extra_us));
  }
  if (route.jitter_us >= 0) {
    record(TraceKind::kReorder, from, to, id, static_cast<std::uint64_t>(route.jitter_us));
  }
  schedule_delivery(route.deliver_at_us[0], from, to, id, hash, bytes);
  if (route.copies == 2) {
    const std::uint64_t copy_id = next_message_id_++;
    record(TraceKind::kDuplicate, from, to, id, copy_id);
    schedule_delivery(route.deliver_at_us[1], from, to, copy_id, hash, bytes);
  }
}

void Simulation::schedule_delivery(Micros at_us, NodeId from, NodeId to, std::uint64_t id,
                                   std::uint64_t hash, ByteView bytes) {
  const std::uint32_t index = acquire(in_flight_, free_in_flight_);
  InFlight& m = in_flight_[index];
  m.from = from;
  m.to = to;
  // Addressed to the receiver's live incarnation, or, while it is down, to
  // the next one: a crash takes what was in flight to it, not what is sent later.
  const NodeSlot& receiver = slot(to);
  m.to_incarnation = receiver.up ? receiver.incarnation : receiver.incarnation + 1;
  m.id = id;
  m.hash = hash;
  m.bytes.assign(bytes.begin(), bytes.end());  // reuses the slot's capacity
  queue_.push(at_us, make_ref(EventKind::kDelivery, 0, index));
}

void Simulation::deliver(std::uint32_t index) {
  InFlight& m = in_flight_[index];
  NodeSlot& receiver = slot(m.to);
  if (!receiver.up || receiver.incarnation != m.to_incarnation) {
    record(TraceKind::kDrop, m.from, m.to, m.id,
           static_cast<std::uint64_t>(DropReason::kReceiverDown));
  } else if (network_.cut(m.from, m.to)) {
    record(TraceKind::kDrop, m.from, m.to, m.id,
           static_cast<std::uint64_t>(DropReason::kPartitioned));
    probe(kProbePartitionDropped);
  } else {
    record(TraceKind::kDeliver, m.to, m.from, m.id, m.hash);
    receiver.node->on_message(*receiver.env, Message{m.from, m.to, m.bytes});
  }
  free_in_flight_.push_back(index);
}

// ---- actions and faults ----

void Simulation::at(Micros at_us, std::function<void(Simulation&)> action) {
  ESSIM_ASSERT_MSG(at_us >= now_us_, "an action cannot be scheduled in the past");
  ESSIM_ASSERT_MSG(action != nullptr, "an empty action");
  const std::uint32_t index = acquire(actions_, free_actions_);
  actions_[index] = std::move(action);
  queue_.push(at_us, make_ref(EventKind::kAction, 0, index));
}

void Simulation::note(std::string_view what, std::uint64_t a, std::uint64_t b) {
  record(TraceKind::kNote, kNoNode, kNoNode, a, b, what);
}

void Simulation::run_action(std::uint32_t index) {
  std::function<void(Simulation&)> action = std::move(actions_[index]);
  actions_[index] = nullptr;
  free_actions_.push_back(index);
  action(*this);
}

void Simulation::apply(const FaultPlan& plan) {
  for (const FaultAction& action : plan.actions) {
    at(std::max(action.at_us, now_us_), [action](Simulation& sim) { sim.apply_action(action); });
  }
}

void Simulation::apply_action(const FaultAction& a) {
  if (healing_) return;
  switch (a.kind) {
    case FaultKind::kCrash:
      crash(a.node);
      return;
    case FaultKind::kRestart:
      restart(a.node);
      return;
    case FaultKind::kPartition:
      plan_partitions_[a.partition] = partition(a.side_a, a.side_b);
      return;
    case FaultKind::kHeal: {
      const auto it = plan_partitions_.find(a.partition);
      if (it == plan_partitions_.end()) return;
      heal(it->second);
      plan_partitions_.erase(it);
      return;
    }
    case FaultKind::kClog:
      clog(a.node, a.peer, a.duration_us);
      return;
  }
}

void Simulation::crash(NodeId id) {
  if (!slot(id).up) return;
  stop_node(id, 0, {});
  stopped_.clear();  // not called from the node's own code
}

// Memory is gone; its timers and in-flight messages die lazily. The object
// waits in stopped_ until no callback of it can be on the stack.
void Simulation::stop_node(NodeId id, std::uint64_t why, std::string_view reason) {
  NodeSlot& n = slot(id);
  ESSIM_ASSERT(n.up);
  ESSIM_ASSERT(n.node != nullptr);
  record(TraceKind::kCrash, id, kNoNode, n.incarnation, why, reason);
  n.up = false;
  stopped_.push_back(std::move(n.node));
  n.disk->crash();
}

void Simulation::fail_stop(NodeId id, std::string_view reason) {
  NodeSlot& n = slot(id);
  ESSIM_ASSERT_MSG(n.up, "a node fail-stopped twice");
  const std::uint32_t incarnation = n.incarnation;
  stop_node(id, 1, reason.empty() ? std::string_view("fail-stop") : reason);
  const DurationRange down = config_.fail_stop_restart_after;
  const Micros after_us = fail_stop_rng_.between(down.min_us, down.max_us);
  at(now_us_ + std::min(after_us, kTimeMax - now_us_), [id, incarnation](Simulation& sim) {
    // Only the incarnation that stopped: a later crash keeps its own down time.
    if (sim.incarnation(id) != incarnation) return;
    sim.restart(id);
  });
}

void Simulation::restart(NodeId id) {
  if (slot(id).up) return;
  start_node(id);
}

std::uint64_t Simulation::partition(const std::vector<NodeId>& side_a,
                                    const std::vector<NodeId>& side_b) {
  const std::uint64_t id = network_.partition(side_a, side_b);
  std::uint64_t mask = 0;
  for (const NodeId n : side_a) {
    if (n < 64) mask |= std::uint64_t{1} << n;
  }
  record(TraceKind::kPartition, kNoNode, kNoNode, id, mask);
  return id;
}

bool Simulation::heal(std::uint64_t partition_id) {
  if (!network_.heal(partition_id)) return false;
  record(TraceKind::kHeal, kNoNode, kNoNode, partition_id, 0);
  return true;
}

void Simulation::clog(NodeId from, NodeId to, Micros duration_us) {
  ESSIM_ASSERT_MSG(duration_us >= 0, "a clog cannot last a negative time");
  const Micros until_us = now_us_ + std::min(duration_us, kTimeMax - now_us_);
  network_.clog(from, to, until_us);
  record(TraceKind::kClog, from, to, static_cast<std::uint64_t>(until_us), 0);
}

void Simulation::begin_heal() {
  if (healing_) return;
  healing_ = true;
  record(TraceKind::kPhase, kNoNode, kNoNode, 0, 0, "heal");
  network_.calm();
  for (const std::uint64_t id : network_.partition_ids()) heal(id);
  plan_partitions_.clear();
  network_.unclog_all();
  for (NodeSlot& n : nodes_) {
    DiskFaults calm = n.disk->faults();
    calm.read_corruption = 0.0;
    calm.sync_failures = 0.0;
    n.disk->set_faults(calm);
  }
  const AssertContextGuard guard(&assert_context_);
  for (NodeId id = 0; id < node_count(); ++id) restart(id);
}

}  // namespace essim::sim
