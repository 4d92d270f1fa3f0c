#include "harness/metrics.h"

#include <algorithm>

#include "sim/trace.h"

namespace essim::harness {

const std::vector<MetricInfo>& metric_catalogue() {
  static const std::vector<MetricInfo> kAll{
      {"simulated_ms", "ms", "simulated time the run took, chaos and heal"},
      {"trace_steps", "", "steps in the trace (messages, timers, disk and fault events)"},
      {"wall_us", "us", "wall-clock time of the run on this machine"},
      {"compression", "x", "simulated time per wall-clock time"},
      {"ops_invoked", "", "operations the clients began (commands and sagas)"},
      {"ops_ok", "", "operations that succeeded"},
      {"ops_fail", "", "operations that failed for certain (refused, conflicts, nothing written)"},
      {"ops_info", "",
       "operations whose outcome is unknown (timed out while appending, or refused by a busy or "
       "corrupt store)"},
      {"append_p50_us", "us",
       "median time from a client's first send of an append to its "
       "acknowledgement (simulated)"},
      {"append_p99_us", "us", "99th percentile of the same"},
      {"projection_lag_p50_us", "us",
       "median time from a client's decision to a projection applying its event (simulated)"},
      {"projection_lag_p99_us", "us", "99th percentile of the same"},
      {"redeliveries", "", "events a projection worker received again"},
      {"duplicates_suppressed", "", "redeliveries a worker's dedup skipped"},
      {"conflicts", "", "appends that lost an optimistic-concurrency race and were decided again"},
      {"retries", "", "requests a client sent again after a timeout"},
      {"faults.crash", "", "process crashes, fail-stops included"},
      {"faults.partition", "", "network partitions"},
      {"faults.clog", "", "links clogged"},
      {"faults.drop", "", "messages the network dropped"},
      {"faults.duplicate", "", "messages the network delivered twice"},
      {"faults.delay", "", "messages the network delayed"},
      {"faults.reorder", "", "messages given jitter that can reorder them"},
      {"faults.torn_write", "", "unsynced appends a crash tore"},
      {"faults.read_corruption", "", "disk reads that returned a flipped bit"},
      {"faults.sync_failure", "", "fsyncs that failed"},
  };
  return kAll;
}

const MetricInfo* metric_info(std::string_view name) {
  for (const MetricInfo& m : metric_catalogue()) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

SeedMetrics seed_metrics(const Cluster& c, const sim::RunCounters& counters, double wall_seconds) {
  SeedMetrics m;
  const sim::Micros simulated = c.sim->now();
  m["simulated_ms"] = static_cast<std::uint64_t>(simulated / 1000);
  m["trace_steps"] = c.sim->trace().steps();
  const double wall_us = std::max(wall_seconds * 1e6, 1.0);
  m["wall_us"] = static_cast<std::uint64_t>(wall_us);
  m["compression"] = static_cast<std::uint64_t>(static_cast<double>(simulated) / wall_us);
  std::uint64_t by_type[4] = {0, 0, 0, 0};
  for (const model::HistoryEntry& h : c.history.entries()) ++by_type[static_cast<int>(h.type)];
  m["ops_invoked"] = by_type[static_cast<int>(model::HistoryEntry::Type::kInvoke)];
  m["ops_ok"] = by_type[static_cast<int>(model::HistoryEntry::Type::kOk)];
  m["ops_fail"] = by_type[static_cast<int>(model::HistoryEntry::Type::kFail)];
  m["ops_info"] = by_type[static_cast<int>(model::HistoryEntry::Type::kInfo)];
  const auto quantiles = [&](std::string_view observed, std::string_view name) {
    const auto it = counters.observations.find(observed);
    if (it == counters.observations.end() || it->second.empty()) return;
    m[std::string(name) + "_p50_us"] = it->second.quantile(0.5);
    m[std::string(name) + "_p99_us"] = it->second.quantile(0.99);
  };
  quantiles("append_latency_us", "append");
  quantiles("projection_lag_us", "projection_lag");
  const auto counted = [&](std::string_view name) {
    const auto it = counters.counts.find(name);
    m[std::string(name)] = it == counters.counts.end() ? 0 : it->second;
  };
  for (const std::string_view name : {"redeliveries", "duplicates_suppressed", "conflicts",
                                      "retries", "faults.drop", "faults.torn_write"}) {
    counted(name);
  }
  const sim::Trace& t = c.sim->trace();
  m["faults.crash"] = t.count(sim::TraceKind::kCrash);
  m["faults.partition"] = t.count(sim::TraceKind::kPartition);
  m["faults.clog"] = t.count(sim::TraceKind::kClog);
  m["faults.duplicate"] = t.count(sim::TraceKind::kDuplicate);
  m["faults.delay"] = t.count(sim::TraceKind::kDelay);
  m["faults.reorder"] = t.count(sim::TraceKind::kReorder);
  m["faults.read_corruption"] = t.count(sim::TraceKind::kReadCorruption);
  m["faults.sync_failure"] = t.count(sim::TraceKind::kSyncFailure);
  return m;
}

void add_seed(SweepMetrics& sweep, const SeedMetrics& seed) {
  for (const auto& [name, value] : seed) {
    const auto it = sweep.find(name);
    if (it != sweep.end()) {
      it->second.add(value);
    } else {
      sweep[name].add(value);
    }
  }
}

}  // namespace essim::harness
