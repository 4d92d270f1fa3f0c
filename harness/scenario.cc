#include "harness/scenario.h"

#include <algorithm>
#include <charconv>
#include <fstream>
#include <sstream>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "harness/shrink.h"
#include "model/bugs.h"
#include "properties/properties.h"

namespace essim::harness {

namespace {

// Thrown inside the loader only; load_scenario turns it into an Error.
struct LoadError {
  std::string message;
};

class Loader {
 public:
  Loader(std::string file, const model::Registry& registry)
      : file_(std::move(file)), registry_(registry) {}

  Scenario load(const YAML::Node& root);

 private:
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& message) const {
    throw LoadError{fmt::format("{}:{}:{}: {}", file_, mark.line + 1, mark.column + 1, message)};
  }
  [[noreturn]] void fail(const YAML::Node& node, const std::string& message) const {
    fail(node.Mark(), message);
  }

  void keys(const YAML::Node& map, const std::string& where,
            const std::vector<std::string>& allowed,
            const std::vector<std::string>& required = {}) const;
  std::string text(const YAML::Node& node, const std::string& what) const;
  bool flag(const YAML::Node& node, const std::string& what) const;
  std::uint64_t integer(const YAML::Node& node, const std::string& what, std::uint64_t min,
                        std::uint64_t max) const;
  double probability(const YAML::Node& node, const std::string& what) const;
  sim::Micros duration(const YAML::Node& node, const std::string& what) const;
  sim::DurationRange range(const YAML::Node& node, const std::string& what) const;
  std::vector<std::string> names(const YAML::Node& node, const std::string& what) const;

  void topology(const YAML::Node& node, Scenario& s) const;
  void workload(const YAML::Node& node, Scenario& s) const;
  void faults(const YAML::Node& node, Scenario& s) const;
  void network(const YAML::Node& node, Scenario& s) const;
  FaultTargets targets(const YAML::Node& node, const Scenario& s) const;
  void expect(const YAML::Node& node, Scenario& s) const;
  void repro(const YAML::Node& node, Scenario& s) const;
  sim::NodeId node_id(const YAML::Node& node, const std::vector<std::string>& names) const;

  std::string file_;
  const model::Registry& registry_;
};

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diagonal = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = up;
    }
  }
  return row[b.size()];
}

std::string scalar_kind(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return fmt::format("'{}'", node.Scalar());
  }
}

}  // namespace

std::string nearest(std::string_view word, const std::vector<std::string>& candidates) {
  std::string best;
  std::size_t best_distance = 4;
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(word, c);
    if (d < best_distance) {
      best_distance = d;
      best = c;
    }
  }
  return best;
}

namespace {

void Loader::keys(const YAML::Node& map, const std::string& where,
                  const std::vector<std::string>& allowed,
                  const std::vector<std::string>& required) const {
  if (!map.IsMap())
    fail(map, fmt::format("{} must be a mapping of keys, found {}", where, scalar_kind(map)));
  for (auto it = map.begin(); it != map.end(); ++it) {
    const std::string key = it->first.Scalar();
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    const std::string guess = nearest(key, allowed);
    fail(it->first, guess.empty() ? fmt::format("unknown key '{}' in {}; valid keys: {}", key,
                                                where, fmt::join(allowed, ", "))
                                  : fmt::format("unknown key '{}' in {}; did you mean '{}'?", key,
                                                where, guess));
  }
  for (const std::string& key : required) {
    if (!map[key]) fail(map, fmt::format("{} needs the key '{}'", where, key));
  }
}

std::string Loader::text(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar())
    fail(node, fmt::format("{} must be a string, found {}", what, scalar_kind(node)));
  return node.Scalar();
}

bool Loader::flag(const YAML::Node& node, const std::string& what) const {
  bool value = false;
  if (!node.IsScalar() || !YAML::convert<bool>::decode(node, value)) {
    fail(node, fmt::format("{} must be true or false, found {}", what, scalar_kind(node)));
  }
  return value;
}

