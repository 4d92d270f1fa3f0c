#include "reports/report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

namespace essim::reports {

using nlohmann::json;

bool Report::ok() const {
  return std::all_of(scenarios.begin(), scenarios.end(),
                     [](const ScenarioReport& s) { return s.met; });
}

namespace {

json sweep_json(const SweepReport& s) {
  return {{"id", s.id},
          {"scenario_digest", s.scenario_digest},
          {"first_seed", s.first_seed},
          {"seeds", s.seeds},
          {"shard_count", s.shard_count},
          {"shards", s.shards},
          {"fingerprint", s.fingerprint}};
}

json scenario_json(const ScenarioReport& s) {
  json failures = json::array();
  for (const FailureReport& f : s.failures) {
    json failure = {{"seed", f.seed},         {"fingerprint", f.fingerprint},
                    {"property", f.property}, {"summary", f.summary},
                    {"evidence", f.evidence}, {"replay", f.replay}};
    if (!f.swarm.empty()) {
      json mix = json::array();
      for (const auto& [kind, strength] : f.swarm)
        mix.push_back({{"kind", kind}, {"strength", strength}});
      failure["swarm"] = mix;
    }
    if (!f.operations.empty()) {
      json operations = json::array();
      for (const OperationReport& o : f.operations)
        operations.push_back({{"kind", o.kind}, {"target", o.target}, {"at_us", o.at_us}});
      failure["operations"] = operations;
    }
    failures.push_back(std::move(failure));
  }
  json properties = json::array();
  for (const PropertyReport& p : s.properties) {
    properties.push_back({{"name", p.name}, {"status", p.status}, {"seeds", p.seeds}});
  }
  json probes = json::array();
  for (const ProbeReport& p : s.probes) {
    probes.push_back({{"name", p.name},
                      {"description", p.description},
                      {"hits", p.hits},
                      {"first_seed", p.first_seed ? json(*p.first_seed) : json(nullptr)}});
  }
  json metrics = json::array();
  for (const MetricReport& m : s.metrics) {
    json histogram = json::array();
    for (const auto& [bucket, n] : m.histogram) histogram.push_back({bucket, n});
    metrics.push_back({{"name", m.name},
                       {"unit", m.unit},
                       {"description", m.description},
                       {"seeds", m.seeds},
                       {"min", m.min},
                       {"median", m.median},
                       {"max", m.max},
                       {"histogram", histogram}});
  }
  const json expect = s.expected_violation.empty() ? json("pass")
                                                   : json{{"violation", s.expected_violation},
                                                          {"within_seeds", s.within_seeds}};
  return {{"name", s.name},
          {"file", s.file},
          {"domain", s.domain},
          {"description", s.description},
          {"expect", expect},
          {"met", s.met},
          {"seeds_run", s.seeds_run},
          {"seeds_failed", s.seeds_failed},
          {"caught_at_seed", s.caught_at_seed ? json(*s.caught_at_seed) : json(nullptr)},
          {"wall_seconds", s.wall_seconds},
          {"properties", properties},
          {"failures", failures},
          {"probes", probes},
          {"required_probes", s.required_probes},
          {"missing_probes", s.missing_probes},
          {"metrics", metrics},
          {"sweep", sweep_json(s.sweep)}};
}

// Reads fields with their path, so an error names exactly what is wrong.
struct BadField {
  std::string message;
};

class Fields {
 public:
  Fields(const json& j, std::string path) : j_(j), path_(std::move(path)) {
    if (!j_.is_object()) throw BadField{fmt::format("{} must be a JSON object", where())};
  }
  const json& at(const char* key) const {
    const auto it = j_.find(key);
    if (it == j_.end()) throw BadField{fmt::format("{} is missing", name(key))};
    return *it;
  }
  std::string name(const char* key) const {
    return path_.empty() ? std::string(key) : fmt::format("{}.{}", path_, key);
  }
  std::string text(const char* key) const {
    const json& v = at(key);
    if (!v.is_string()) throw BadField{fmt::format("{} must be a string", name(key))};
    return v.get<std::string>();
  }
  std::uint64_t count(const char* key) const { return whole(at(key), name(key)); }
  static std::uint64_t whole(const json& v, const std::string& what) {
    // is_number_unsigned: negative numbers and numbers past 2^64 - 1 (read
    // as floating point) are refused, not wrapped.
    if (!v.is_number_unsigned())
      throw BadField{
          fmt::format("{} must be a whole number from 0 to 2^64 - 1, not {}", what, v.dump())};
    return v.get<std::uint64_t>();
  }
  bool flag(const char* key) const {
    const json& v = at(key);
    if (!v.is_boolean()) throw BadField{fmt::format("{} must be true or false", name(key))};
    return v.get<bool>();
  }
  double seconds(const char* key) const {
    const json& v = at(key);
    if (!v.is_number() || v.get<double>() < 0)
      throw BadField{fmt::format("{} must be a number of seconds, not {}", name(key), v.dump())};
    return v.get<double>();
  }
  std::vector<std::string> texts(const char* key) const {
    std::vector<std::string> out;
    const json& v = list(key);
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) throw BadField{fmt::format("{}[{}] must be a string", name(key), i)};
      out.push_back(v[i].get<std::string>());
    }
    return out;
  }
  // An optional swarm mix: [{kind, strength}], strengths from 0 to 1.
  std::vector<std::pair<std::string, double>> mix(const char* key) const {
    std::vector<std::pair<std::string, double>> out;
    if (!j_.contains(key)) return out;
    const json& v = list(key);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Fields k(v[i], item(key, i));
      const json& strength = k.at("strength");
      if (!strength.is_number() ||
          !(strength.get<double>() >= 0.0 && strength.get<double>() <= 1.0))
        throw BadField{fmt::format("{} must be a number from 0 to 1, not {}", k.name("strength"),
                                   strength.dump())};
      out.emplace_back(k.text("kind"), strength.get<double>());
    }
    return out;
  }
  // An optional list of operations: [{kind, target, at_us}].
  std::vector<OperationReport> operations(const char* key) const {
    std::vector<OperationReport> out;
    if (!j_.contains(key)) return out;
    const json& v = list(key);
    for (std::size_t i = 0; i < v.size(); ++i) {
      const Fields o(v[i], item(key, i));
      OperationReport operation{o.text("kind"), o.text("target"), o.count("at_us")};
      if (operation.kind.empty())
        throw BadField{fmt::format("{} must name a kind of operation, not \"\"", o.name("kind"))};
      out.push_back(std::move(operation));
    }
    return out;
  }
  const json& list(const char* key) const {
    const json& v = at(key);
    if (!v.is_array()) throw BadField{fmt::format("{} must be a list", name(key))};
    return v;
  }
  std::string item(const char* key, std::size_t i) const {
    return fmt::format("{}[{}]", name(key), i);
  }

 private:
  std::string where() const { return path_.empty() ? "the report" : path_; }
  const json& j_;
  std::string path_;
};

