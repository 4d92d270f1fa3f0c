#pragma once
// The report of a run of scenarios, and its four files:
//   report.json  the whole result (schema in reports/README.md); shards merge
//   junit.xml    one testsuite per scenario, one testcase per property
//   summary.md   for a CI job's summary page
//   report.html  one page to open: verdicts, coverage, charts (report_page.cc)
// The report states what happened and the verdict harness::judge() gave; it
// renders both and decides nothing.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace essim::reports {

inline constexpr int kReportSchemaVersion = 3;
inline constexpr std::string_view kToolVersion = "essim 0.1.0";

// An operation a seed ran (the scenario key `operations:`), as harness names
// it: its kind's name ("rebuild", "audit", ...), its target, when it began.
// The reports know no kinds: they show the names they are given.
struct OperationReport {
  std::string kind;
  std::string target;
  std::uint64_t at_us = 0;
  friend bool operator==(const OperationReport&, const OperationReport&) = default;
};

struct FailureReport {
  std::uint64_t seed = 0;
  std::string fingerprint;  // 0x...
  std::string property;
  std::string summary;
  std::vector<std::string> evidence;
  std::string replay;  // the command that replays this seed
  // The fault mix the seed drew (`swarm: true`): a strength from 0 (off) to
  // 1 (as the scenario says) per fault kind; empty without swarm.
  std::vector<std::pair<std::string, double>> swarm;
  // The operations the seed ran, in the scenario's order; empty without.
  std::vector<OperationReport> operations;
};

// "crashes 3/4, drop off, torn_writes on": a swarm mix in one line.
std::string describe_mix(const std::vector<std::pair<std::string, double>>& mix);
// "rebuild balances at 2s, audit store at 1s": a seed's operations in one
// line, times as a scenario file writes them.
std::string describe_operations(const std::vector<OperationReport>& operations);

// One property's fate: status is one of held, violated, caught, missed,
// also-violated (harness::PropertyStatus).
struct PropertyReport {
  std::string name;
  std::string status;
  std::uint64_t seeds = 0;  // seeds that violated it
};

// A coverage probe over the sweep: every declared probe, reached or not,
// then any other that was reached.
struct ProbeReport {
  std::string name;
  std::string description;  // "" for a probe reached but not declared
  std::uint64_t hits = 0;
  std::optional<std::uint64_t> first_seed;  // the lowest seed that reached it
};

// One metric over the sweep (harness/metrics.h): its per-seed values' min,
// median and max, and their histogram (sim::Histogram's buckets, which
// shards add up).
struct MetricReport {
  std::string name;
  std::string unit;
  std::string description;
  std::uint64_t seeds = 0;  // seeds that measured it
  std::uint64_t min = 0;
  std::uint64_t median = 0;
  std::uint64_t max = 0;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> histogram;  // bucket, seeds
};

// Which sweep a report belongs to. Every shard of one sweep has the same id:
// a digest of the scenario's text, the tool, the seed range and the shard
// count. `shards` lists the shard indices the report holds.
struct SweepReport {
  std::string id;
  std::string scenario_digest;
  std::uint64_t first_seed = 1;
  std::uint64_t seeds = 0;
  std::uint64_t shard_count = 1;
  std::vector<std::uint64_t> shards;
  std::string fingerprint;  // 0x...: the seeds' fingerprints folded; shards add up
};

struct ScenarioReport {
  std::string name;
  std::string file;
  std::string domain;
  std::string description;
  std::string expected_violation;  // empty: the scenario must pass
  std::uint64_t within_seeds = 0;
  bool met = false;  // the verdict
  std::uint64_t seeds_run = 0;
  std::uint64_t seeds_failed = 0;
  std::optional<std::uint64_t> caught_at_seed;
  double wall_seconds = 0;
  std::vector<PropertyReport> properties;
  std::vector<FailureReport> failures;  // at most a few per property, in seed order
  std::vector<ProbeReport> probes;
  std::vector<std::string> required_probes;  // require_probes
  std::vector<std::string> missing_probes;   // the required ones no seed reached (the verdict)
  std::vector<MetricReport> metrics;
  SweepReport sweep;
};

struct Report {
  std::string tool{kToolVersion};
  std::string shard = "0/1";  // "I/N", or "merged"
  std::vector<ScenarioReport> scenarios;
  bool ok() const;
};

nlohmann::json to_json(const Report& report);
// Reads a report written by to_json. REQUIRES nothing of `json`: on false,
// `error` names the field that is missing or wrong ("scenarios[1].seeds_run").
bool from_json(const nlohmann::json& json, Report& report, std::string& error);

std::string junit_xml(const Report& report);
// `s` safe as XML or HTML text and attribute values (& < > " ' escaped;
// control characters XML forbids become '?').
std::string xml_escape(std::string_view s);
// report.html: one self-contained page (no script, no network) with each
// scenario's verdict, probe coverage, metric charts (inline SVG) and the
// commands that replay and show its failing seeds. Its size grows with the
// scenarios, never with the seeds.
std::string report_html(const Report& report);
// A metric's value in its unit, for people: "2.1 ms", "5.04 s", "114x", "44.0k".
std::string format_metric(std::uint64_t value, std::string_view unit);
// The metrics that say most about a sweep, their medians per seed, in one
// line (for the console): "5.04 s simulated, 44.0k steps, 114x, ...".
std::string metrics_line(const ScenarioReport& scenario);
std::string summary_markdown(const Report& report);

// Writes report.json, junit.xml and summary.md into `dir` (created if
// missing). Returns an error message, or "" on success.
std::string write_report_dir(const Report& report, const std::string& dir);

}  // namespace essim::reports