std::uint64_t Loader::integer(const YAML::Node& node, const std::string& what, std::uint64_t min,
                              std::uint64_t max) const {
  const std::string s = node.IsScalar() ? node.Scalar() : "";
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc{} || end != s.data() + s.size()) {
    fail(node, fmt::format("{} must be a whole number, found {}", what, scalar_kind(node)));
  }
  if (value < min || value > max) {
    fail(node, fmt::format("{} must be between {} and {}, not {}", what, min, max, value));
  }
  return value;
}

double Loader::probability(const YAML::Node& node, const std::string& what) const {
  double value = 0;
  if (!node.IsScalar() || !YAML::convert<double>::decode(node, value)) {
    fail(node, fmt::format("{} must be a probability (a number from 0 to 1), found {}", what,
                           scalar_kind(node)));
  }
  if (!(value >= 0.0 && value <= 1.0)) {
    fail(node, fmt::format("{} must be a probability from 0 to 1, not {}", what, node.Scalar()));
  }
  return value;
}

sim::Micros Loader::duration(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar())
    fail(node,
         fmt::format("{} must be a duration such as 150ms, found {}", what, scalar_kind(node)));
  auto parsed = sim::parse_duration(node.Scalar());
  if (!parsed.ok()) {
    YAML::Mark mark = node.Mark();
    mark.column += parsed.error().column - 1;
    fail(mark, fmt::format("{}: {}", what, parsed.error().message));
  }
  return parsed.value();
}

sim::DurationRange Loader::range(const YAML::Node& node, const std::string& what) const {
  if (!node.IsScalar())
    fail(node, fmt::format("{} must be a duration or a range such as 1ms..50ms, found {}", what,
                           scalar_kind(node)));
  auto parsed = sim::parse_duration_range(node.Scalar());
  if (!parsed.ok()) {
    YAML::Mark mark = node.Mark();
    mark.column += parsed.error().column - 1;
    fail(mark, fmt::format("{}: {}", what, parsed.error().message));
  }
  return parsed.value();
}

std::vector<std::string> Loader::names(const YAML::Node& node, const std::string& what) const {
  if (!node.IsSequence())
    fail(node, fmt::format("{} must be a list, found {}", what, scalar_kind(node)));
  std::vector<std::string> out;
  for (const YAML::Node& item : node) out.push_back(text(item, what + " entry"));
  return out;
}

