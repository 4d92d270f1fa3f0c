#pragma once
// The report of a run of scenarios, and its three files:
//   report.json  the whole result (schema in reports/README.md); shards merge
//   junit.xml    one testsuite per scenario, one testcase per property
//   summary.md   for a CI job's summary page
// The report states what happened; whether that is a pass was decided before.

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace essim::reports {

inline constexpr int kReportSchemaVersion = 1;

struct FailureReport {
  std::uint64_t seed = 0;
  std::string fingerprint;  // 0x...
  std::string property;
  std::string summary;
  std::vector<std::string> evidence;
  std::string replay;  // the command that replays this seed
};

struct ScenarioReport {
  std::string name;
  std::string file;
  std::string domain;
  std::string description;
  std::string expected_violation;  // empty: the scenario must pass
  std::uint64_t within_seeds = 0;
  bool met = false;
  std::uint64_t seeds_run = 0;
  std::uint64_t seeds_failed = 0;
  std::uint64_t caught_at_seed = 0;
  double wall_seconds = 0;
  std::vector<std::string> properties;  // checked
  std::vector<std::pair<std::string, std::uint64_t>> violated;  // property -> seeds
  std::vector<FailureReport> failures;  // at most a few per property, in seed order
};

struct Report {
  std::string tool = "essim 0.1.0";
  std::string shard = "0/1";
  std::vector<ScenarioReport> scenarios;
  bool ok() const;
};

nlohmann::json to_json(const Report& report);
// REQUIRES nothing of `json`: an error says what is missing or wrong.
bool from_json(const nlohmann::json& json, Report& report, std::string& error);

std::string junit_xml(const Report& report);
std::string summary_markdown(const Report& report);

// Joins shards of the same run: per scenario, seeds and failures add up.
Report merge(const std::vector<Report>& shards);

// Writes report.json, junit.xml and summary.md into `dir` (created if
// missing). Returns an error message, or "" on success.
std::string write_report_dir(const Report& report, const std::string& dir);

}  // namespace essim::reports