SweepReport read_sweep(const Fields& f) {
  SweepReport s;
  s.id = f.text("id");
  s.scenario_digest = f.text("scenario_digest");
  s.first_seed = f.count("first_seed");
  s.seeds = f.count("seeds");
  s.shard_count = f.count("shard_count");
  const json& shards = f.list("shards");
  for (std::size_t i = 0; i < shards.size(); ++i)
    s.shards.push_back(Fields::whole(shards[i], f.item("shards", i)));
  s.fingerprint = f.text("fingerprint");
  return s;
}

void read_expect(const Fields& f, ScenarioReport& s) {
  const json& expect = f.at("expect");
  if (expect.is_string() && expect.get<std::string>() == "pass") return;
  const Fields e(expect, f.name("expect"));
  s.expected_violation = e.text("violation");
  s.within_seeds = e.count("within_seeds");
}

ScenarioReport read_scenario(const Fields& f) {
  ScenarioReport s;
  s.name = f.text("name");
  s.file = f.text("file");
  s.domain = f.text("domain");
  s.description = f.text("description");
  read_expect(f, s);
  s.met = f.flag("met");
  s.seeds_run = f.count("seeds_run");
  s.seeds_failed = f.count("seeds_failed");
  if (!f.at("caught_at_seed").is_null()) s.caught_at_seed = f.count("caught_at_seed");
  s.wall_seconds = f.seconds("wall_seconds");
  const json& properties = f.list("properties");
  for (std::size_t i = 0; i < properties.size(); ++i) {
    const Fields p(properties[i], f.item("properties", i));
    s.properties.push_back({p.text("name"), p.text("status"), p.count("seeds")});
  }
  const json& failures = f.list("failures");
  for (std::size_t i = 0; i < failures.size(); ++i) {
    const Fields x(failures[i], f.item("failures", i));
    s.failures.push_back({x.count("seed"), x.text("fingerprint"), x.text("property"),
                          x.text("summary"), x.texts("evidence"), x.text("replay"), x.mix("swarm"),
                          x.operations("operations")});
  }
  const json& probes = f.list("probes");
  for (std::size_t i = 0; i < probes.size(); ++i) {
    const Fields p(probes[i], f.item("probes", i));
    ProbeReport probe{p.text("name"), p.text("description"), p.count("hits"), std::nullopt};
    if (!p.at("first_seed").is_null()) probe.first_seed = p.count("first_seed");
    if (probe.first_seed.has_value() != (probe.hits > 0))
      throw BadField{
          fmt::format("{}: first_seed must be given exactly when hits > 0", f.item("probes", i))};
    s.probes.push_back(std::move(probe));
  }
  const json& metrics = f.list("metrics");
  for (std::size_t i = 0; i < metrics.size(); ++i) {
    const Fields m(metrics[i], f.item("metrics", i));
    MetricReport metric{m.text("name"), m.text("unit"),    m.text("description"), m.count("seeds"),
                        m.count("min"), m.count("median"), m.count("max"),        {}};
    const json& histogram = m.list("histogram");
    std::uint64_t seeds = 0;
    for (std::size_t k = 0; k < histogram.size(); ++k) {
      const std::string at = m.item("histogram", k);
      if (!histogram[k].is_array() || histogram[k].size() != 2)
        throw BadField{at + " must be a [bucket, seeds] pair"};
      const std::uint64_t bucket = Fields::whole(histogram[k][0], at + "[0]");
      const std::uint64_t n = Fields::whole(histogram[k][1], at + "[1]");
      if (bucket > UINT32_MAX) throw BadField{at + "[0] is not a bucket"};
      if (n > UINT64_MAX - seeds) throw BadField{at + "[1] adds up past 2^64 - 1"};
      seeds += n;
      metric.histogram.emplace_back(static_cast<std::uint32_t>(bucket), n);
    }
    if (seeds != metric.seeds)
      throw BadField{fmt::format("{}: the histogram counts {} seeds, not {}", f.item("metrics", i),
                                 seeds, metric.seeds)};
    if (!(metric.min <= metric.median && metric.median <= metric.max))
      throw BadField{fmt::format("{}: min <= median <= max does not hold", f.item("metrics", i))};
    s.metrics.push_back(std::move(metric));
  }
  s.required_probes = f.texts("required_probes");
  s.missing_probes = f.texts("missing_probes");
  s.sweep = read_sweep(Fields(f.at("sweep"), f.name("sweep")));
  return s;
}

}  // namespace

