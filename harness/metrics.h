#pragma once
// A run's metrics: what it did and at what speed, per seed, and their spread
// over a sweep (min, median and max across seeds, in sim::Histogram). None
// of them enters the fingerprint or changes a run; the wall time and the
// time compression are this machine's, the rest is fixed by the seed.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "harness/cluster.h"
#include "sim/histogram.h"
#include "sim/probe.h"

namespace essim::harness {

struct MetricInfo {
  std::string_view name;
  std::string_view unit;  // "ms", "us", "x", or "" for a count
  std::string_view description;
};

// Every metric, in the order reports show them.
const std::vector<MetricInfo>& metric_catalogue();
const MetricInfo* metric_info(std::string_view name);

using SeedMetrics = std::map<std::string, std::uint64_t, std::less<>>;

// The metrics of the run `c` has finished: `counters` are what its code
// counted (sim/probe.h), `wall_seconds` how long it took on this machine.
// A latency that nothing measured (no append acknowledged) is left out.
SeedMetrics seed_metrics(const Cluster& c, const sim::RunCounters& counters, double wall_seconds);

// A sweep's metrics: per metric, the histogram of its per-seed values.
using SweepMetrics = std::map<std::string, sim::Histogram, std::less<>>;
void add_seed(SweepMetrics& sweep, const SeedMetrics& seed);

}  // namespace essim::harness
