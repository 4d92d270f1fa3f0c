#include "harness/cluster.h"

#include <fmt/format.h>

namespace essim::harness {

namespace {

std::vector<sim::NodeId> targets(const Cluster& c, const FaultTargets& t) {
  std::vector<sim::NodeId> nodes;
  if (t.store) nodes.push_back(c.store);
  if (t.bus) nodes.push_back(c.bus);
  if (t.projections) nodes.insert(nodes.end(), c.projections.begin(), c.projections.end());
  if (t.clients) nodes.insert(nodes.end(), c.clients.begin(), c.clients.end());
  return nodes;
}

std::vector<sim::NodeId> all_nodes(const Cluster& c) {
  return targets(c, FaultTargets{});
}

}  // namespace

sim::Result<std::unique_ptr<Cluster>> build_cluster(const ClusterSpec& spec, std::uint64_t seed,
                                                    const model::Registry& registry) {
  auto c = std::make_unique<Cluster>();
  c->domain = registry.domain(spec.domain);
  if (c->domain == nullptr) return sim::Error{fmt::format("no domain '{}'", spec.domain)};
  if (spec.clients < 0) return sim::Error{"clients must not be negative"};
  if (auto valid = spec.sim.network.validate(); !valid.ok()) return valid.error();
  std::vector<model::WorkWeight> mix = spec.mix;
  if (mix.empty()) {
    for (const std::string& kind : c->domain->work_kinds()) mix.push_back({kind, 1});
  }
  for (const model::WorkWeight& w : mix) {
    const auto kinds = c->domain->work_kinds();
    if (std::find(kinds.begin(), kinds.end(), w.kind) == kinds.end()) {
      return sim::Error{fmt::format("the {} domain has no work '{}'", spec.domain, w.kind)};
    }
  }
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

  // Ids are known before the nodes exist: store 0, bus 1, projections, clients.
  const sim::NodeId store = 0;
  const sim::NodeId bus = 1;
  std::vector<sim::NodeId> projection_ids;
  for (std::size_t i = 0; i < spec.projections.size(); ++i) {
    projection_ids.push_back(static_cast<sim::NodeId>(2 + i));
  }

  model::StoreConfig store_config = spec.store;
  store_config.bugs = spec.bugs;
  c->store = s.add_node(
      "store", [store_config] { return std::make_unique<model::StoreNode>(store_config); });
  model::BusConfig bus_config = spec.bus;
  bus_config.store = store;
  bus_config.subscribers = projection_ids;
  bus_config.bugs = spec.bugs;
  c->bus = s.add_node("bus", [bus_config] { return std::make_unique<model::BusNode>(bus_config); });
  for (const ProjectionSpec& p : spec.projections) {
    auto found = registry.handler(p.handler);
    if (!found) return sim::Error{fmt::format("no projection handler '{}'", p.handler)};
    model::ProjectionConfig config;
    config.domain = found->domain;
    config.handler = found->handler;
    config.dedup = p.dedup;
    config.bus = bus;
    config.bugs = spec.bugs;
    c->projections.push_back(
        s.add_node(p.name, [config] { return std::make_unique<model::ProjectionNode>(config); }));
    c->handlers.push_back(found->handler);
  }
  for (int i = 0; i < spec.clients; ++i) {
    model::ClientConfig config;
    config.store = store;
    config.domain = c->domain;
    config.index = static_cast<std::uint32_t>(i);
    config.mix = mix;
    config.interval_us = spec.client_interval_us;
    config.stop_at_us = c->chaos_us;
    config.work_log = &c->work_log;
    config.snapshot_every = spec.snapshot_every;
    config.history = &c->history;
    config.bugs = spec.bugs;
    c->clients.push_back(s.add_node(fmt::format("client{}", i), [config] {
      return std::make_unique<model::ClientNode>(config);
    }));
  }

  sim::FaultConfig faults;
  faults.crashes = {spec.crashes, spec.crash_every, targets(*c, spec.crash_targets),
                    spec.restart_after};
  faults.partitions = {spec.partitions, spec.partition_every, spec.heal_after, all_nodes(*c)};
  faults.clogs = {spec.clogs, spec.clog_every, spec.clog_duration, all_nodes(*c)};
  if (auto valid = faults.validate(s.node_count()); !valid.ok()) return valid.error();
  c->plan = sim::plan_faults(faults, sim::Rng(seed).split("faults"), spec.chaos_us);
  if (spec.script) c->plan.actions = spec.script->faults;
  return c;
}

Decisions Cluster::decisions() const {
  Decisions d;
  d.faults = plan.actions;
  d.messages = sim->network().recorded_fates();
  d.work = work_log.recorded();
  d.chaos_us = chaos_us;
  d.torn_writes = torn_writes;
  d.sync_failures = sync_failures;
  return d;
}

void run_cluster(Cluster& c, const ClusterSpec& spec) {
  sim::Simulation& s = *c.sim;
  s.apply(c.plan);
  s.start();
  (void)s.run_until(c.chaos_us);
  s.begin_heal();
  c.heal = s.run_until_quiet(spec.heal_max_us, [&c] { return c.quiet(); });
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

}  // namespace essim::harness

namespace essim::harness {

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
    view.projections.push_back({spec.projections[i].name, c.handlers[i], c.projection_state(i)});
  }
  run.violations = properties::check(view, property_names);
  return run;
}

}  // namespace essim::harness