json to_json(const Report& r) {
  json scenarios = json::array();
  for (const ScenarioReport& s : r.scenarios) scenarios.push_back(scenario_json(s));
  return {{"schema_version", kReportSchemaVersion},
          {"tool", r.tool},
          {"shard", r.shard},
          {"ok", r.ok()},
          {"scenarios", scenarios}};
}

bool from_json(const json& j, Report& r, std::string& error) {
  try {
    const Fields f(j, "");
    const json& version = f.at("schema_version");
    if (version != kReportSchemaVersion) {
      error = fmt::format("schema_version is {}, not {}: written by another version of essim",
                          version.dump(), kReportSchemaVersion);
      return false;
    }
    Report out;
    out.tool = f.text("tool");
    out.shard = f.text("shard");
    const json& scenarios = f.list("scenarios");
    for (std::size_t i = 0; i < scenarios.size(); ++i)
      out.scenarios.push_back(read_scenario(Fields(scenarios[i], f.item("scenarios", i))));
    r = std::move(out);
    return true;
  } catch (const BadField& e) {
    error = e.message;
    return false;
  }
}

namespace {

const FailureReport* first_failure(const ScenarioReport& s, std::string_view property) {
  for (const FailureReport& f : s.failures) {
    if (f.property == property) return &f;
  }
  return nullptr;
}

std::string failure_body(const FailureReport* f) {
  if (f == nullptr) return "";
  std::string body;
  for (const std::string& e : f->evidence) body += e + "\n";
  if (!f->swarm.empty()) body += "swarm mix: " + describe_mix(f->swarm) + "\n";
  if (!f->operations.empty()) body += "operations: " + describe_operations(f->operations) + "\n";
  return body + "fingerprint: " + f->fingerprint + "\n";
}

std::string failure_line(const PropertyReport& p, const FailureReport* f) {
  return f == nullptr ? fmt::format("violated in {} seed(s)", p.seeds)
                      : fmt::format("seed {}: {} (replay: {})", f->seed, f->summary, f->replay);
}

// One <testcase>; a failure when the property's status breaks the verdict.
std::string junit_case(const ScenarioReport& s, const PropertyReport& p, bool& failed) {
  std::string out = fmt::format(
      "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n", xml_escape(s.name),
      xml_escape(p.name),
      s.wall_seconds / static_cast<double>(std::max<std::size_t>(1, s.properties.size())));
  const FailureReport* f = first_failure(s, p.name);
  failed = p.status == "violated" || p.status == "missed";
  if (p.status == "violated") {
    out += fmt::format("      <failure message=\"{}\" type=\"property-violated\">{}</failure>\n",
                       xml_escape(failure_line(p, f)), xml_escape(failure_body(f)));
  } else if (p.status == "missed") {
    out += fmt::format(
        "      <failure message=\"{}\" type=\"expected-violation-missing\">{}</failure>\n",
        xml_escape(fmt::format("expected {} to be violated within {} seeds; it was not", p.name,
                               s.within_seeds)),
        xml_escape(fmt::format("{} seeds ran; run 'essim run {} --seeds N' with more seeds",
                               s.seeds_run, s.file)));
  } else if (p.status == "caught") {
    out += fmt::format("      <system-out>{}</system-out>\n",
                       xml_escape(fmt::format("caught as expected at seed {}\n{}",
                                              s.caught_at_seed.value_or(0), failure_body(f))));
  } else if (p.status == "also-violated") {
    out += fmt::format("      <system-out>{}</system-out>\n",
                       xml_escape("also violated: " + failure_line(p, f) + "\n" + failure_body(f)));
  }
  return out + "    </testcase>\n";
}

std::string result_cell(const ScenarioReport& s) {
  if (s.expected_violation.empty() && s.seeds_failed == 0 && !s.missing_probes.empty())
    return fmt::format("**required probes never reached: {}**", fmt::join(s.missing_probes, ", "));
  if (s.expected_violation.empty())
    return s.met ? "passed" : fmt::format("**{} seed(s) failed**", s.seeds_failed);
  if (!s.met) return "**not caught**";
  return fmt::format("caught at seed {}", s.caught_at_seed.value_or(0));
}

}  // namespace

