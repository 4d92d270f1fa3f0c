#include "reports/report.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>

#include <fmt/format.h>

namespace essim::reports {

using nlohmann::json;

bool Report::ok() const {
  return std::all_of(scenarios.begin(), scenarios.end(),
                     [](const ScenarioReport& s) { return s.met; });
}

json to_json(const Report& r) {
  json scenarios = json::array();
  for (const ScenarioReport& s : r.scenarios) {
    json failures = json::array();
    for (const FailureReport& f : s.failures) {
      failures.push_back({{"seed", f.seed},
                          {"fingerprint", f.fingerprint},
                          {"property", f.property},
                          {"summary", f.summary},
                          {"evidence", f.evidence},
                          {"replay", f.replay}});
    }
    json violated = json::object();
    for (const auto& [property, seeds] : s.violated) violated[property] = seeds;
    json expect = s.expected_violation.empty()
                      ? json("pass")
                      : json{{"violation", s.expected_violation}, {"within_seeds", s.within_seeds}};
    scenarios.push_back({{"name", s.name},
                         {"file", s.file},
                         {"domain", s.domain},
                         {"description", s.description},
                         {"expect", expect},
                         {"met", s.met},
                         {"seeds_run", s.seeds_run},
                         {"seeds_failed", s.seeds_failed},
                         {"caught_at_seed", s.caught_at_seed},
                         {"wall_seconds", s.wall_seconds},
                         {"properties", s.properties},
                         {"violated", violated},
                         {"failures", failures}});
  }
  return {{"schema_version", kReportSchemaVersion},
          {"tool", r.tool},
          {"shard", r.shard},
          {"ok", r.ok()},
          {"scenarios", scenarios}};
}

bool from_json(const json& j, Report& r, std::string& error) {
  try {
    if (!j.is_object()) {
      error = "a report must be a JSON object";
      return false;
    }
    if (j.value("schema_version", 0) != kReportSchemaVersion) {
      error = fmt::format("report schema_version {} is not {}", j.value("schema_version", 0),
                          kReportSchemaVersion);
      return false;
    }
    r = Report{};
    r.tool = j.at("tool").get<std::string>();
    r.shard = j.at("shard").get<std::string>();
    for (const json& s : j.at("scenarios")) {
      ScenarioReport sr;
      sr.name = s.at("name").get<std::string>();
      sr.file = s.at("file").get<std::string>();
      sr.domain = s.at("domain").get<std::string>();
      sr.description = s.value("description", "");
      const json& expect = s.at("expect");
      if (expect.is_object()) {
        sr.expected_violation = expect.at("violation").get<std::string>();
        sr.within_seeds = expect.at("within_seeds").get<std::uint64_t>();
      }
      sr.met = s.at("met").get<bool>();
      sr.seeds_run = s.at("seeds_run").get<std::uint64_t>();
      sr.seeds_failed = s.at("seeds_failed").get<std::uint64_t>();
      sr.caught_at_seed = s.at("caught_at_seed").get<std::uint64_t>();
      sr.wall_seconds = s.at("wall_seconds").get<double>();
      sr.properties = s.at("properties").get<std::vector<std::string>>();
      for (const auto& [property, seeds] : s.at("violated").items()) {
        sr.violated.emplace_back(property, seeds.get<std::uint64_t>());
      }
      for (const json& f : s.at("failures")) {
        sr.failures.push_back({f.at("seed").get<std::uint64_t>(), f.at("fingerprint").get<std::string>(),
                               f.at("property").get<std::string>(), f.at("summary").get<std::string>(),
                               f.at("evidence").get<std::vector<std::string>>(),
                               f.at("replay").get<std::string>()});
      }
      r.scenarios.push_back(std::move(sr));
    }
    return true;
  } catch (const json::exception& e) {
    error = fmt::format("not an essim report: {}", e.what());
    return false;
  }
}

namespace {

std::string xml_escape(std::string_view s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
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

const FailureReport* first_failure(const ScenarioReport& s, std::string_view property) {
  for (const FailureReport& f : s.failures) {
    if (f.property == property) return &f;
  }
  return nullptr;
}

std::uint64_t seeds_violating(const ScenarioReport& s, std::string_view property) {
  for (const auto& [p, n] : s.violated) {
    if (p == property) return n;
  }
  return 0;
}

}  // namespace

std::string junit_xml(const Report& r) {
  std::string out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
  std::size_t tests = 0;
  std::size_t failures = 0;
  std::string suites;
  for (const ScenarioReport& s : r.scenarios) {
    std::string cases;
    std::size_t suite_failures = 0;
    for (const std::string& property : s.properties) {
      const bool expected = property == s.expected_violation;
      const std::uint64_t violating = seeds_violating(s, property);
      cases += fmt::format("    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3f}\">\n",
                           xml_escape(s.name), xml_escape(property),
                           s.wall_seconds / std::max<std::size_t>(1, s.properties.size()));
      if (expected && s.caught_at_seed == 0) {
        ++suite_failures;
        cases += fmt::format(
            "      <failure message=\"{}\" type=\"expected-violation-missing\">{}</failure>\n",
            xml_escape(fmt::format("expected {} to be violated within {} seeds; it was not",
                                   property, s.within_seeds)),
            xml_escape(fmt::format("{} seeds ran; run 'essim run {} --seeds N' with more seeds",
                                   s.seeds_run, s.file)));
      } else if (!expected && violating > 0) {
        const FailureReport* f = first_failure(s, property);
        const std::string message = f == nullptr
                                        ? fmt::format("violated in {} seed(s)", violating)
                                        : fmt::format("seed {}: {} (replay: {})", f->seed,
                                                      f->summary, f->replay);
        std::string body;
        if (f != nullptr) {
          for (const std::string& e : f->evidence) body += e + "\n";
          body += "fingerprint: " + f->fingerprint + "\n";
        }
        if (s.expected_violation.empty()) {
          ++suite_failures;
          cases += fmt::format("      <failure message=\"{}\" type=\"property-violated\">{}</failure>\n",
                               xml_escape(message), xml_escape(body));
        } else {
          // A bug scenario: other properties may fall too; that is information.
          cases += fmt::format("      <system-out>{}</system-out>\n", xml_escape(message + "\n" + body));
        }
      } else if (expected) {
        cases += fmt::format("      <system-out>{}</system-out>\n",
                             xml_escape(fmt::format("caught as expected at seed {}",
                                                    s.caught_at_seed)));
      }
      cases += "    </testcase>\n";
    }
    tests += s.properties.size();
    failures += suite_failures;
    suites += fmt::format(
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"0\" "
        "time=\"{:.3f}\" file=\"{}\">\n{}  </testsuite>\n",
        xml_escape(s.name), s.properties.size(), suite_failures, s.wall_seconds,
        xml_escape(s.file), cases);
  }
  out += fmt::format("<testsuites name=\"essim\" tests=\"{}\" failures=\"{}\">\n{}</testsuites>\n",
                     tests, failures, suites);
  return out;
}

std::string summary_markdown(const Report& r) {
  std::string md = fmt::format("## essim: {}\n\n", r.ok() ? "every scenario met its expectation"
                                                           : "some scenarios did not");
  md += "| scenario | expectation | result | seeds | seeds/s |\n|---|---|---|---:|---:|\n";
  for (const ScenarioReport& s : r.scenarios) {
    const std::string expect = s.expected_violation.empty()
                                   ? "pass"
                                   : fmt::format("`{}` within {} seeds", s.expected_violation,
                                                 s.within_seeds);
    std::string result;
    if (s.expected_violation.empty()) {
      result = s.met ? "passed" : fmt::format("**{} seed(s) failed**", s.seeds_failed);
    } else {
      result = s.met ? fmt::format("caught at seed {}", s.caught_at_seed) : "**not caught**";
    }
    md += fmt::format("| {} | {} | {} {} | {} | {:.1f} |\n", s.name, expect, s.met ? "✅" : "❌",
                      result, s.seeds_run,
                      s.wall_seconds > 0 ? static_cast<double>(s.seeds_run) / s.wall_seconds : 0.0);
  }
  for (const ScenarioReport& s : r.scenarios) {
    if (s.met || s.failures.empty()) continue;
    const FailureReport& f = s.failures.front();
    md += fmt::format("\n### {} — `{}` at seed {}\n\n{}\n\n```\n", s.name, f.property, f.seed,
                      f.summary);
    for (const std::string& e : f.evidence) md += e + "\n";
    md += fmt::format("```\n\nReplay: `{}` (fingerprint {})\n", f.replay, f.fingerprint);
  }
  return md;
}

Report merge(const std::vector<Report>& shards) {
  Report out;
  out.shard = "merged";
  std::map<std::pair<std::string, std::string>, std::size_t> index;
  for (const Report& shard : shards) {
    for (const ScenarioReport& s : shard.scenarios) {
      const auto key = std::pair{s.file, s.name};
      const auto it = index.find(key);
      if (it == index.end()) {
        index[key] = out.scenarios.size();
        out.scenarios.push_back(s);
        continue;
      }
      ScenarioReport& m = out.scenarios[it->second];
      m.seeds_run += s.seeds_run;
      m.seeds_failed += s.seeds_failed;
      m.wall_seconds += s.wall_seconds;
      if (s.caught_at_seed != 0 && (m.caught_at_seed == 0 || s.caught_at_seed < m.caught_at_seed)) {
        m.caught_at_seed = s.caught_at_seed;
      }
      for (const auto& entry : s.violated) {
        const std::string& property = entry.first;
        auto v = std::find_if(m.violated.begin(), m.violated.end(),
                              [&property](const auto& p) { return p.first == property; });
        if (v == m.violated.end()) {
          m.violated.push_back(entry);
        } else {
          v->second += entry.second;
        }
      }
      m.failures.insert(m.failures.end(), s.failures.begin(), s.failures.end());
      std::stable_sort(m.failures.begin(), m.failures.end(),
                       [](const FailureReport& a, const FailureReport& b) { return a.seed < b.seed; });
      std::sort(m.violated.begin(), m.violated.end());
    }
  }
  for (ScenarioReport& s : out.scenarios) {
    s.met = s.expected_violation.empty() ? s.seeds_failed == 0 : s.caught_at_seed != 0;
  }
  return out;
}

std::string write_report_dir(const Report& report, const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return fmt::format("cannot create {}: {}", dir, ec.message());
  const std::vector<std::pair<std::string, std::string>> files{
      {"report.json", to_json(report).dump(2) + "\n"},
      {"junit.xml", junit_xml(report)},
      {"summary.md", summary_markdown(report)}};
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
