#include "harness/cluster.h"

#include <algorithm>
#include <exception>
#include <map>
#include <set>
#include <tuple>
#include <typeinfo>

#include <fmt/format.h>

#include "harness/names.h"
#include "model/audit.h"
#include "model/log.h"
#include "model/trace_notes.h"
#include "model/user_code.h"
#include "sim/assert.h"

namespace essim::harness {

namespace {

constexpr sim::NodeId kStoreId = 0;
constexpr sim::NodeId kBusId = 1;

sim::NodeId projection_id(std::size_t index) {
  return static_cast<sim::NodeId>(2 + index);
}

sim::NodeId client_id(const ClusterSpec& spec, int index) {
  return static_cast<sim::NodeId>(2 + spec.projections.size() + static_cast<std::size_t>(index));
}

// A rebuild's nodes: its worker, its bus, its router.
sim::NodeId rebuild_id(const ClusterSpec& spec, std::size_t rebuild, std::size_t which) {
  return static_cast<sim::NodeId>(2 + spec.projections.size() +
                                  static_cast<std::size_t>(std::max(0, spec.clients)) +
                                  kNodesPerRebuild * rebuild + which);
}

bool has_backups(const ClusterSpec& spec) {
  return !operations_of(spec.operations, Operation::Kind::kBackup).empty();
}
bool has_restore(const ClusterSpec& spec) {
  return !operations_of(spec.operations, Operation::Kind::kRestore).empty();
}

sim::NodeId backup_agent_id(const ClusterSpec& spec) {
  return rebuild_id(spec, rebuilds_of(spec.operations).size(), 0);
}

// The restore's nodes: 0 its store, 1 its bus, then a worker per projection,
// then its client.
sim::NodeId restore_id(const ClusterSpec& spec, std::size_t which) {
  return static_cast<sim::NodeId>(backup_agent_id(spec) + (has_backups(spec) ? 1 : 0) + which);
}
sim::NodeId restored_client_id(const ClusterSpec& spec) {
  return restore_id(spec, 2 + spec.projections.size());
}

// The key store comes after every other node.
sim::NodeId key_store_id(const ClusterSpec& spec) {
  return has_restore(spec) ? restored_client_id(spec) + 1 : restore_id(spec, 0);
}
sim::NodeId keys_of(const ClusterSpec& spec) {
  return spec.key_store ? key_store_id(spec) : sim::kNoNode;
}

// A rebuild's worker counts as a projection and its bus as a bus; its router
// is never a fault target (it keeps no durable state). The restored store,
// bus, workers and client count as the store, the bus, projections and
// clients; the backup agent is never a target (it keeps nothing).
std::vector<sim::NodeId> target_ids(const ClusterSpec& spec, const FaultTargets& t) {
  std::vector<sim::NodeId> nodes;
  if (t.store) nodes.push_back(kStoreId);
  if (t.bus) nodes.push_back(kBusId);
  for (std::size_t i = 0; i < spec.projections.size(); ++i) {
    const std::string& name = spec.projections[i].name;
    if (t.projections || std::find(t.named.begin(), t.named.end(), name) != t.named.end())
      nodes.push_back(projection_id(i));
  }
  if (t.clients) {
    for (int i = 0; i < spec.clients; ++i) nodes.push_back(client_id(spec, i));
  }
  for (std::size_t k = 0; k < rebuilds_of(spec.operations).size(); ++k) {
    if (t.projections) nodes.push_back(rebuild_id(spec, k, 0));
    if (t.bus) nodes.push_back(rebuild_id(spec, k, 1));
  }
  if (has_restore(spec)) {
    if (t.store) nodes.push_back(restore_id(spec, 0));
    if (t.bus) nodes.push_back(restore_id(spec, 1));
    for (std::size_t i = 0; i < spec.projections.size() && t.projections; ++i)
      nodes.push_back(restore_id(spec, 2 + i));
    if (t.clients) nodes.push_back(restored_client_id(spec));
  }
  if (spec.key_store && t.store) nodes.push_back(key_store_id(spec));
  return nodes;
}

std::vector<sim::NodeId> all_ids(const ClusterSpec& spec) {
  return target_ids(spec, FaultTargets{});
}

sim::Result<bool> check_duration(const char* what, sim::Micros us, sim::Micros min) {
  if (us < min || us > sim::kDurationMax) {
    return sim::Error{fmt::format("{} must be from {} to {}, not {}", what,
                                  sim::format_duration(min),
                                  sim::format_duration(sim::kDurationMax), us)};
  }
  return true;
}

sim::Result<bool> check_range(const char* what, const sim::DurationRange& r) {
  if (r.min_us < 0 || r.max_us < r.min_us || r.max_us > sim::kDurationMax) {
    return sim::Error{fmt::format("{} must be a range within 0..{}", what,
                                  sim::format_duration(sim::kDurationMax))};
  }
  return true;
}

sim::Result<bool> check_nodes(const ClusterSpec& spec, const model::Registry& registry) {
  const model::Domain* domain = registry.domain(spec.domain);
  if (domain == nullptr) return sim::Error{fmt::format("no domain '{}'", spec.domain)};
  if (spec.clients < 0 || spec.clients > kClientsMax)
    return sim::Error{fmt::format("clients must be from 0 to {}", kClientsMax)};
  if (spec.projections.size() > kProjectionsMax)
    return sim::Error{fmt::format("at most {} projections", kProjectionsMax)};
  std::set<std::string, std::less<>> names{"store", "bus"};
  for (const ProjectionSpec& p : spec.projections) {
    if (const std::string problem = name_problem(p.name, NameRule::kWord); !problem.empty())
      return sim::Error{fmt::format("the projection name '{}' {}", printable(p.name), problem)};
    if (p.name.starts_with("client") || !names.insert(p.name).second)
      return sim::Error{fmt::format("the node name '{}' is taken", p.name)};
    const auto found = registry.handler(p.handler);
    if (!found) return sim::Error{fmt::format("no projection handler '{}'", p.handler)};
    if (found->domain != domain)
      return sim::Error{fmt::format("'{}' is a handler of another domain", p.handler)};
  }
  const bool personal = !model::PersonalIndex(*domain).empty();
  if (personal != spec.key_store)
    return sim::Error{
        fmt::format("the {} domain declares {}personal data: its cluster {} the "
                    "key store (key_store)",
                    spec.domain, personal ? "" : "no ", personal ? "needs" : "has no")};
  if (spec.operations.size() > kOperationsMax)
    return sim::Error{fmt::format("at most {} operations", kOperationsMax)};
  std::set<std::string> rebuilt;
  std::set<std::string> seen;
  std::set<std::string> forgotten;
  for (const Operation& op : spec.operations) {
    if (op.at_us < 0 || op.at_us >= spec.chaos_us)
      return sim::Error{
          fmt::format("the operation '{}' must start within the chaos phase", describe(op))};
    if (op.kind == Operation::Kind::kForget) {
      if (!spec.key_store)
        return sim::Error{
            fmt::format("the {} domain declares no personal data to forget", spec.domain)};
      if (const std::string problem = name_problem(op.target, NameRule::kText); !problem.empty())
        return sim::Error{fmt::format("the subject '{}' {}", printable(op.target), problem)};
      if (!forgotten.insert(op.target).second)
        return sim::Error{fmt::format("the subject '{}' is forgotten twice", op.target)};
      continue;
    }
    if (op.kind != Operation::Kind::kRebuild) {
      if (op.target != "store")
        return sim::Error{
            fmt::format("{} acts on the store, not '{}'", to_string(op.kind), op.target)};
      if (!seen.insert(describe(op)).second)
        return sim::Error{fmt::format("the operation '{}' is there twice", describe(op))};
      continue;
    }
    const bool known = std::any_of(spec.projections.begin(), spec.projections.end(),
                                   [&](const ProjectionSpec& p) { return p.name == op.target; });
    if (!known) return sim::Error{fmt::format("no projection '{}' to rebuild", op.target)};
    if (!rebuilt.insert(op.target).second)
      return sim::Error{fmt::format("the projection '{}' is rebuilt twice", op.target)};
    if (op.at_us < 0 || op.at_us >= spec.chaos_us)
      return sim::Error{
          fmt::format("the rebuild of '{}' must start within the chaos phase", op.target)};
    for (const std::string& name : rebuild_node_names(op.target)) {
      if (name.starts_with("client") || !names.insert(name).second)
        return sim::Error{
            fmt::format("the node name '{}' (of the rebuild of '{}') is taken", name, op.target)};
    }
  }
  const std::vector<Operation> restores = operations_of(spec.operations, Operation::Kind::kRestore);
  if (restores.size() > 1) return sim::Error{"at most one restore"};
  if (!restores.empty()) {
    const auto backups = operations_of(spec.operations, Operation::Kind::kBackup);
    if (std::none_of(backups.begin(), backups.end(),
                     [&](const Operation& b) { return b.at_us < restores.front().at_us; }))
      return sim::Error{"a restore needs a backup before it"};
  }
  std::vector<std::string> added = operation_node_names(spec);
  added.erase(added.begin(),
              added.begin() + static_cast<std::ptrdiff_t>(kNodesPerRebuild *
                                                          rebuilds_of(spec.operations).size()));
  for (const std::string& name : added) {
    if (!names.insert(name).second)
      return sim::Error{fmt::format(
          "the node name '{}' (of a backup, a restore or the key store) is taken", name)};
  }
  return true;
}

sim::Result<bool> check_work(const ClusterSpec& spec, const model::Registry& registry) {
  const auto kinds = registry.domain(spec.domain)->work_kinds();
  const std::vector<model::WorkWeight> mix =
      spec.mix.empty() ? registry.domain(spec.domain)->mix() : spec.mix;
  std::uint64_t total = 0;
  for (const model::WorkWeight& w : mix) {
    if (std::find(kinds.begin(), kinds.end(), w.kind) == kinds.end())
      return sim::Error{fmt::format("the {} domain has no work '{}'", spec.domain, w.kind)};
    total += w.weight;
  }
  if (total == 0 && spec.clients > 0) return sim::Error{"the workload mix has no positive weight"};
  return check_duration("the interval between a client's operations", spec.client_interval_us, 1);
}

sim::Result<bool> check_times(const ClusterSpec& spec) {
  for (const auto& [what, us, min] :
       {std::tuple{"topology.store.group_commit", spec.store.group_commit_us, sim::Micros{0}},
        std::tuple{"topology.store.commit_delay_max", spec.store.commit_delay_max_us,
                   sim::Micros{0}},
        std::tuple{"topology.bus.poll_every", spec.bus.poll_every_us, sim::Micros{1}},
        std::tuple{"topology.bus.redelivery_after", spec.bus.redeliver_after_us, sim::Micros{1}},
        std::tuple{"heal_max", spec.heal_max_us, sim::Micros{1}}}) {
    if (auto ok = check_duration(what, us, min); !ok) return ok;
  }
  if (auto ok = check_range("topology.store.fsync", spec.store.fsync_latency); !ok) return ok;
  if (spec.chaos_us < 0 || spec.chaos_us > sim::kChaosMax)
    return sim::Error{
        fmt::format("duration must be at most {}", sim::format_duration(sim::kChaosMax))};
  for (const auto& [what, r] :
       {std::pair{"faults.network.latency", spec.sim.network.latency},
        std::pair{"faults.network.delay_extra", spec.sim.network.delay_extra},
        std::pair{"faults.network.jitter", spec.sim.network.reorder_jitter}}) {
    if (auto ok = check_range(what, r); !ok) return ok;
  }
  return spec.sim.network.validate();
}

sim::Result<bool> check_faults(const ClusterSpec& spec) {
  const sim::FaultConfig faults = fault_config(spec);
  for (const auto& [what, r] : {std::pair{"faults.crashes.every", spec.crash_every},
                                std::pair{"faults.crashes.restart_after", spec.restart_after},
                                std::pair{"faults.partitions.every", spec.partition_every},
                                std::pair{"faults.partitions.heal_after", spec.heal_after},
                                std::pair{"faults.clogs.every", spec.clog_every},
                                std::pair{"faults.clogs.duration", spec.clog_duration}}) {
    if (auto ok = check_range(what, r); !ok) return ok;
  }
  if (auto ok = faults.validate(static_cast<sim::NodeId>(node_count(spec))); !ok) return ok;
  const std::uint64_t bound = sim::fault_plan_bound(faults, spec.chaos_us).total();
  if (bound > sim::kFaultPlanEntriesMax) {
    return sim::Error{fmt::format("the fault plan could hold {} entries, above the {} allowed",
                                  bound, sim::kFaultPlanEntriesMax)};
  }
  return true;
}

// A script's decisions name nodes of this cluster and stay within the bounds.
sim::Result<bool> check_script(const ClusterSpec& spec) {
  if (!spec.script) return true;
  const Decisions& d = *spec.script;
  const auto count = static_cast<sim::NodeId>(node_count(spec));
  if (d.chaos_us < 0 || d.chaos_us > sim::kChaosMax)
    return sim::Error{"repro.chaos is out of range"};
  for (const sim::FaultAction& f : d.faults) {
    bool known = f.at_us >= 0 && f.at_us <= sim::kChaosMax && f.duration_us >= 0 &&
                 f.duration_us <= sim::kDurationMax;
    if (f.kind == sim::FaultKind::kCrash || f.kind == sim::FaultKind::kRestart ||
        f.kind == sim::FaultKind::kClog)
      known = known && f.node < count;
    if (f.kind == sim::FaultKind::kClog) known = known && f.peer < count;
    for (const sim::NodeId n : f.side_a) known = known && n < count;
    for (const sim::NodeId n : f.side_b) known = known && n < count;
    if (!known)
      return sim::Error{fmt::format("the repro fault '{}' is out of range", sim::describe(f))};
  }
  for (const sim::MessageFate& m : d.messages) {
    if (m.from >= count || m.to >= count || m.amount_us < 0 || m.amount_us > sim::kDurationMax)
      return sim::Error{"a repro message names an unknown node or is out of range"};
  }
  for (const model::PlannedWork& w : d.work) {
    if (static_cast<int>(w.client) >= work_clients(spec) || w.at_us < 0 || w.at_us > sim::kChaosMax)
      return sim::Error{"a repro work entry names an unknown client or is out of range"};
  }
  std::set<std::string> seen;
  for (const Operation& op : d.operations) {
    // A rebuild of the scenario's, at any time; an audit exactly as the scenario's.
    const bool known =
        std::any_of(spec.operations.begin(), spec.operations.end(), [&](const Operation& o) {
          return o.kind == op.kind && o.target == op.target &&
                 (op.kind == Operation::Kind::kRebuild || o.at_us == op.at_us);
        });
    // Each at most once.
    const std::string key = op.kind == Operation::Kind::kRebuild ? op.target : describe(op);
    if (!known || !seen.insert(key).second || op.at_us < 0 || op.at_us > sim::kChaosMax)
      return sim::Error{
          fmt::format("the repro operation '{}' is not one of the scenario's "
                      "operations, or is out of range",
                      describe(op))};
  }
  return true;
}

// The backup agent, and the restore's nodes (dormant until the restore).
void build_backup_and_restore(Cluster& c, const ClusterSpec& spec, const model::Registry& registry,
                              const model::StoreConfig& store_config,
                              const std::vector<model::WorkWeight>& mix) {
  sim::Simulation& s = *c.sim;
  if (has_backups(spec)) {
    model::BackupAgentConfig agent;
    agent.store = kStoreId;
    agent.log = c.backups.get();
    // The bug copies the store's file instead (run_cluster), without the agent.
    if (!spec.bugs.has(model::Bug::kBackupCopiesTornTail)) {
      for (const Operation& op : operations_of(c.operations, Operation::Kind::kBackup))
        agent.at_us.push_back(op.at_us);
    }
    Cluster* cluster = &c;
    agent.on_fixed = [cluster](model::Backup& b) { cluster->record_durable_at_fix(b); };
    agent.on_done = [cluster](model::Backup& b) { cluster->record_durable(b); };
    c.backup_agent = s.add_node(std::string(kBackupAgentName), [agent] {
      return std::make_unique<model::BackupAgentNode>(agent);
    });
    ESSIM_ASSERT(c.backup_agent == backup_agent_id(spec));
  }
  if (!has_restore(spec)) return;
  c.restore = std::make_unique<Cluster::Restore>();
  Cluster::Restore& r = *c.restore;
  const auto runs = operations_of(c.operations, Operation::Kind::kRestore);
  r.runs = !runs.empty();
  const sim::Micros start_at = r.runs ? runs.front().at_us : sim::kTimeMax;
  model::StoreConfig restored = store_config;
  if (r.runs) {
    restored.ready = [&r] { return r.restored_at_us.has_value(); };
    restored.ready_from_us = start_at;
  }
  r.store = s.add_node(std::string(kRestoredStoreName),
                       [restored] { return std::make_unique<model::StoreNode>(restored); });
  model::BusConfig bus = spec.bus;
  bus.store = r.store;
  for (std::size_t i = 0; i < spec.projections.size(); ++i)
    bus.subscribers.push_back(restore_id(spec, 2 + i));
  bus.bugs = spec.bugs;
  bus.start_at_us = start_at;
  r.bus = s.add_node(std::string(kRestoredBusName),
                     [bus] { return std::make_unique<model::BusNode>(bus); });
  for (const ProjectionSpec& p : spec.projections) {
    const auto found = registry.handler(p.handler);
    model::ProjectionConfig worker;
    worker.domain = found->domain;
    worker.handler = found->handler;
    worker.dedup = p.dedup;
    worker.bus = r.bus;
    worker.keys = keys_of(spec);
    worker.bugs = spec.bugs;
    worker.user_failures = &c.user_failures;
    r.workers.push_back(s.add_node(restored_worker_name(p.name), [worker] {
      return std::make_unique<model::ProjectionNode>(worker);
    }));
  }
  model::ClientConfig client;
  client.store = r.store;
  client.domain = c.domain;
  // A number of its own: its command ids never meet the other clients'.
  client.index = static_cast<std::uint32_t>(spec.clients);
  client.mix = mix;
  client.interval_us = spec.client_interval_us;
  client.start_at_us = r.runs ? start_at : 0;
  client.stop_at_us = r.runs ? c.chaos_us : 0;
  client.work_log = &c.work_log;  // recorded and scripted as the other clients' work
  client.snapshot_every = spec.snapshot_every;
  client.history = &r.history;
  client.user_failures = &c.user_failures;
  client.keys = keys_of(spec);
  client.ledger = c.ledger.get();
  client.bugs = spec.bugs;
  r.client = s.add_node(std::string(kRestoredClientName),
                        [client] { return std::make_unique<model::ClientNode>(client); });
  ESSIM_ASSERT(r.store == restore_id(spec, 0) && r.client == restored_client_id(spec));
}

}  // namespace

std::size_t node_count(const ClusterSpec& spec) {
  return 2 + spec.projections.size() + static_cast<std::size_t>(std::max(0, spec.clients)) +
         operation_node_names(spec).size();
}

int work_clients(const ClusterSpec& spec) {
  return std::max(0, spec.clients) + (has_restore(spec) ? 1 : 0);
}

std::vector<std::string> operation_node_names(const ClusterSpec& spec) {
  std::vector<std::string> names;
  for (const Operation& op : rebuilds_of(spec.operations)) {
    for (std::string& name : rebuild_node_names(op.target)) names.push_back(std::move(name));
  }
  if (has_backups(spec)) names.emplace_back(kBackupAgentName);
  if (has_restore(spec)) {
    names.emplace_back(kRestoredStoreName);
    names.emplace_back(kRestoredBusName);
    for (const ProjectionSpec& p : spec.projections) names.push_back(restored_worker_name(p.name));
    names.emplace_back(kRestoredClientName);
  }
  if (spec.key_store) names.emplace_back(model::kKeyStoreName);
  return names;
}

std::string restored_worker_name(std::string_view projection) {
  return fmt::format("{}-restored", projection);
}

std::vector<Operation> operations_of(const std::vector<Operation>& operations,
                                     Operation::Kind kind) {
  std::vector<Operation> out;
  for (const Operation& op : operations) {
    if (op.kind == kind) out.push_back(op);
  }
  return out;
}

std::vector<Operation> rebuilds_of(const std::vector<Operation>& operations) {
  return operations_of(operations, Operation::Kind::kRebuild);
}

std::string_view to_string(Operation::Kind kind) {
  switch (kind) {
    case Operation::Kind::kRebuild:
      return "rebuild";
    case Operation::Kind::kAudit:
      return "audit";
    case Operation::Kind::kBackup:
      return "backup";
    case Operation::Kind::kRestore:
      return "restore";
    case Operation::Kind::kForget:
      return "forget";
  }
  return "unknown";
}

std::string describe(const Operation& operation) {
  return fmt::format("{} {} at {}", to_string(operation.kind), operation.target,
                     sim::format_duration(operation.at_us));
}

std::vector<std::string> rebuild_node_names(std::string_view projection) {
  return {fmt::format("{}-v2", projection), fmt::format("{}-v2-bus", projection),
          fmt::format("{}-router", projection)};
}

sim::FaultConfig fault_config(const ClusterSpec& spec) {
  sim::FaultConfig faults;
  faults.crashes = {spec.crashes, spec.crash_every, target_ids(spec, spec.crash_targets),
                    spec.restart_after};
  faults.partitions = {spec.partitions, spec.partition_every, spec.heal_after, all_ids(spec)};
  faults.clogs = {spec.clogs, spec.clog_every, spec.clog_duration, all_ids(spec)};
  return faults;
}

sim::Result<bool> check_spec(const ClusterSpec& spec, const model::Registry& registry) {
  if (auto ok = check_nodes(spec, registry); !ok) return ok;
  if (auto ok = check_work(spec, registry); !ok) return ok;
  if (auto ok = check_times(spec); !ok) return ok;
  if (auto ok = check_faults(spec); !ok) return ok;
  return check_script(spec);
}

sim::Result<std::unique_ptr<Cluster>> build_cluster(const ClusterSpec& spec, std::uint64_t seed,
                                                    const model::Registry& registry) {
  if (auto ok = check_spec(spec, registry); !ok) return ok.error();
  // From here on nothing can fail: check_spec said so.
  auto c = std::make_unique<Cluster>();
  c->domain = registry.domain(spec.domain);
  std::vector<model::WorkWeight> mix = spec.mix.empty() ? c->domain->mix() : spec.mix;
  sim::SimConfig sim_config = spec.sim;
  c->chaos_us = spec.chaos_us;
  if (spec.script) {
    sim_config.disk.torn_writes = spec.script->torn_writes;
    if (spec.script->chaos_us > 0) c->chaos_us = spec.script->chaos_us;
    sim_config.disk.sync_failures =
        spec.script->sync_failures.value_or(sim_config.disk.sync_failures);
  }
  // A node that fail-stops is down as long as a crashed one.
  sim_config.fail_stop_restart_after = spec.restart_after;
  c->torn_writes = sim_config.disk.torn_writes;
  c->sync_failures = sim_config.disk.sync_failures;
  c->sim = std::make_unique<sim::Simulation>(seed, sim_config);
  sim::Simulation& s = *c->sim;
  s.network().record_fates();
  if (spec.script) {
    s.network().script_fates(spec.script->messages);
    c->work_log.script(spec.script->work);
  }

  std::vector<sim::NodeId> projection_ids;
  for (std::size_t i = 0; i < spec.projections.size(); ++i)
    projection_ids.push_back(projection_id(i));

  model::StoreConfig store_config = spec.store;
  store_config.bugs = spec.bugs;
  c->store = s.add_node(
      "store", [store_config] { return std::make_unique<model::StoreNode>(store_config); });
  ESSIM_ASSERT(c->store == kStoreId);
  model::BusConfig bus_config = spec.bus;
  bus_config.store = kStoreId;
  bus_config.subscribers = projection_ids;
  bus_config.bugs = spec.bugs;
  c->bus = s.add_node("bus", [bus_config] { return std::make_unique<model::BusNode>(bus_config); });
  ESSIM_ASSERT(c->bus == kBusId);
  c->checkpoint_findings.resize(spec.projections.size());  // stable: the nodes point into it
  for (const ProjectionSpec& p : spec.projections) {
    const auto found = registry.handler(p.handler);
    ESSIM_ASSERT(found.has_value());
    model::ProjectionConfig config;
    config.domain = found->domain;
    config.handler = found->handler;
    config.dedup = p.dedup;
    config.bus = kBusId;
    config.keys = keys_of(spec);
    config.bugs = spec.bugs;
    config.user_failures = &c->user_failures;
    for (const model::ReadModelInvariant& rule : found->domain->read_model_invariants()) {
      if (rule.at_checkpoints && rule.handler == found->handler->name)
        config.checkpoint_rules.push_back(rule);
    }
    config.findings = &c->checkpoint_findings[c->projections.size()];
    c->projections.push_back(
        s.add_node(p.name, [config] { return std::make_unique<model::ProjectionNode>(config); }));
    ESSIM_ASSERT(c->projections.back() == projection_ids[c->projections.size() - 1]);
    c->handlers.push_back(found->handler);
  }
  for (int i = 0; i < spec.clients; ++i) {
    model::ClientConfig config;
    config.store = kStoreId;
    config.domain = c->domain;
    config.index = static_cast<std::uint32_t>(i);
    config.mix = mix;
    config.interval_us = spec.client_interval_us;
    config.stop_at_us = c->chaos_us;
    config.work_log = &c->work_log;
    config.snapshot_every = spec.snapshot_every;
    config.history = &c->history;
    config.user_failures = &c->user_failures;
    config.keys = keys_of(spec);
    config.ledger = c->ledger.get();
    config.bugs = spec.bugs;
    c->clients.push_back(s.add_node(fmt::format("client{}", i), [config] {
      return std::make_unique<model::ClientNode>(config);
    }));
    ESSIM_ASSERT(c->clients.back() == client_id(spec, i));
  }
  c->operations = spec.script ? spec.script->operations : spec.operations;
  const std::vector<Operation> rebuilds = rebuilds_of(spec.operations);
  for (std::size_t k = 0; k < rebuilds.size(); ++k) {
    const Operation& op = rebuilds[k];
    Cluster::Rebuild r;
    for (const Operation& runs : c->operations) {
      if (runs.kind == op.kind && runs.target == op.target) r.started_at_us = runs.at_us;
    }
    const sim::Micros start_at = r.started_at_us.value_or(sim::kTimeMax);
    const std::vector<std::string> names = rebuild_node_names(op.target);
    for (std::size_t i = 0; i < spec.projections.size(); ++i) {
      if (spec.projections[i].name == op.target) r.live = i;
    }
    const ProjectionSpec& live = spec.projections[r.live];
    const auto found = registry.handler(live.handler);
    r.handler = found->handler;
    model::ProjectionConfig worker;
    worker.domain = found->domain;
    worker.handler = found->handler;
    worker.dedup = live.dedup;
    worker.bus = rebuild_id(spec, k, 1);
    worker.keys = keys_of(spec);
    worker.bugs = spec.bugs;
    worker.user_failures = &c->user_failures;
    r.worker =
        s.add_node(names[0], [worker] { return std::make_unique<model::ProjectionNode>(worker); });
    model::BusConfig rebuild_bus = spec.bus;
    rebuild_bus.store = kStoreId;
    rebuild_bus.subscribers = {r.worker};
    rebuild_bus.bugs = spec.bugs;
    rebuild_bus.start_at_us = start_at;
    rebuild_bus.rebuild = true;
    r.bus = s.add_node(names[1],
                       [rebuild_bus] { return std::make_unique<model::BusNode>(rebuild_bus); });
    model::RouterConfig router;
    router.live = c->projections[r.live];
    router.rebuilt = r.worker;
    router.start_at_us = start_at;
    router.log = r.log.get();
    router.bugs = spec.bugs;
    r.router =
        s.add_node(names[2], [router] { return std::make_unique<model::RouterNode>(router); });
    ESSIM_ASSERT(r.worker == rebuild_id(spec, k, 0) && r.router == rebuild_id(spec, k, 2));
    c->rebuilds.push_back(std::move(r));
  }
  build_backup_and_restore(*c, spec, registry, store_config, mix);
  c->backups_asked = operations_of(c->operations, Operation::Kind::kBackup).size();
  if (spec.key_store) {
    model::KeyStoreConfig keys;
    for (const Operation& op : operations_of(c->operations, Operation::Kind::kForget))
      keys.forgets.push_back({op.at_us, op.target});
    c->forgets = keys.forgets.size();
    keys.ledger = c->ledger.get();
    c->keys = s.add_node(std::string(model::kKeyStoreName),
                         [keys] { return std::make_unique<model::KeyStoreNode>(keys); });
    ESSIM_ASSERT(c->keys == key_store_id(spec));
  }
  c->plan = sim::plan_faults(fault_config(spec), sim::Rng(seed).split("faults"), spec.chaos_us);
  if (spec.script) c->plan.actions = spec.script->faults;
  return c;
}

Decisions Cluster::decisions() const {
  Decisions d;
  d.faults = plan.actions;
  d.messages = sim->network().recorded_fates();
  d.work = work_log.recorded();
  d.operations = operations;
  d.chaos_us = chaos_us;
  d.torn_writes = torn_writes;
  d.sync_failures = sync_failures;
  return d;
}

void run_cluster(Cluster& c, const ClusterSpec& spec) {
  sim::Simulation& s = *c.sim;
  s.apply(c.plan);
  for (Cluster::Rebuild& r : c.rebuilds) {
    if (!r.started_at_us) continue;
    // The oracle's own record of what the live projection had made durable
    // when the rebuild began (every event its bus saw acknowledged, which a
    // crash cannot take back): no answer after the cut-over may show less.
    s.at(*r.started_at_us, [&c, &r](sim::Simulation& sim) {
      auto* bus = dynamic_cast<model::BusNode*>(sim.node(c.bus));
      if (bus == nullptr) return;
      const std::uint64_t acked = bus->acked_through(c.projections[r.live]);
      model::Versions durable;
      for (const model::CommitRecord& commit : c.store_log().commits) {
        for (const model::Event& e : commit.events) {
          if (e.position > acked) continue;
          std::uint64_t& version = durable[e.stream];
          version = std::max(version, e.version);
        }
      }
      r.log->live_at_start = std::move(durable);
    });
  }
  for (const Operation& op : c.operations) {
    if (op.kind != Operation::Kind::kAudit) continue;
    // An auditor reads the store's log file as it is (what a crash left
    // included) and checks every record; recovery is not its business.
    s.at(op.at_us, [&c](sim::Simulation& sim) {
      auto bytes = sim.disk(c.store).current_content(model::kEventsFile);
      const model::AuditReport report =
          model::audit_log(bytes.ok() ? model::ByteView(bytes.value()) : model::ByteView{});
      sim.note(model::notes::kAudit, report.records, static_cast<std::uint64_t>(report.status));
      c.audits.push_back({sim.now(), report});
    });
  }
  for (const Operation& op : c.operations) {
    if (op.kind == Operation::Kind::kBackup && spec.bugs.has(model::Bug::kBackupCopiesTornTail)) {
      // The bug: a copy of the store's log file as it lies on disk, whatever
      // the store is doing (down after a crash, or in the middle of an append).
      s.at(op.at_us, [&c](sim::Simulation& sim) {
        model::Backup backup;
        backup.requested_at_us = backup.began_at_us = sim.now();
        backup.done_at_us = sim.now();
        backup.file_copy = true;
        auto bytes = sim.disk(c.store).current_content(model::kEventsFile);
        if (bytes.ok()) backup.bytes = std::move(bytes).value();
        c.record_durable_at_fix(backup);
        c.record_durable(backup);
        sim.note(model::notes::kBackupDone, backup.bytes.size(),
                 model::scan_log(backup.bytes).bodies.size());
        c.backups->backups.push_back(std::move(backup));
      });
    }
    if (op.kind == Operation::Kind::kRestore)
      s.at(op.at_us, [&c](sim::Simulation& sim) { c.try_restore(sim); });
  }
  s.start();
  (void)s.run_until(c.chaos_us);
  s.begin_heal();
  c.heal = s.run_until_quiet(spec.heal_max_us, [&c] { return c.quiet(); });
}

void Cluster::record_durable_at_fix(model::Backup& backup) {
  auto durable = sim->disk(store).durable_content(model::kEventsFile);
  backup.durable_at_fix = durable.ok() ? durable.value().size() : 0;
}

void Cluster::record_durable(model::Backup& backup) {
  auto durable = sim->disk(store).durable_content(model::kEventsFile);
  const model::Bytes held = durable.ok() ? std::move(durable).value() : model::Bytes{};
  const auto [mismatch, unused] =
      std::mismatch(backup.bytes.begin(), backup.bytes.end(), held.begin(), held.end());
  backup.durable_at_done = static_cast<std::uint64_t>(mismatch - backup.bytes.begin());
}

void Cluster::try_restore(sim::Simulation& s) {
  if (!restore || restore->restored_at_us) return;
  const std::vector<model::Backup>& done = backups->backups;
  for (std::size_t i = done.size(); i-- > 0;) {
    if (!done[i].done_at_us) continue;
    // The operator copies the archived backup onto the fresh node's disk.
    s.disk(restore->store).install(model::kEventsFile, done[i].bytes);
    restore->restored_at_us = s.now();
    restore->backup = i;
    s.note(model::notes::kRestore, i, done[i].bytes.size());
    return;
  }
  // None yet: one may still come, unless every backup has been asked for and
  // the agent gave each one up.
  auto* agent = dynamic_cast<model::BackupAgentNode*>(s.node(backup_agent));
  if (done.size() >= backups_asked && (agent == nullptr || agent->idle())) {
    restore->gave_up = "no backup completed";
    return;
  }
  s.at(s.now() + sim::millis(10), [this](sim::Simulation& later) { try_restore(later); });
}

bool Cluster::quiet() {
  for (const sim::NodeId id : clients) {
    auto* client = dynamic_cast<model::ClientNode*>(sim->node(id));
    if (client == nullptr || !client->idle()) return false;
  }
  auto* store_node = dynamic_cast<model::StoreNode*>(sim->node(store));
  auto* bus_node = dynamic_cast<model::BusNode*>(sim->node(bus));
  if (store_node == nullptr || bus_node == nullptr) return false;
  const std::uint64_t last = store_node->visible_position();
  for (const sim::NodeId id : projections) {
    auto* p = dynamic_cast<model::ProjectionNode*>(sim->node(id));
    if (p == nullptr || p->waiting() > 0 || bus_node->acked_through(id) < last) return false;
  }
  // A rebuild that runs has caught up and cut over.
  for (const Rebuild& r : rebuilds) {
    if (!r.started_at_us) continue;
    auto* worker = dynamic_cast<model::ProjectionNode*>(sim->node(r.worker));
    auto* rebuild_bus = dynamic_cast<model::BusNode*>(sim->node(r.bus));
    if (worker == nullptr || rebuild_bus == nullptr || worker->waiting() > 0 ||
        rebuild_bus->acked_through(r.worker) < last || !r.log->cut_over_at_us)
      return false;
  }
  // Every backup asked for is complete or given up; a restore that runs has
  // run (or cannot), and what serves from it has caught up.
  if (backup_agent != sim::kNoNode) {
    auto* agent = dynamic_cast<model::BackupAgentNode*>(sim->node(backup_agent));
    if (agent == nullptr || !agent->idle() || backups->backups.size() < backups_asked) return false;
  }
  // Every forget asked for is durable.
  if (ledger->forgotten.size() < forgets) return false;
  if (restore && restore->runs) {
    if (!restore->restored_at_us) return !restore->gave_up.empty();
    auto* restored = dynamic_cast<model::StoreNode*>(sim->node(restore->store));
    auto* restored_bus = dynamic_cast<model::BusNode*>(sim->node(restore->bus));
    auto* client = dynamic_cast<model::ClientNode*>(sim->node(restore->client));
    // Recovered from the backup first: until then it serves nothing.
    if (restored == nullptr || !restored->started() || restored_bus == nullptr ||
        client == nullptr || !client->idle())
      return false;
    const std::uint64_t head = restored->visible_position();
    for (const sim::NodeId id : restore->workers) {
      auto* p = dynamic_cast<model::ProjectionNode*>(sim->node(id));
      if (p == nullptr || p->waiting() > 0 || restored_bus->acked_through(id) < head) return false;
    }
  }
  return true;
}

model::StoreLog Cluster::store_log() {
  auto bytes = sim->disk(store).current_content(model::kEventsFile);
  if (!bytes.ok()) return {};
  return model::read_store_log(bytes.value());
}

const model::ProjectionState* Cluster::projection_state(std::size_t index) {
  auto* p = dynamic_cast<model::ProjectionNode*>(sim->node(projections.at(index)));
  return p == nullptr ? nullptr : &p->state();
}

const model::ProjectionState* Cluster::rebuild_state(std::size_t index) {
  auto* p = dynamic_cast<model::ProjectionNode*>(sim->node(rebuilds.at(index).worker));
  return p == nullptr ? nullptr : &p->state();
}

}  // namespace essim::harness