std::string junit_xml(const Report& r) {
  std::size_t tests = 0;
  std::size_t failures = 0;
  std::string suites;
  for (const ScenarioReport& s : r.scenarios) {
    std::string cases;
    std::size_t suite_failures = 0;
    for (const PropertyReport& p : s.properties) {
      bool failed = false;
      cases += junit_case(s, p, failed);
      suite_failures += failed ? 1 : 0;
    }
    std::size_t suite_tests = s.properties.size();
    if (!s.required_probes.empty()) {
      // One testcase for the coverage the scenario requires.
      ++suite_tests;
      cases += fmt::format("    <testcase classname=\"{}\" name=\"require_probes\" time=\"0\">\n",
                           xml_escape(s.name));
      if (!s.missing_probes.empty()) {
        ++suite_failures;
        cases += fmt::format(
            "      <failure message=\"{}\" type=\"required-probe-missing\"></failure>\n",
            xml_escape(fmt::format("no seed reached {}; run more seeds or strengthen the faults",
                                   fmt::join(s.missing_probes, ", "))));
      }
      cases += "    </testcase>\n";
    }
    tests += suite_tests;
    failures += suite_failures;
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
        "time=\"{:.3f}\" file=\"{}\">\n{}  </testsuite>\n",
        xml_escape(s.name), suite_tests, suite_failures, s.wall_seconds, xml_escape(s.file), cases);
  }
  return fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<testsuites name=\"essim\" tests=\"{}\" failures=\"{}\">\n{}</testsuites>\n",
      tests, failures, suites);
}

