#include "harness/reporting.h"

#include "model/probes.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <set>

#include <fmt/format.h>

#include "model/trace_notes.h"
#include "sim/assert.h"

namespace essim::harness {

namespace {

// FNV-1a, 64 bits: a stable digest on every platform (not for security).
std::uint64_t fnv1a(std::string_view bytes, std::uint64_t hash = 0xcbf29ce484222325ULL) {
  for (const char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

std::string hex(std::uint64_t value) {
  return fmt::format("0x{:016x}", value);
}

std::optional<std::uint64_t> parse_hex(std::string_view text) {
  if (text.size() < 3 || text.substr(0, 2) != "0x") return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data() + 2, text.data() + text.size(), value, 16);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// The expectation is part of the identity: shards that disagree on it cannot
// be judged together.
std::string id_of(std::string_view digest, std::string_view tool, std::uint64_t first_seed,
                  std::uint64_t seeds, std::uint64_t shard_count, std::string_view violation,
                  std::uint64_t within_seeds, const std::vector<std::string>& required_probes) {
  // The required probes are part of the expectation: a report cannot drop them.
  return hex(
      fnv1a(fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", digest, tool, first_seed, seeds, shard_count,
                        violation, within_seeds, fmt::join(required_probes, ","))));
}

Expectation expectation_of(const reports::ScenarioReport& s) {
  Expectation e;
  e.pass = s.expected_violation.empty();
  e.violation = s.expected_violation;
  e.within_seeds = s.within_seeds;
  e.required_probes = s.required_probes;
  return e;
}

// Every declared probe in `declared` order, then the others reached, with
// the tally's hits.
std::vector<reports::ProbeReport> probe_reports(
    const std::vector<std::pair<std::string, std::string>>& declared, const Tally& tally) {
  std::vector<reports::ProbeReport> out;
  for (const auto& [name, description] : declared) {
    reports::ProbeReport p{name, description, 0, std::nullopt};
    if (const auto it = tally.probes.find(name); it != tally.probes.end()) {
      p.hits = it->second.hits;
      p.first_seed = it->second.first_seed;
    }
    out.push_back(std::move(p));
  }
  for (const auto& entry : tally.probes) {
    const std::string& name = entry.first;
    const bool listed = std::any_of(declared.begin(), declared.end(),
                                    [&](const auto& d) { return d.first == name; });
    if (!listed) out.push_back({name, "", entry.second.hits, entry.second.first_seed});
  }
  return out;
}

// Each metric in the catalogue's order, then any other by name.
std::vector<reports::MetricReport> metric_reports(const SweepMetrics& metrics) {
  std::vector<std::string_view> names;
  for (const MetricInfo& m : metric_catalogue()) {
    if (metrics.contains(m.name)) names.push_back(m.name);
  }
  for (const auto& [name, histogram] : metrics) {
    if (metric_info(name) == nullptr) names.push_back(name);
  }
  std::vector<reports::MetricReport> out;
  for (const std::string_view name : names) {
    const sim::Histogram& h = metrics.find(name)->second;
    if (h.empty()) continue;
    const MetricInfo* info = metric_info(name);
    reports::MetricReport r{std::string(name),
                            info != nullptr ? std::string(info->unit) : "",
                            info != nullptr ? std::string(info->description) : "",
                            h.count(),
                            h.min(),
                            h.quantile(0.5),
                            h.max(),
                            {}};
    for (const auto& [bucket, n] : h.buckets()) r.histogram.emplace_back(bucket, n);
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<sim::Histogram> histogram_of(const reports::MetricReport& m) {
  return sim::Histogram::from_buckets(m.histogram, m.min, m.max);
}

void render_verdict(const Verdict& v, reports::ScenarioReport& out) {
  out.met = v.met;
  out.missing_probes = v.missing_probes;
  out.properties.clear();
  for (const PropertyVerdict& p : v.properties) {
    out.properties.push_back({p.property, std::string(to_string(p.status)), p.seeds});
  }
}

// Keeps the lowest `per_property` failures of each property, in seed order.
void trim_failures(std::vector<reports::FailureReport>& failures, std::size_t per_property) {
  std::stable_sort(failures.begin(), failures.end(),
                   [](const auto& a, const auto& b) { return a.seed < b.seed; });
  std::map<std::string, std::size_t> kept;
  std::erase_if(failures, [&](const reports::FailureReport& f) {
    return kept[f.property]++ >= per_property;
  });
}

}  // namespace

std::string scenario_digest(const Scenario& scenario) {
  return hex(fnv1a(scenario.source));
}

std::string sweep_id(const Scenario& scenario, const SweepPlan& plan) {
  return id_of(scenario_digest(scenario), reports::kToolVersion, plan.first_seed, plan.seeds,
               plan.shard_count, scenario.expect.pass ? "" : scenario.expect.violation,
               scenario.expect.pass ? 0 : scenario.expect.within_seeds,
               scenario.expect.required_probes);
}

reports::ScenarioReport to_report(const Scenario& s, const ScenarioResult& r,
                                  std::size_t failures_per_property) {
  reports::ScenarioReport out;
  out.name = s.name;
  out.file = s.file;
  out.domain = s.spec.domain;
  out.description = s.description;
  out.expected_violation = s.expect.pass ? "" : s.expect.violation;
  out.within_seeds = s.expect.pass ? 0 : s.expect.within_seeds;
  out.seeds_run = r.tally.seeds_run;
  out.seeds_failed = r.tally.seeds_failed;
  out.caught_at_seed = r.tally.caught_at_seed;
  out.wall_seconds = r.wall_seconds;
  render_verdict(r.verdict, out);
  std::vector<std::pair<std::string, std::string>> declared;
  for (const ProbeDeclaration& p : model::probes::known(*s.registry->domain(s.spec.domain)))
    declared.emplace_back(p.name, p.description);
  out.probes = probe_reports(declared, r.tally);
  out.required_probes = s.expect.required_probes;
  out.metrics = metric_reports(r.metrics);
  for (const SeedResult& seed : r.failures) {
    for (const properties::Violation& v : seed.violations) {
      out.failures.push_back({seed.seed,
                              hex(seed.fingerprint),
                              v.property,
                              v.summary,
                              v.evidence,
                              replay_command(r.program, s, seed.seed),
                              {},
                              operation_reports(seed.operations_run)});
      if (seed.swarm) out.failures.back().swarm = as_mix(*seed.swarm);
    }
  }
  trim_failures(out.failures, failures_per_property);
  out.sweep = {sweep_id(s, r.plan), scenario_digest(s),   r.plan.first_seed, r.plan.seeds,
               r.plan.shard_count,  {r.plan.shard_index}, hex(r.fingerprint)};
  return out;
}

std::vector<reports::OperationReport> operation_reports(const std::vector<Operation>& operations) {
  std::vector<reports::OperationReport> out;
  for (const Operation& o : operations) {
    ESSIM_ASSERT(o.at_us >= 0);  // the loader refuses a time before the run
    out.push_back({std::string(to_string(o.kind)), o.target, static_cast<std::uint64_t>(o.at_us)});
  }
  return out;
}

namespace {

// Each operation `r` ran, at its time, and each rebuild's cut-over where its
// router noted one (the note is on the router's lane; the marker spans all).
std::vector<reports::ViewerTrace::Marker> operation_markers(const SeedResult& r) {
  std::vector<reports::ViewerTrace::Marker> out;
  for (const Operation& o : r.operations_run) {
    out.push_back(
        {o.at_us, fmt::format("{} {}", to_string(o.kind), o.target), "operation: " + describe(o)});
  }
  constexpr std::size_t kRouter = 2;  // rebuild_node_names: worker, bus, router
  for (const sim::TraceEntry& e : r.trace) {
    if (e.kind != sim::TraceKind::kNote || e.text != model::notes::kRebuildCutOver) continue;
    const std::string router = e.node < r.node_names.size() ? r.node_names[e.node] : "a router";
    std::string label = router + ": cut over";
    for (const Operation& o : rebuilds_of(r.operations_run)) {
      if (rebuild_node_names(o.target)[kRouter] == router)
        label = fmt::format("{} {}: cut over", to_string(o.kind), o.target);
    }
    out.push_back({e.at_us, std::move(label),
                   fmt::format("{} cut queries over to the rebuilt read model, which had applied "
                               "{} events; the live one had answered {} queries",
                               router, e.a, e.b)});
  }
  return out;
}

}  // namespace

reports::ViewerTrace viewer_trace(const Scenario& s, const SeedResult& r) {
  reports::ViewerTrace t;
  t.title = fmt::format("{} — seed {} — fingerprint {}", s.name, r.seed, hex(r.fingerprint));
  t.nodes = r.node_names;
  std::vector<std::uint64_t> positions;
  for (const properties::Violation& v : r.violations) {
    t.verdict.push_back(v.property + ": " + v.summary);
    for (const std::string& e : v.evidence) t.verdict.push_back("    " + e);
    positions.insert(positions.end(), v.positions.begin(), v.positions.end());
  }
  if (t.verdict.empty()) t.verdict.push_back("every property held");
  auto node = [](sim::NodeId n) { return n == sim::kNoNode ? -1 : static_cast<int>(n); };
  for (const sim::TraceEntry& e : r.trace) {
    t.steps.push_back({e.step, e.at_us, std::string(sim::to_string(e.kind)), node(e.node),
                       node(e.peer), e.a, e.b, e.text});
    if (e.kind != sim::TraceKind::kNote) continue;
    namespace notes = model::notes;
    bool named = e.text == notes::kLogCorrupt || e.text == notes::kLogTruncated ||
                 e.text == notes::kLogTornTailKept;
    for (const std::uint64_t p : positions) {
      if (e.text == notes::kAck && p >= e.a && p - e.a < e.b) named = true;
      if (e.text == notes::kProjectionReapplied && p == e.a) named = true;
    }
    if (named && !r.violations.empty()) t.highlight_steps.push_back(e.step);
  }
  t.operations = operation_markers(r);
  return t;
}

std::string trace_json_lines(const SeedResult& r) {
  auto name = [&](sim::NodeId n) -> nlohmann::json {
    if (n == sim::kNoNode) return nullptr;
    return n < r.node_names.size() ? r.node_names[n] : std::to_string(n);
  };
  std::string out;
  for (const sim::TraceEntry& e : r.trace) {
    nlohmann::json line{{"step", e.step},
                        {"at_us", e.at_us},
                        {"kind", sim::to_string(e.kind)},
                        {"node", name(e.node)},
                        {"peer", name(e.peer)},
                        {"a", e.a},
                        {"b", e.b}};
    if (!e.text.empty()) line["text"] = e.text;
    out += line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out += '\n';
  }
  return out;
}

namespace {

// Checks one shard's scenario report against itself: what no run of essim
// writes. Returns an error naming the field, or "".
std::string implausible(const reports::ScenarioReport& s) {
  const reports::SweepReport& w = s.sweep;
  if (w.id != id_of(w.scenario_digest, reports::kToolVersion, w.first_seed, w.seeds, w.shard_count,
                    s.expected_violation, s.within_seeds, s.required_probes))
    return "sweep.id does not match the sweep it describes (edited, or another essim version)";
  if (w.shard_count == 0 || w.seeds == 0) return "sweep.shard_count and sweep.seeds must be >= 1";
  if (w.seeds - 1 > UINT64_MAX - w.first_seed) return "sweep.seeds go past the largest seed";
  if (w.shards.empty()) return "sweep.shards is empty";
  for (const std::uint64_t i : w.shards) {
    if (i >= w.shard_count)
      return fmt::format("sweep.shards names shard {} of {}", i, w.shard_count);
  }
  if (!parse_hex(w.fingerprint)) return "sweep.fingerprint must be 0x and 16 hex digits";
  if (s.seeds_run > w.seeds) return "seeds_run is more than sweep.seeds";
  if (s.seeds_failed > s.seeds_run) return "seeds_failed is more than seeds_run";
  if (s.caught_at_seed &&
      (*s.caught_at_seed < w.first_seed || *s.caught_at_seed - w.first_seed >= w.seeds))
    return "caught_at_seed is outside the sweep's seeds";
  for (const reports::PropertyReport& p : s.properties) {
    if (!property_status_by_name(p.status))
      return fmt::format("property {} has the unknown status '{}'", p.name, p.status);
    if (p.seeds > s.seeds_failed)
      return fmt::format("property {} failed in more seeds than seeds_failed", p.name);
  }
  std::set<std::string_view> metrics;
  for (const reports::MetricReport& m : s.metrics) {
    if (!metrics.insert(m.name).second) return fmt::format("metric {} is listed twice", m.name);
    if (m.seeds > s.seeds_run)
      return fmt::format("metric {} was measured in more seeds than seeds_run", m.name);
    if (!histogram_of(m))
      return fmt::format("metric {}: its histogram, min and max cannot be one", m.name);
  }
  std::set<std::string_view> probes;
  for (const reports::ProbeReport& p : s.probes) {
    if (!probes.insert(p.name).second) return fmt::format("probe {} is listed twice", p.name);
    if (p.first_seed.has_value() != (p.hits > 0))
      return fmt::format("probe {}: first_seed must be given exactly when hits > 0", p.name);
    if (p.first_seed && (*p.first_seed < w.first_seed || *p.first_seed - w.first_seed >= w.seeds))
      return fmt::format("probe {}: first_seed is outside the sweep's seeds", p.name);
  }
  return "";
}

Tally tally_of(const reports::ScenarioReport& s) {
  Tally t;
  t.seeds_run = s.seeds_run;
  t.seeds_failed = s.seeds_failed;
  t.caught_at_seed = s.caught_at_seed;
  for (const reports::PropertyReport& p : s.properties) {
    if (p.seeds > 0) t.violated[p.name] = p.seeds;
  }
  for (const reports::ProbeReport& p : s.probes) {
    if (p.hits > 0) t.probes[p.name] = {p.hits, *p.first_seed};
  }
  return t;
}

struct Group {
  reports::ScenarioReport merged;
  Tally tally;
  SweepMetrics metrics;
  std::uint64_t fingerprint = 0;
  std::map<std::uint64_t, std::string> shard_files;  // shard index -> file
};

sim::Error field_error(const std::string& file, std::size_t scenario, const std::string& what) {
  return sim::Error{fmt::format("{}: scenarios[{}]: {}", file, scenario, what)};
}

}  // namespace

sim::Result<reports::Report> merge(const std::vector<ShardFile>& shards) {
  std::map<std::string, Group> groups;  // by sweep id
  std::vector<std::string> order;
  for (const ShardFile& shard : shards) {
    for (std::size_t i = 0; i < shard.report.scenarios.size(); ++i) {
      const reports::ScenarioReport& s = shard.report.scenarios[i];
      if (const std::string why = implausible(s); !why.empty())
        return field_error(shard.file, i, why);
      const Tally t = tally_of(s);
      if (!s.expected_violation.empty() &&
          t.caught_at_seed.has_value() != t.violated.contains(s.expected_violation))
        return field_error(shard.file, i, "caught_at_seed disagrees with the expected property");
      auto [it, fresh] = groups.try_emplace(s.sweep.id);
      Group& g = it->second;
      if (fresh) {
        order.push_back(s.sweep.id);
        g.merged = s;
        g.merged.seeds_run = 0;
        g.merged.wall_seconds = 0;
        g.merged.failures.clear();
        g.merged.sweep.shards.clear();
      }
      for (const std::uint64_t index : s.sweep.shards) {
        const auto [at, added] = g.shard_files.emplace(index, shard.file);
        if (!added)
          return field_error(shard.file, i,
                             fmt::format("shard {}/{} of {} is already in {}", index,
                                         s.sweep.shard_count, s.name, at->second));
      }
      // Shards of one sweep run disjoint seeds: together no more than it has.
      if (s.seeds_run > s.sweep.seeds - g.tally.seeds_run)
        return field_error(shard.file, i,
                           "seeds_run: the shards ran more seeds than the sweep has");
      for (const auto& [name, probe] : t.probes) {
        const auto so_far = g.tally.probes.find(name);
        if (so_far != g.tally.probes.end() && probe.hits > UINT64_MAX - so_far->second.hits)
          return field_error(shard.file, i,
                             fmt::format("probe {}: the shards' hits add up past 2^64 - 1", name));
      }
      g.tally.add(t);
      for (const reports::MetricReport& m : s.metrics) g.metrics[m.name].add(*histogram_of(m));
      g.fingerprint += *parse_hex(s.sweep.fingerprint);
      g.merged.wall_seconds += s.wall_seconds;
      g.merged.failures.insert(g.merged.failures.end(), s.failures.begin(), s.failures.end());
    }
  }
  reports::Report out;
  out.shard = "merged";
  for (const std::string& id : order) {
    Group& g = groups.at(id);
    reports::ScenarioReport& m = g.merged;
    for (const auto& [index, file] : g.shard_files) m.sweep.shards.push_back(index);
    if (m.sweep.shards.size() != m.sweep.shard_count) {
      std::vector<std::uint64_t> missing;
      for (std::uint64_t i = 0; i < m.sweep.shard_count; ++i) {
        if (!g.shard_files.contains(i)) missing.push_back(i);
      }
      return sim::Error{fmt::format(
          "{}: shard(s) {} of {} are missing; merge the report.json of every shard of the sweep",
          m.name, fmt::join(missing, ", "), m.sweep.shard_count)};
    }
    std::vector<std::string> checked;
    for (const reports::PropertyReport& p : m.properties) checked.push_back(p.name);
    render_verdict(judge(expectation_of(m), checked, g.tally), m);
    std::vector<std::pair<std::string, std::string>> declared;
    for (const reports::ProbeReport& p : m.probes) {
      if (!p.description.empty()) declared.emplace_back(p.name, p.description);
    }
    m.probes = probe_reports(declared, g.tally);
    m.metrics = metric_reports(g.metrics);
    m.seeds_run = g.tally.seeds_run;
    m.seeds_failed = g.tally.seeds_failed;
    m.caught_at_seed = g.tally.caught_at_seed;
    m.sweep.fingerprint = hex(g.fingerprint);
    trim_failures(m.failures, 3);
    out.scenarios.push_back(std::move(m));
  }
  return out;
}

}  // namespace essim::harness
