#include "harness/shrink.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <utility>

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include "harness/names.h"

namespace essim::harness {

namespace {

using Clock = std::chrono::steady_clock;  // the tool's own time, never a simulation's

struct Trial {
  bool fails = false;
  std::uint64_t steps = 0;
  std::uint64_t fingerprint = 0;
  std::vector<properties::Violation> violations;
};

class Shrinker {
 public:
  Shrinker(const Scenario& s, std::uint64_t seed, const ShrinkOptions& o)
      : scenario_(s), seed_(seed), options_(o), started_(Clock::now()) {
    // The first run checks the scenario's properties and an asked-for one,
    // so that it can say which properties the seed does violate.
    checked_ = s.properties;
    if (!checked_.empty() && !o.property.empty() &&
        std::find(checked_.begin(), checked_.end(), o.property) == checked_.end())
      checked_.push_back(o.property);
  }

  bool out_of_time() const {
    return std::chrono::duration<double>(Clock::now() - started_).count() > options_.max_seconds;
  }
  double seconds() const { return std::chrono::duration<double>(Clock::now() - started_).count(); }

  Trial run(const Decisions* script, Decisions* recorded = nullptr) {
    ++runs_;
    ClusterSpec spec = seed_spec(scenario_, seed_);
    if (script != nullptr) spec.script = std::make_shared<Decisions>(*script);
    Trial t;
    auto built = build_cluster(spec, seed_, *scenario_.registry);
    if (!built.ok()) return t;
    Cluster& c = *built.value();
    run_cluster(c, spec);
    if (recorded != nullptr) *recorded = c.decisions();
    const std::vector<std::string> only =
        property_.empty() ? checked_ : std::vector<std::string>{property_};
    CheckedRun checked = check_cluster(c, spec, only);
    t.violations = std::move(checked.violations);
    t.fails =
        std::any_of(t.violations.begin(), t.violations.end(), [&](const properties::Violation& v) {
          return property_.empty() || v.property == property_;
        });
    t.steps = c.sim->trace().steps();
    t.fingerprint = seed_fingerprint(c.sim->fingerprint(), final_states(c, checked.log));
    if (options_.progress) options_.progress(runs_, script == nullptr ? 0 : script->size());
    return t;
  }

  // Keeps `candidate` as the best when it still fails.
  bool attempt(const Decisions& candidate) {
    if (out_of_time()) {
      finished_ = false;
      return false;
    }
    Trial t = run(&candidate);
    if (!t.fails) return false;
    best_ = candidate;
    best_trial_ = std::move(t);
    return true;
  }

  ShrinkResult go();

 private:
  void remove_kinds();
  void delta_debug();
  void one_at_a_time();
  void shorten_chaos();
  void shorten_delays();
  void drop_unfired();