std::string xml_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // XML 1.0 forbids most control characters, even escaped.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t' && c != '\r') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

std::string describe_mix(const std::vector<std::pair<std::string, double>>& mix) {
  if (mix.empty()) return "no faults to draw";
  std::string out;
  for (const auto& [kind, strength] : mix) {
    if (!out.empty()) out += ", ";
    std::string how;
    if (strength <= 0.0) {
      how = "off";
    } else if (kind == "torn_writes") {
      how = "on";  // on or off: a strength does not apply
    } else if (strength >= 1.0) {
      how = "full";
    } else if (strength == 0.25 || strength == 0.5 || strength == 0.75) {
      how = strength == 0.25 ? "1/4" : strength == 0.5 ? "1/2" : "3/4";
    } else {
      how = fmt::format("{:g}", strength);
    }
    out += fmt::format("{} {}", kind, how);
  }
  return out;
}

std::string describe_operations(const std::vector<OperationReport>& operations) {
  std::vector<std::string> parts;
  for (const OperationReport& o : operations) {
    // As sim::format_duration writes it, so the console and the reports agree.
    const std::string at = o.at_us % 1'000'000 == 0 ? fmt::format("{}s", o.at_us / 1'000'000)
                           : o.at_us % 1'000 == 0   ? fmt::format("{}ms", o.at_us / 1'000)
                                                    : fmt::format("{}us", o.at_us);
    parts.push_back(fmt::format("{} {} at {}", o.kind, o.target, at));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string format_metric(std::uint64_t value, std::string_view unit) {
  const auto v = static_cast<double>(value);
  if (unit == "us") {
    if (value >= 1'000'000) return fmt::format("{:.2f} s", v / 1e6);
    if (value >= 1'000) return fmt::format("{:.1f} ms", v / 1e3);
    return fmt::format("{} us", value);
  }
  if (unit == "ms")
    return value >= 1'000 ? fmt::format("{:.2f} s", v / 1e3) : fmt::format("{} ms", value);
  if (unit == "x") return fmt::format("{}x", value);
  if (value >= 1'000'000) return fmt::format("{:.1f}M", v / 1e6);
  if (value >= 10'000) return fmt::format("{:.1f}k", v / 1e3);
  return fmt::format("{}", value);
}

std::string metrics_line(const ScenarioReport& s) {
  const auto median = [&](std::string_view name) -> const MetricReport* {
    for (const MetricReport& m : s.metrics) {
      if (m.name == name) return &m;
    }
    return nullptr;
  };
  std::vector<std::string> parts;
  const auto add = [&](std::string_view name, std::string_view label) {
    if (const MetricReport* m = median(name))
      parts.push_back(format_metric(m->median, m->unit) + std::string(label));
  };
  add("simulated_ms", " simulated");
  add("trace_steps", " steps");
  add("compression", "");
  if (const MetricReport* ops = median("ops_invoked")) {
    const MetricReport* ok = median("ops_ok");
    const MetricReport* fail = median("ops_fail");
    const MetricReport* info = median("ops_info");
    parts.push_back(fmt::format("{} ops ({} ok, {} fail, {} info)", ops->median,
                                ok ? ok->median : 0, fail ? fail->median : 0,
                                info ? info->median : 0));
  }
  const auto pair = [&](std::string_view p50, std::string_view p99, std::string_view label) {
    const MetricReport* a = median(p50);
    const MetricReport* b = median(p99);
    if (a != nullptr && b != nullptr)
      parts.push_back(fmt::format("{} p50 {} p99 {}", label, format_metric(a->median, a->unit),
                                  format_metric(b->median, b->unit)));
  };
  pair("append_p50_us", "append_p99_us", "append");
  pair("projection_lag_p50_us", "projection_lag_p99_us", "lag");
  add("redeliveries", " redeliveries");
  add("retries", " retries");
  std::uint64_t faults = 0;
  for (const MetricReport& m : s.metrics) {
    if (m.name.starts_with("faults.")) faults += m.median;
  }
  parts.push_back(fmt::format("{} faults", faults));
  if (parts.size() == 1 && faults == 0) return "";
  return fmt::format("{}", fmt::join(parts, ", "));
}

std::string summary_markdown(const Report& r) {
  std::string md = fmt::format(
      "## essim: {}\n\n", r.ok() ? "every scenario met its expectation" : "some scenarios did not");
  md += "| scenario | expectation | result | seeds | seeds/s |\n|---|---|---|---:|---:|\n";
  for (const ScenarioReport& s : r.scenarios) {
    const std::string expect =
        s.expected_violation.empty()
            ? "pass"
            : fmt::format("`{}` within {} seeds", s.expected_violation, s.within_seeds);
    md += fmt::format("| {} | {} | {} {} | {} | {:.1f} |\n", s.name, expect, s.met ? "✅" : "❌",
                      result_cell(s), s.seeds_run,
                      s.wall_seconds > 0 ? static_cast<double>(s.seeds_run) / s.wall_seconds : 0.0);
  }
  for (const ScenarioReport& s : r.scenarios) {
    std::vector<std::string> never;
    for (const ProbeReport& p : s.probes) {
      if (p.hits == 0) never.push_back("`" + p.name + "`");
    }
    if (never.empty()) continue;
    if (md.find("\n### Coverage") == std::string::npos)
      md += "\n### Coverage probes never reached\n\n";
    md += fmt::format("- {}: {} of {} probes never reached: {}\n", s.name, never.size(),
                      s.probes.size(), fmt::join(never, ", "));
  }
  for (const ScenarioReport& s : r.scenarios) {
    if (s.metrics.empty()) continue;
    if (md.find("\n### Run metrics") == std::string::npos)
      md += "\n### Run metrics (per seed: median, min, max)\n";
    md += fmt::format("\n<details><summary>{}: {}</summary>\n\n", s.name, metrics_line(s));
    md += "| metric | median | min | max | what it is |\n|---|---:|---:|---:|---|\n";
    for (const MetricReport& m : s.metrics) {
      md += fmt::format("| `{}` | {} | {} | {} | {} |\n", m.name, format_metric(m.median, m.unit),
                        format_metric(m.min, m.unit), format_metric(m.max, m.unit), m.description);
    }
    md += "\n</details>\n";
  }
  for (const ScenarioReport& s : r.scenarios) {
    if (s.met || s.failures.empty()) continue;
    const FailureReport& f = s.failures.front();
    md += fmt::format("\n### {} — `{}` at seed {}\n\n{}\n\n```\n", s.name, f.property, f.seed,
                      f.summary);
    for (const std::string& e : f.evidence) md += e + "\n";
    md += fmt::format("```\n\nReplay: `{}` (fingerprint {})\n", f.replay, f.fingerprint);
    if (!f.swarm.empty())
      md += fmt::format("\nSwarm mix of this seed: {}\n", describe_mix(f.swarm));
    if (!f.operations.empty())
      md += fmt::format("\nOperations of this seed: {}\n", describe_operations(f.operations));
  }
  return md;
}

std::string write_report_dir(const Report& report, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create {}: {}", dir, ec.message());
  const std::vector<std::pair<std::string, std::string>> files{
      {"report.json", to_json(report).dump(2, ' ', false, json::error_handler_t::replace) + "\n"},
      {"junit.xml", junit_xml(report)},
      {"summary.md", summary_markdown(report)},
      {"report.html", report_html(report)}};
  for (const auto& [name, content] : files) {
    const std::string path = (std::filesystem::path(dir) / name).string();
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << content;
    out.close();
    if (!out) return fmt::format("cannot write {}", path);
  }
  return "";
}

}  // namespace essim::reports