Scenario Loader::load(const YAML::Node& root) {
  if (!root.IsMap()) fail(root, "a scenario file must be a mapping of keys (name:, domain:, ...)");
  keys(root, "the scenario",
       {"name", "description", "domain", "seeds", "duration", "heal_max", "topology", "workload",
        "faults", "bugs", "properties", "expect", "repro"},
       {"name", "domain"});
  Scenario s;
  s.registry = &registry_;
  s.file = file_;
  s.name = text(root["name"], "name");
  if (s.name.empty()) fail(root["name"], "name must not be empty");
  if (root["description"]) s.description = text(root["description"], "description");
  s.spec.domain = text(root["domain"], "domain");
  if (registry_.domain(s.spec.domain) == nullptr) {
    const std::string guess = nearest(s.spec.domain, registry_.domain_names());
    fail(root["domain"],
         fmt::format("no domain '{}'{}; registered: {}", s.spec.domain,
                     guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                     fmt::join(registry_.domain_names(), ", ")));
  }
  if (root["seeds"]) s.seeds = integer(root["seeds"], "seeds", 1, 1'000'000);
  if (root["duration"]) s.spec.chaos_us = duration(root["duration"], "duration");
  if (s.spec.chaos_us > sim::seconds(3600)) fail(root["duration"], "duration must be at most 1h");
  if (root["heal_max"]) s.spec.heal_max_us = duration(root["heal_max"], "heal_max");
  if (s.spec.heal_max_us <= 0) fail(root["heal_max"], "heal_max must be positive");
  if (root["topology"]) topology(root["topology"], s);
  if (root["workload"]) workload(root["workload"], s);
  if (root["faults"]) faults(root["faults"], s);
  if (root["bugs"]) {
    for (const YAML::Node& item : root["bugs"]) {
      const std::string name = text(item, "bugs entry");
      const auto bug = model::bug_by_name(name);
      if (!bug) {
        std::vector<std::string> all;
        for (const model::BugInfo& b : model::all_bugs()) all.emplace_back(b.name);
        const std::string guess = nearest(name, all);
        fail(item, fmt::format("no bug variant '{}'{}; see 'essim list'", name,
                               guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess)));
      }
      s.spec.bugs.set(*bug);
    }
    if (!root["bugs"].IsSequence()) fail(root["bugs"], "bugs must be a list of bug variant names");
  }
  const std::vector<std::string> property_names =
      properties::property_names(*registry_.domain(s.spec.domain));
  if (root["properties"]) {
    s.properties = names(root["properties"], "properties");
    std::size_t i = 0;
    for (const std::string& name : s.properties) {
      if (std::find(property_names.begin(), property_names.end(), name) == property_names.end()) {
        const std::string guess = nearest(name, property_names);
        fail(root["properties"][i],
             fmt::format("no property '{}' for the {} domain{}", name, s.spec.domain,
                         guess.empty() ? "" : fmt::format("; did you mean '{}'?", guess)));
      }
      ++i;
    }
  }
  if (root["expect"]) expect(root["expect"], s);
  if (root["repro"]) repro(root["repro"], s);
  if (!s.expect.pass) {
    if (std::find(property_names.begin(), property_names.end(), s.expect.violation) ==
        property_names.end()) {
      fail(root["expect"], fmt::format("expect.violation names no property of the {} domain: '{}'",
                                       s.spec.domain, s.expect.violation));
    }
    if (!s.properties.empty() && std::find(s.properties.begin(), s.properties.end(),
                                           s.expect.violation) == s.properties.end()) {
      fail(root["expect"], "expect.violation must be one of the scenario's properties");
    }
  }
  return s;
}

