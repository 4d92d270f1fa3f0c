#pragma once
// From results to reports: the report of a sweep, the viewer's trace of one
// seed, and the merge of shards' reports. The verdict in each comes from
// judge() (harness/verdict.h); the reports layer only renders it.

#include <cstdint>
#include <string>
#include <vector>

#include "harness/runner.h"
#include "harness/scenario.h"
#include "reports/report.h"
#include "reports/viewer.h"
#include "sim/result.h"

namespace essim::harness {

// A short digest of a scenario's text: two shards of one sweep must have run
// the same file.
std::string scenario_digest(const Scenario& scenario);

// The id every shard of one sweep shares: scenario digest, tool, seed range
// and shard count (not the shard index).
std::string sweep_id(const Scenario& scenario, const SweepPlan& plan);

// The report of one scenario's sweep, with at most `failures_per_property`
// failing seeds described per property.
reports::ScenarioReport to_report(const Scenario& scenario, const ScenarioResult& result,
                                  std::size_t failures_per_property = 3);

// The operations a seed ran, as the reports show them (kinds by name).
std::vector<reports::OperationReport> operation_reports(const std::vector<Operation>& operations);

// The trace for the viewer, with the steps the evidence names highlighted
// and the operations the seed ran (and a rebuild's cut-over) marked.
reports::ViewerTrace viewer_trace(const Scenario& scenario, const SeedResult& result);

// Every trace step of `result` (run with keep_trace) as one JSON object a
// line, nodes by name.
std::string trace_json_lines(const SeedResult& result);

// One shard's report, as read from a file.
struct ShardFile {
  std::string file;
  reports::Report report;
};

// Joins the reports of every shard of the same sweeps into one, and judges
// each scenario again from the summed tallies. Errors (naming the file and
// the field): shards of different sweeps, a shard given twice, a missing
// shard, counts that cannot be (more failed seeds than run), an unknown
// property status.
sim::Result<reports::Report> merge(const std::vector<ShardFile>& shards);

}  // namespace essim::harness