namespace essim::harness {

namespace {

// What a run with personal data left where a forgotten subject's data could
// linger (see properties::PersonalView); nothing to look at before a forget.
properties::PersonalView personal_view(Cluster& c) {
  properties::PersonalView p;
  p.ledger = c.ledger.get();
  for (const Operation& op : operations_of(c.operations, Operation::Kind::kForget))
    p.asked.push_back({op.target, op.at_us});
  if (c.ledger->forgotten.empty()) return p;
  for (sim::NodeId n = 0; n < c.sim->node_count(); ++n) {
    const sim::SimDisk& disk = c.sim->disk(n);
    for (const std::string& file : disk.list()) {
      auto bytes = disk.current_content(file);
      auto durable = disk.durable_content(file);
      // What a crash could bring back, when it differs from what is there.
      if (durable.ok() && (!bytes.ok() || durable.value() != bytes.value()))
        p.places.push_back(
            {c.sim->name(n) + "/" + file + " (durable)", std::move(durable).value()});
      if (bytes.ok()) p.places.push_back({c.sim->name(n) + "/" + file, std::move(bytes).value()});
    }
    if (auto* worker = dynamic_cast<model::ProjectionNode*>(c.sim->node(n))) {
      model::Bytes bytes;
      model::encode_read_model(worker->state().model, bytes);
      p.places.push_back(
          {"the read model of " + c.sim->name(n), std::move(bytes), &worker->state().model});
    }
  }
  return p;
}

}  // namespace

CheckedRun check_cluster(Cluster& c, const ClusterSpec& spec,
                         const std::vector<std::string>& property_names) {
  CheckedRun run;
  run.log = c.store_log();
  auto snapshots = c.sim->disk(c.store).current_content(model::kSnapshotsFile);
  if (snapshots.ok()) run.snapshots = model::read_snapshot_log(snapshots.value());
  properties::RunView view;
  view.domain = c.domain;
  view.history = &c.history;
  view.log = &run.log;
  view.snapshots = run.snapshots;
  view.bugs = spec.bugs;
  view.quiet = c.heal.stop == sim::RunOutcome::Stop::kQuiet;
  view.heal_end =
      fmt::format("{} at {}", sim::to_string(c.heal.stop), sim::format_time(c.heal.at_us));
  for (std::size_t i = 0; i < c.projections.size(); ++i) {
    view.projections.push_back({spec.projections[i].name, c.handlers[i], c.projection_state(i),
                                &c.checkpoint_findings[i]});
  }
  // What the store serves (as quiet() sees it), else what its log holds.
  std::uint64_t last = 0;
  for (const model::CommitRecord& commit : run.log.commits) {
    for (const model::Event& e : commit.events) last = std::max(last, e.position);
  }
  if (auto* store_node = dynamic_cast<model::StoreNode*>(c.sim->node(c.store)))
    last = store_node->visible_position();
  for (std::size_t k = 0; k < c.rebuilds.size(); ++k) {
    const Cluster::Rebuild& r = c.rebuilds[k];
    if (!r.started_at_us) continue;
    auto* bus = dynamic_cast<model::BusNode*>(c.sim->node(r.bus));
    auto* live_bus = dynamic_cast<model::BusNode*>(c.sim->node(c.bus));
    auto* worker = dynamic_cast<model::ProjectionNode*>(c.sim->node(r.worker));
    properties::RebuildView rv;
    rv.live = spec.projections[r.live].name;
    rv.worker = c.sim->name(r.worker);
    rv.handler = r.handler;
    rv.state = c.rebuild_state(k);
    rv.log = r.log.get();
    rv.started_at_us = *r.started_at_us;
    rv.rebuilt_through = bus == nullptr ? 0 : bus->acked_through(r.worker);
    rv.caught_up = bus != nullptr && rv.rebuilt_through >= last;
    rv.live_caught_up =
        live_bus != nullptr && live_bus->acked_through(c.projections[r.live]) >= last;
    if (worker != nullptr) {
      if (const auto gap = worker->first_gap())
        rv.gap = fmt::format("stream {} version {}", gap->first, gap->second);
    }
    view.rebuilds.push_back(std::move(rv));
  }
  view.audits = &c.audits;
  view.backups = c.backups.get();
  if (c.restore && c.restore->runs) {
    const Cluster::Restore& r = *c.restore;
    properties::RestoreView rv;
    rv.ran = r.restored_at_us.has_value();
    rv.at_us = r.restored_at_us.value_or(0);
    rv.gave_up = r.gave_up;
    rv.history = &r.history;
    if (rv.ran) {
      rv.backup = &c.backups->backups.at(r.backup);
      rv.backup_number = r.backup;
      auto bytes = c.sim->disk(r.store).current_content(model::kEventsFile);
      if (bytes.ok()) rv.log = model::read_store_log(bytes.value());
    }
    for (std::size_t i = 0; i < r.workers.size(); ++i) {
      auto* worker = dynamic_cast<model::ProjectionNode*>(c.sim->node(r.workers[i]));
      rv.workers.push_back({c.sim->name(r.workers[i]), c.handlers[i],
                            worker == nullptr ? nullptr : &worker->state(), nullptr});
    }
    view.restore = std::move(rv);
  }
  view.user_failures = &c.user_failures;
  for (sim::NodeId n = 0; n < c.sim->node_count(); ++n) view.node_names.push_back(c.sim->name(n));
  if (c.keys != sim::kNoNode) view.personal = personal_view(c);
  run.violations = properties::check(view, property_names);
  if (view.personal) properties::redact_forgotten(run.violations, *view.personal);
  return run;
}

}  // namespace essim::harness