void Loader::topology(const YAML::Node& node, Scenario& s) const {
  keys(node, "topology", {"store", "bus", "projections", "clients", "snapshot_every"});
  if (node["clients"])
    s.spec.clients = static_cast<int>(integer(node["clients"], "topology.clients", 0, 64));
  if (node["snapshot_every"]) {
    s.spec.snapshot_every =
        integer(node["snapshot_every"], "topology.snapshot_every", 0, 1'000'000);
  }
  if (const YAML::Node store = node["store"]) {
    keys(store, "topology.store", {"group_commit", "fsync", "commit_delay_max", "pending_max"});
    if (store["group_commit"])
      s.spec.store.group_commit_us = duration(store["group_commit"], "topology.store.group_commit");
    if (store["fsync"]) s.spec.store.fsync_latency = range(store["fsync"], "topology.store.fsync");
    if (store["commit_delay_max"])
      s.spec.store.commit_delay_max_us =
          duration(store["commit_delay_max"], "topology.store.commit_delay_max");
    if (store["pending_max"])
      s.spec.store.pending_max = static_cast<std::uint32_t>(
          integer(store["pending_max"], "topology.store.pending_max", 1, 1'000'000));
  }
  if (const YAML::Node bus = node["bus"]) {
    keys(bus, "topology.bus", {"poll_every", "redelivery_after", "window"});
    if (bus["poll_every"])
      s.spec.bus.poll_every_us = duration(bus["poll_every"], "topology.bus.poll_every");
    if (bus["redelivery_after"])
      s.spec.bus.redeliver_after_us =
          duration(bus["redelivery_after"], "topology.bus.redelivery_after");
    if (bus["window"])
      s.spec.bus.window =
          static_cast<std::uint32_t>(integer(bus["window"], "topology.bus.window", 1, 100'000));
    if (s.spec.bus.poll_every_us <= 0) fail(bus, "topology.bus.poll_every must be positive");
    if (s.spec.bus.redeliver_after_us <= 0)
      fail(bus, "topology.bus.redelivery_after must be positive");
  }
  if (const YAML::Node projections = node["projections"]) {
    if (!projections.IsSequence()) fail(projections, "topology.projections must be a list");
    for (const YAML::Node& p : projections) {
      keys(p, "a projection", {"name", "handler", "dedup"}, {"name", "handler"});
      ProjectionSpec spec;
      spec.name = text(p["name"], "projection name");
      spec.handler = text(p["handler"], "projection handler");
      if (!registry_.handler(spec.handler)) {
        const std::string guess = nearest(spec.handler, registry_.handler_names());
        fail(p["handler"],
             fmt::format("no projection handler '{}'{}; registered: {}", spec.handler,
                         guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                         fmt::join(registry_.handler_names(), ", ")));
      }
      if (p["dedup"]) {
        const std::string dedup = text(p["dedup"], "dedup");
        const auto d = model::dedup_by_name(dedup);
        if (!d)
          fail(p["dedup"],
               fmt::format("dedup must be none, event-id or atomic-checkpoint, not '{}'", dedup));
        spec.dedup = *d;
      }
      for (const ProjectionSpec& other : s.spec.projections) {
        if (other.name == spec.name)
          fail(p["name"], fmt::format("two projections named '{}'", spec.name));
      }
      if (spec.name == "store" || spec.name == "bus" || spec.name.starts_with("client")) {
        fail(p["name"],
             fmt::format("'{}' is taken by another node; name projections differently", spec.name));
      }
      s.spec.projections.push_back(std::move(spec));
    }
  }
}

void Loader::workload(const YAML::Node& node, Scenario& s) const {
  keys(node, "workload", {"rate", "mix"});
  if (const YAML::Node rate = node["rate"]) {
    const std::string r = text(rate, "workload.rate");
    double per_second = 0;
    const std::size_t slash = r.find('/');
    const std::string unit = slash == std::string::npos ? "" : r.substr(slash + 1);
    std::istringstream number(r.substr(0, slash));
    number >> per_second;
    if (slash == std::string::npos || !number.eof() || number.fail() ||
        (unit != "s" && unit != "m")) {
      fail(rate, fmt::format("workload.rate must read like 200/s or 30/m, not '{}'", r));
    }
    if (unit == "m") per_second /= 60;
    if (!(per_second > 0 && per_second <= 1e6))
      fail(rate, "workload.rate must be above 0 and at most 1000000/s");
    // The rate is the whole workload's: each client runs its share.
    const double clients = std::max(1, s.spec.clients);
    s.spec.client_interval_us =
        std::max<sim::Micros>(1, static_cast<sim::Micros>(1e6 * clients / per_second));
  }
  if (const YAML::Node mix = node["mix"]) {
    const model::Domain* d = registry_.domain(s.spec.domain);
    keys(mix, "workload.mix", d->work_kinds());
    s.spec.mix.clear();
    for (auto it = mix.begin(); it != mix.end(); ++it) {
      s.spec.mix.push_back({it->first.Scalar(),
                            static_cast<std::uint32_t>(integer(
                                it->second, "workload.mix." + it->first.Scalar(), 0, 1'000'000))});
    }
  }
}

FaultTargets Loader::targets(const YAML::Node& node, const Scenario& s) const {
  FaultTargets t{false, false, false, false};
  std::vector<std::string> valid{"store", "bus", "projections", "clients"};
  for (const YAML::Node& item : node) {
    const std::string name = text(item, "crash target");
    if (name == "store")
      t.store = true;
    else if (name == "bus")
      t.bus = true;
    else if (name == "projections")
      t.projections = true;
    else if (name == "clients")
      t.clients = true;
    else {
      bool projection = false;
      for (const ProjectionSpec& p : s.spec.projections) projection |= p.name == name;
      if (!projection) {
        const std::string guess = nearest(name, valid);
        fail(item,
             fmt::format("crash targets are store, bus, projections or clients, not '{}'{}", name,
                         guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess)));
      }
      t.projections = true;  // a named projection: projections may crash
    }
  }
  if (!node.IsSequence()) fail(node, "faults.crashes.targets must be a list");
  return t;
}

void Loader::network(const YAML::Node& n, Scenario& s) const {
  keys(n, "faults.network",
       {"latency", "drop", "duplicate", "delay", "delay_extra", "reorder", "jitter"});
  sim::NetworkFaults& f = s.spec.sim.network;
  if (n["latency"]) f.latency = range(n["latency"], "faults.network.latency");
  if (n["drop"]) f.drop = probability(n["drop"], "faults.network.drop");
  if (n["duplicate"]) f.duplicate = probability(n["duplicate"], "faults.network.duplicate");
  if (n["delay"]) f.delay = probability(n["delay"], "faults.network.delay");
  if (n["delay_extra"]) f.delay_extra = range(n["delay_extra"], "faults.network.delay_extra");
  if (n["reorder"]) f.reorder = probability(n["reorder"], "faults.network.reorder");
  if (n["jitter"]) f.reorder_jitter = range(n["jitter"], "faults.network.jitter");
  if (f.drop >= 1.0) fail(n["drop"], "faults.network.drop of 1 would cut every link for good");
}

void Loader::faults(const YAML::Node& node, Scenario& s) const {
  keys(node, "faults", {"network", "crashes", "disk", "partitions", "clogs"});
  if (node["network"]) network(node["network"], s);
  if (const YAML::Node c = node["crashes"]) {
    keys(c, "faults.crashes", {"every", "targets", "restart_after"}, {"every"});
    s.spec.crashes = true;
    s.spec.crash_every = range(c["every"], "faults.crashes.every");
    if (s.spec.crash_every.min_us <= 0) fail(c["every"], "faults.crashes.every must be positive");
    if (c["restart_after"])
      s.spec.restart_after = range(c["restart_after"], "faults.crashes.restart_after");
    if (c["targets"]) s.spec.crash_targets = targets(c["targets"], s);
  }
  if (const YAML::Node d = node["disk"]) {
    keys(d, "faults.disk", {"torn_writes", "read_corruption", "sync_failures"});
    if (d["torn_writes"])
      s.spec.sim.disk.torn_writes = flag(d["torn_writes"], "faults.disk.torn_writes");
    if (d["read_corruption"])
      s.spec.sim.disk.read_corruption =
          probability(d["read_corruption"], "faults.disk.read_corruption");
    if (d["sync_failures"])
      s.spec.sim.disk.sync_failures = probability(d["sync_failures"], "faults.disk.sync_failures");
  }
  if (const YAML::Node p = node["partitions"]) {
    keys(p, "faults.partitions", {"every", "heal_after"}, {"every"});
    s.spec.partitions = true;
    s.spec.partition_every = range(p["every"], "faults.partitions.every");
    if (s.spec.partition_every.min_us <= 0)
      fail(p["every"], "faults.partitions.every must be positive");
    if (p["heal_after"]) s.spec.heal_after = range(p["heal_after"], "faults.partitions.heal_after");
  }
  if (const YAML::Node c = node["clogs"]) {
    keys(c, "faults.clogs", {"every", "duration"}, {"every"});
    s.spec.clogs = true;
    s.spec.clog_every = range(c["every"], "faults.clogs.every");
    if (s.spec.clog_every.min_us <= 0) fail(c["every"], "faults.clogs.every must be positive");
    if (c["duration"]) s.spec.clog_duration = range(c["duration"], "faults.clogs.duration");
  }
}

void Loader::expect(const YAML::Node& node, Scenario& s) const {
  if (node.IsScalar()) {
    if (node.Scalar() != "pass") {
      fail(node, fmt::format(
                     "expect must be 'pass' or {{violation: PROPERTY, within_seeds: N}}, not '{}'",
                     node.Scalar()));
    }
    return;
  }
  keys(node, "expect", {"violation", "within_seeds"}, {"violation", "within_seeds"});
  s.expect.pass = false;
  s.expect.violation = text(node["violation"], "expect.violation");
  s.expect.within_seeds = integer(node["within_seeds"], "expect.within_seeds", 1, 1'000'000);
}

sim::NodeId Loader::node_id(const YAML::Node& node, const std::vector<std::string>& names) const {
  const std::string name = text(node, "a node name");
  const auto it = std::find(names.begin(), names.end(), name);
  if (it == names.end()) {
    const std::string guess = nearest(name, names);
    fail(node, fmt::format("no node '{}' in this topology{}", name,
                           guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess)));
  }
  return static_cast<sim::NodeId>(it - names.begin());
}