  const Scenario& scenario_;
  std::uint64_t seed_;
  const ShrinkOptions& options_;
  Clock::time_point started_;
  std::vector<std::string> checked_;  // before property_ is chosen; empty: every one
  std::string property_;
  std::size_t runs_ = 0;
  bool finished_ = true;
  Decisions best_;
  Trial best_trial_;
};

std::vector<std::string> property_names(const std::vector<properties::Violation>& violations) {
  std::vector<std::string> out;
  for (const properties::Violation& v : violations) {
    if (std::find(out.begin(), out.end(), v.property) == out.end()) out.push_back(v.property);
  }
  return out;
}

// The property shrinking keeps: the one asked for, else the scenario's
// expected violation, else the first the seed violates. Fixed before
// shrinking starts, so that a repro never fails some other property than
// the one it was made for.
std::string kept_property(const Scenario& s, const ShrinkOptions& o,
                          const std::vector<properties::Violation>& violations) {
  if (!o.property.empty()) return o.property;
  if (!s.expect.pass) return s.expect.violation;
  return violations.front().property;
}

// The decisions as one list of items, to cut from uniformly.
struct Item {
  int list;  // 0 faults, 1 messages, 2 work, 3 operations
  std::size_t index;
};

std::vector<Item> items_of(const Decisions& d) {
  std::vector<Item> items;
  for (std::size_t i = 0; i < d.faults.size(); ++i) items.push_back({0, i});
  for (std::size_t i = 0; i < d.messages.size(); ++i) items.push_back({1, i});
  for (std::size_t i = 0; i < d.work.size(); ++i) items.push_back({2, i});
  for (std::size_t i = 0; i < d.operations.size(); ++i) items.push_back({3, i});
  return items;
}

Decisions keep(const Decisions& d, const std::vector<Item>& items) {
  Decisions out;
  out.torn_writes = d.torn_writes;
  out.sync_failures = d.sync_failures;
  out.chaos_us = d.chaos_us;
  for (const Item& it : items) {
    if (it.list == 0) out.faults.push_back(d.faults[it.index]);
    if (it.list == 1) out.messages.push_back(d.messages[it.index]);
    if (it.list == 2) out.work.push_back(d.work[it.index]);
    if (it.list == 3) out.operations.push_back(d.operations[it.index]);
  }
  // Faults run in time order; ties in their original order.
  std::stable_sort(out.faults.begin(), out.faults.end(),
                   [](const auto& a, const auto& b) { return a.at_us < b.at_us; });
  return out;
}

void Shrinker::remove_kinds() {
  for (int list = 0; list < 4; ++list) {
    Decisions candidate = best_;
    if (list == 0 && !candidate.faults.empty())
      candidate.faults.clear();
    else if (list == 1 && !candidate.messages.empty())
      candidate.messages.clear();
    else if (list == 2 && !candidate.work.empty())
      candidate.work.clear();
    else if (list == 3 && !candidate.operations.empty())
      candidate.operations.clear();
    else
      continue;
    (void)attempt(candidate);
  }
}

void Shrinker::delta_debug() {
  std::vector<Item> items = items_of(best_);
  const Decisions base = best_;
  std::size_t n = 2;
  while (items.size() >= 2 && !out_of_time()) {
    const std::size_t chunk = (items.size() + n - 1) / n;
    bool reduced = false;
    for (std::size_t start = 0; start < items.size() && !reduced; start += chunk) {
      std::vector<Item> rest(items.begin(), items.begin() + static_cast<std::ptrdiff_t>(start));
      rest.insert(
          rest.end(),
          items.begin() + static_cast<std::ptrdiff_t>(std::min(start + chunk, items.size())),
          items.end());
      if (attempt(keep(base, rest))) {
        items = std::move(rest);
        n = std::max<std::size_t>(n - 1, 2);
        reduced = true;
      }
    }
    if (!reduced) {
      if (n >= items.size()) break;
      n = std::min(n * 2, items.size());
    }
  }
}

void Shrinker::one_at_a_time() {
  std::vector<Item> items = items_of(best_);
  const Decisions base = best_;
  for (std::size_t i = items.size(); i-- > 0 && !out_of_time();) {
    std::vector<Item> rest = items;
    rest.erase(rest.begin() + static_cast<std::ptrdiff_t>(i));
    if (attempt(keep(base, rest))) items = std::move(rest);
  }
}

// Decisions past the chaos phase never happen: drop them.
Decisions trimmed(Decisions d) {
  std::erase_if(d.faults, [&](const sim::FaultAction& f) { return f.at_us >= d.chaos_us; });
  std::erase_if(d.work, [&](const model::PlannedWork& w) { return w.at_us >= d.chaos_us; });
  std::erase_if(d.operations, [&](const Operation& o) { return o.at_us >= d.chaos_us; });
  return d;
}

void Shrinker::shorten_chaos() {
  // The shortest chaos phase that still fails, but not before the last fault.
  sim::Micros low = 1;
  for (const auto& f : best_.faults) low = std::max(low, f.at_us + 1);
  sim::Micros high = best_.chaos_us;
  while (low < high && !out_of_time()) {
    const sim::Micros mid = low + (high - low) / 2;
    Decisions candidate = best_;
    candidate.chaos_us = mid;
    if (attempt(trimmed(candidate))) {
      high = mid;
    } else {
      low = mid + 1;
    }
  }
}

void Shrinker::shorten_delays() {
  // Delays: halve each while the failure stays.
  for (std::size_t i = 0; i < best_.messages.size() && !out_of_time(); ++i) {
    while (best_.messages[i].kind == sim::MessageFate::Kind::kDelay &&
           best_.messages[i].amount_us > 1'000) {
      Decisions candidate = best_;
      candidate.messages[i].amount_us /= 2;
      if (!attempt(candidate)) break;
    }
  }
  if (best_.torn_writes) {
    Decisions candidate = best_;
    candidate.torn_writes = false;
    (void)attempt(candidate);
  }
  if (best_.sync_failures.value_or(0.0) > 0.0) {
    Decisions candidate = best_;
    candidate.sync_failures = 0.0;
    (void)attempt(candidate);
  }
}

// A shorter chaos phase leaves planned faults that never fire: a crash,
// partition or clog after the chaos phase, a restart or heal after the heal
// bound. A repro file may not hold them (the loader refuses decisions that
// never fire), so they go when the failure does not need their scheduling.
void Shrinker::drop_unfired() {
  const sim::Micros chaos_end = best_.chaos_us;
  const sim::Micros run_end = chaos_end + scenario_.spec.heal_max_us;
  Decisions candidate = best_;
  std::erase_if(candidate.faults, [&](const sim::FaultAction& f) {
    const bool late_heal = f.kind == sim::FaultKind::kRestart || f.kind == sim::FaultKind::kHeal;
    return f.at_us >= (late_heal ? run_end : chaos_end);
  });
  if (candidate.faults.size() != best_.faults.size()) (void)attempt(candidate);
}

ShrinkResult Shrinker::go() {
  ShrinkResult r;
  Decisions recorded;
  const Trial first = run(nullptr, &recorded);
  r.original = recorded;
  r.original_steps = first.steps;
  if (first.violations.empty()) {
    r.seconds = seconds();
    r.runs = runs_;
    return r;
  }
  r.failing = true;
  r.violated = property_names(first.violations);
  property_ = kept_property(scenario_, options_, first.violations);
  r.property = property_;
  r.property_failed =
      std::find(r.violated.begin(), r.violated.end(), property_) != r.violated.end();
  if (!r.property_failed) {
    r.seconds = seconds();
    r.runs = runs_;
    return r;
  }
  best_ = recorded;
  best_trial_ = run(&best_);
  r.reproduced = best_trial_.fails;
  if (!r.reproduced) {
    // Say what the scripted run did instead: every property, not just the kept one.
    const std::string kept = std::exchange(property_, "");
    r.violated_scripted = property_names(run(&best_).violations);
    property_ = kept;
  }
  if (r.reproduced) {
    remove_kinds();
    shorten_chaos();  // shorter runs make every later trial cheaper
    // Removing one kind of decision can free others to go: repeat to a fixpoint.
    for (std::size_t before = SIZE_MAX; best_.size() < before && !out_of_time();) {
      before = best_.size();
      delta_debug();
      one_at_a_time();
    }
    shorten_chaos();
    shorten_delays();
    drop_unfired();
  }
  r.shrunk = best_;
  r.shrunk_steps = best_trial_.steps;
  r.violations = best_trial_.violations;
  r.fingerprint = best_trial_.fingerprint;
  r.runs = runs_;
  r.seconds = seconds();
  r.finished = finished_;
  return r;
}

}  // namespace

ShrinkResult shrink(const Scenario& scenario, std::uint64_t seed, const ShrinkOptions& options) {
  return Shrinker(scenario, seed, options).go();
}

std::vector<std::string> node_names(const ClusterSpec& spec) {
  std::vector<std::string> names{"store", "bus"};
  for (const ProjectionSpec& p : spec.projections) names.push_back(p.name);
  for (int i = 0; i < spec.clients; ++i) names.push_back(fmt::format("client{}", i));
  for (std::string& name : operation_node_names(spec)) names.push_back(std::move(name));
  return names;
}

std::string write_repro(const Scenario& scenario, std::uint64_t seed, const ShrinkResult& r,
                        std::string_view program, const std::string& output) {
  // The text loaded, not a second read of the file: it may have changed, or
  // be a pipe that gives its bytes once.
  YAML::Node root = YAML::Load(scenario.source);
  if (root["external"] && root["external"]["command"]) {
    namespace fs = std::filesystem;
    fs::path ran = fs::path(scenario.file).parent_path();
    if (root["external"]["cwd"]) ran /= root["external"]["cwd"].as<std::string>();
    const fs::path from = fs::absolute(fs::path(output).parent_path());
    const fs::path cwd = fs::absolute(ran).lexically_normal().lexically_relative(from);
    root["external"]["cwd"] =
        cwd.empty() ? fs::absolute(ran).lexically_normal().string() : cwd.string();
  }
  const std::vector<std::string> names = node_names(scenario.spec);
  auto name = [&](sim::NodeId id) { return id < names.size() ? names[id] : std::to_string(id); };
  // The name must stay within the loader's limit: shorten the original's, on
  // a UTF-8 character boundary (never before a continuation byte).
  const std::string suffix = fmt::format("-repro-seed{}", seed);
  std::string base = scenario.name;
  if (base.size() + suffix.size() > kTextBytesMax) {
    std::size_t cut = kTextBytesMax - suffix.size();
    while (cut > 0 && (static_cast<unsigned char>(base[cut]) & 0xC0U) == 0x80U) --cut;
    base.resize(cut);
  }
  root["name"] = base + suffix;
  root["description"] =
      fmt::format("Shrunk from {} seed {}: {} of {} decisions left; {} still fails.", scenario.file,
                  seed, r.shrunk.size(), r.original.size(), r.property);
  root.remove("seeds");
  root["properties"] = std::vector<std::string>{r.property};
  YAML::Node expect;
  expect["violation"] = r.property;
  expect["within_seeds"] = 1;
  root["expect"] = expect;
  // The repro's sync failures are the scenario key it is loaded with, the
  // seed's swarm mix applied (a repro replays the mix it records).
  std::optional<SwarmDraw> mix = seed_swarm(scenario, seed);
  const double drawn = seed_spec(scenario, seed).sim.disk.sync_failures;
  const double sync_failures = r.shrunk.sync_failures.value_or(drawn);
  if (sync_failures != drawn) {
    root["faults"]["disk"]["sync_failures"] = sync_failures;
    // The key holds the value to run with: the mix must not scale it again.
    if (mix)
      std::erase_if(mix->kinds, [](const SwarmKind& k) { return k.kind == "sync_failures"; });
    // A repro whose faults are all off now has no mix to draw (nor to record).
    ClusterSpec written = scenario.spec;
    written.sim.disk.sync_failures = sync_failures;
    if (mix && swarm_kinds(written).empty()) {
      root.remove("swarm");
      mix.reset();
    }
  }
  YAML::Node repro;
  repro["seed"] = seed;
  if (mix) {
    YAML::Node swarm(YAML::NodeType::Map);
    for (const SwarmKind& k : mix->kinds) swarm[k.kind] = k.strength;
    repro["swarm"] = swarm;
  }
  repro["chaos"] = sim::format_duration(r.shrunk.chaos_us);
  repro["torn_writes"] = r.shrunk.torn_writes;
  YAML::Node faults(YAML::NodeType::Sequence);
  for (const sim::FaultAction& f : r.shrunk.faults) {
    YAML::Node n;
    n["at"] = sim::format_duration(f.at_us);
    switch (f.kind) {
      case sim::FaultKind::kCrash:
        n["crash"] = name(f.node);
        break;
      case sim::FaultKind::kRestart:
        n["restart"] = name(f.node);
        break;
      case sim::FaultKind::kPartition: {
        n["partition"] = f.partition;
        std::vector<std::string> a, b;
        for (const sim::NodeId id : f.side_a) a.push_back(name(id));
        for (const sim::NodeId id : f.side_b) b.push_back(name(id));
        n["side_a"] = a;
        n["side_b"] = b;
        break;
      }
      case sim::FaultKind::kHeal:
        n["heal"] = f.partition;
        break;
      case sim::FaultKind::kClog:
        n["clog"] = std::vector<std::string>{name(f.node), name(f.peer)};
        n["for"] = sim::format_duration(f.duration_us);
        break;
    }
    faults.push_back(n);
  }
  repro["faults"] = faults;
  YAML::Node messages(YAML::NodeType::Sequence);
  for (const sim::MessageFate& m : r.shrunk.messages) {
    YAML::Node n;
    n["from"] = name(m.from);
    n["to"] = name(m.to);
    n["message"] = m.message;
    n["fate"] = std::string(sim::to_string(m.kind));
    if (m.kind == sim::MessageFate::Kind::kDelay || m.kind == sim::MessageFate::Kind::kReorder) {
      n["by"] = sim::format_duration(m.amount_us);
    }
    messages.push_back(n);
  }
  repro["messages"] = messages;
  YAML::Node work(YAML::NodeType::Sequence);
  for (const model::PlannedWork& w : r.shrunk.work) {
    YAML::Node n;
    n["client"] = w.client;
    n["at"] = sim::format_duration(w.at_us);
    n["kind"] = w.kind;
    n["seed"] = w.seed;
    work.push_back(n);
  }
  repro["work"] = work;
  if (!scenario.spec.operations.empty()) {
    YAML::Node operations(YAML::NodeType::Sequence);
    for (const Operation& op : r.shrunk.operations) {
      YAML::Node n;
      n["at"] = sim::format_duration(op.at_us);
      n[std::string(to_string(op.kind))] = op.target;
      operations.push_back(n);
    }
    repro["operations"] = operations;
  }
  root["repro"] = repro;
  YAML::Emitter out;
  out << root;
  return fmt::format(
      "# essim repro: {} seed {}, shrunk from {} to {} decisions in {} runs.\n"
      "# Replay: {} replay <this file>\n{}\n",
      scenario.file, seed, r.original.size(), r.shrunk.size(), r.runs, program, out.c_str());
}

}  // namespace essim::harness