namespace essim::harness {

namespace {

std::uint64_t hash_encoded(const auto& encode) {
  model::Bytes bytes;
  encode(bytes);
  return sim::hash_bytes(bytes);
}

// The stream's aggregate after every event of it in `log`, hashed.
std::uint64_t stream_hash(const model::Domain& domain, const std::vector<model::Event>& events) {
  try {
    return hash_encoded([&](model::Bytes& out) { model::replay(domain, events)->encode(out); });
  } catch (const std::exception& e) {
    return sim::hash_label(fmt::format("threw {}: {}", model::demangled(typeid(e)), e.what()));
  } catch (...) {
    return sim::hash_label("threw");
  }
}

}  // namespace

std::vector<FinalState> final_states(Cluster& c, const model::StoreLog& log) {
  std::vector<FinalState> out;
  for (std::size_t i = 0; i < c.projections.size(); ++i) {
    const model::ProjectionState* state = c.projection_state(i);
    const std::uint64_t hash = state == nullptr ? 0 : hash_encoded([&](model::Bytes& bytes) {
      model::encode_projection_state(*state, bytes);
    });
    out.push_back({"projection " + c.sim->name(c.projections[i]), hash});
  }
  for (std::size_t i = 0; c.restore && i < c.restore->workers.size(); ++i) {
    auto* worker = dynamic_cast<model::ProjectionNode*>(c.sim->node(c.restore->workers[i]));
    const std::uint64_t hash = worker == nullptr ? 0 : hash_encoded([&](model::Bytes& bytes) {
      model::encode_projection_state(worker->state(), bytes);
    });
    out.push_back({"projection " + c.sim->name(c.restore->workers[i]), hash});
  }
  std::map<std::string, std::vector<model::Event>> streams;
  for (const model::CommitRecord& commit : log.commits) {
    for (const model::Event& e : commit.events) streams[e.stream].push_back(e);
  }
  for (const auto& [stream, events] : streams)
    out.push_back({"stream " + stream, stream_hash(*c.domain, events)});
  return out;
}

std::uint64_t seed_fingerprint(std::uint64_t trace_fingerprint,
                               const std::vector<FinalState>& states) {
  std::uint64_t h = sim::fold_hash(trace_fingerprint, states.size());
  for (const FinalState& s : states) {
    h = sim::fold_hash(h, sim::hash_label(s.name));
    h = sim::fold_hash(h, s.hash);
  }
  return h;
}

}  // namespace essim::harness