void Loader::repro(const YAML::Node& node, Scenario& s) const {
  keys(node, "repro", {"seed", "chaos", "torn_writes", "faults", "messages", "work"}, {"seed"});
  auto d = std::make_shared<Decisions>();
  s.repro_seed = integer(node["seed"], "repro.seed", 0, UINT64_MAX);
  d->chaos_us = node["chaos"] ? duration(node["chaos"], "repro.chaos") : s.spec.chaos_us;
  d->torn_writes = node["torn_writes"] ? flag(node["torn_writes"], "repro.torn_writes")
                                       : s.spec.sim.disk.torn_writes;
  const std::vector<std::string> names = node_names(s.spec);
  if (const YAML::Node faults = node["faults"]) {
    if (!faults.IsSequence()) fail(faults, "repro.faults must be a list");
    for (const YAML::Node& f : faults) {
      keys(f, "a repro fault",
           {"at", "crash", "restart", "partition", "side_a", "side_b", "heal", "clog", "for"},
           {"at"});
      sim::FaultAction a;
      a.at_us = duration(f["at"], "at");
      if (f["crash"]) {
        a.kind = sim::FaultKind::kCrash;
        a.node = node_id(f["crash"], names);
      } else if (f["restart"]) {
        a.kind = sim::FaultKind::kRestart;
        a.node = node_id(f["restart"], names);
      } else if (f["partition"]) {
        a.kind = sim::FaultKind::kPartition;
        a.partition =
            static_cast<std::uint32_t>(integer(f["partition"], "partition", 1, UINT32_MAX));
        if (!f["side_a"] || !f["side_b"]) fail(f, "a partition needs side_a and side_b");
        for (const YAML::Node& n : f["side_a"]) a.side_a.push_back(node_id(n, names));
        for (const YAML::Node& n : f["side_b"]) a.side_b.push_back(node_id(n, names));
      } else if (f["heal"]) {
        a.kind = sim::FaultKind::kHeal;
        a.partition = static_cast<std::uint32_t>(integer(f["heal"], "heal", 1, UINT32_MAX));
      } else if (f["clog"]) {
        a.kind = sim::FaultKind::kClog;
        if (!f["clog"].IsSequence() || f["clog"].size() != 2)
          fail(f["clog"], "clog names two nodes: [from, to]");
        a.node = node_id(f["clog"][0], names);
        a.peer = node_id(f["clog"][1], names);
        a.duration_us = f["for"] ? duration(f["for"], "for") : 0;
      } else {
        fail(f, "a repro fault is one of crash, restart, partition, heal or clog");
      }
      d->faults.push_back(std::move(a));
    }
  }
  if (const YAML::Node messages = node["messages"]) {
    if (!messages.IsSequence()) fail(messages, "repro.messages must be a list");
    for (const YAML::Node& m : messages) {
      keys(m, "a repro message", {"from", "to", "message", "fate", "by"},
           {"from", "to", "message", "fate"});
      sim::MessageFate fate;
      fate.from = node_id(m["from"], names);
      fate.to = node_id(m["to"], names);
      fate.message = integer(m["message"], "message", 1, UINT64_MAX);
      const std::string kind = text(m["fate"], "fate");
      bool known = false;
      for (const auto k : {sim::MessageFate::Kind::kDrop, sim::MessageFate::Kind::kDuplicate,
                           sim::MessageFate::Kind::kDelay, sim::MessageFate::Kind::kReorder}) {
        if (sim::to_string(k) == kind) {
          fate.kind = k;
          known = true;
        }
      }
      if (!known)
        fail(m["fate"],
             fmt::format("fate must be drop, duplicate, delay or reorder, not '{}'", kind));
      if (m["by"]) fate.amount_us = duration(m["by"], "by");
      d->messages.push_back(fate);
    }
  }
  if (const YAML::Node work = node["work"]) {
    if (!work.IsSequence()) fail(work, "repro.work must be a list");
    const auto kinds = registry_.domain(s.spec.domain)->work_kinds();
    for (const YAML::Node& w : work) {
      keys(w, "a repro work entry", {"client", "at", "kind", "seed"},
           {"client", "at", "kind", "seed"});
      model::PlannedWork p;
      p.client = static_cast<std::uint32_t>(integer(w["client"], "client", 0, 63));
      if (static_cast<int>(p.client) >= s.spec.clients)
        fail(w["client"], fmt::format("there is no client {}", p.client));
      p.at_us = duration(w["at"], "at");
      p.kind = text(w["kind"], "kind");
      if (std::find(kinds.begin(), kinds.end(), p.kind) == kinds.end()) {
        fail(w["kind"], fmt::format("the {} domain has no work '{}'", s.spec.domain, p.kind));
      }
      p.seed = integer(w["seed"], "seed", 0, UINT64_MAX);
      d->work.push_back(std::move(p));
    }
  }
  s.spec.script = std::move(d);
}

}  // namespace

sim::Result<Scenario> parse_scenario(std::string_view text, const std::string& file,
                                     const model::Registry& registry) {
  if (text.size() > kScenarioBytesMax) {
    return sim::Error{
        fmt::format("{}:1:1: the file is larger than {} bytes, the most a scenario "
                    "may be; is it really a scenario?",
                    file, kScenarioBytesMax)};
  }
  if (text.find('\0') != std::string_view::npos) {
    return sim::Error{fmt::format("{}:1:1: this is a binary file, not a YAML scenario", file)};
  }
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
    return sim::Error{fmt::format(
        "{}:1:1: the file is empty; a scenario needs at least name: and domain:", file)};
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(text));
  } catch (const YAML::Exception& e) {
    return sim::Error{fmt::format("{}:{}:{}: not valid YAML: {}", file, e.mark.line + 1,
                                  e.mark.column + 1, e.msg)};
  }
  try {
    Scenario s = Loader(file, registry).load(root);
    s.text = std::string(text);
    return s;
  } catch (const LoadError& e) {
    return sim::Error{e.message};
  } catch (const YAML::Exception& e) {
    return sim::Error{fmt::format("{}:{}:{}: {}", file, e.mark.line + 1, e.mark.column + 1, e.msg)};
  }
}

sim::Result<Scenario> load_scenario(const std::string& file, const model::Registry& registry) {
  std::ifstream in(file, std::ios::binary);
  if (!in) return sim::Error{fmt::format("{}: cannot open the file", file)};
  std::string text;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    text.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (text.size() > kScenarioBytesMax) break;  // enough to say it is too large
  }
  return parse_scenario(text, file, registry);
}

}  // namespace essim::harness
