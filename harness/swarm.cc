#include "harness/swarm.h"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "reports/report.h"
#include "sim/assert.h"
#include "sim/rng.h"

namespace essim::harness {

namespace {

bool is_on(const ClusterSpec& spec, std::string_view kind) {
  const sim::NetworkFaults& n = spec.sim.network;
  const sim::DiskFaults& d = spec.sim.disk;
  if (kind == "crashes") return spec.crashes;
  if (kind == "partitions") return spec.partitions;
  if (kind == "clogs") return spec.clogs;
  if (kind == "drop") return n.drop > 0.0;
  if (kind == "duplicate") return n.duplicate > 0.0;
  if (kind == "delay") return n.delay > 0.0;
  if (kind == "reorder") return n.reorder > 0.0;
  if (kind == "torn_writes") return d.torn_writes;
  if (kind == "read_corruption") return d.read_corruption > 0.0;
  ESSIM_ASSERT_MSG(kind == "sync_failures", "not a swarm kind");
  return d.sync_failures > 0.0;
}

// Faults `strength` times as often: the time between them divided by it,
// and never past the longest chaos phase (a fault that rare never fires).
sim::Micros rarer(sim::Micros every_us, double strength) {
  const double scaled = static_cast<double>(every_us) / strength;
  const auto bound = static_cast<double>(sim::kChaosMax + 1);
  return scaled >= bound ? sim::kChaosMax + 1 : static_cast<sim::Micros>(std::llround(scaled));
}

void weaken(sim::DurationRange& every, double strength) {
  every = {std::max<sim::Micros>(1, rarer(every.min_us, strength)),
           std::max<sim::Micros>(1, rarer(every.max_us, strength))};
}

void apply(ClusterSpec& spec, std::string_view kind, double strength) {
  ESSIM_ASSERT_MSG(strength >= 0.0 && strength <= 1.0, "a swarm strength is within [0, 1]");
  sim::NetworkFaults& n = spec.sim.network;
  sim::DiskFaults& d = spec.sim.disk;
  const bool on = strength > 0.0;
  if (kind == "crashes") {
    spec.crashes = spec.crashes && on;
    if (on) weaken(spec.crash_every, strength);
  } else if (kind == "partitions") {
    spec.partitions = spec.partitions && on;
    if (on) weaken(spec.partition_every, strength);
  } else if (kind == "clogs") {
    spec.clogs = spec.clogs && on;
    if (on) weaken(spec.clog_every, strength);
  } else if (kind == "drop") {
    n.drop *= strength;
  } else if (kind == "duplicate") {
    n.duplicate *= strength;
  } else if (kind == "delay") {
    n.delay *= strength;
  } else if (kind == "reorder") {
    n.reorder *= strength;
  } else if (kind == "torn_writes") {
    d.torn_writes = d.torn_writes && on;
  } else if (kind == "read_corruption") {
    d.read_corruption *= strength;
  } else {
    ESSIM_ASSERT_MSG(kind == "sync_failures", "not a swarm kind");
    d.sync_failures *= strength;
  }
}

}  // namespace

std::vector<std::string_view> swarm_kinds(const ClusterSpec& spec) {
  std::vector<std::string_view> on;
  for (const schema::Key& kind : kSwarmKinds) {
    if (is_on(spec, kind.name)) on.push_back(kind.name);
  }
  return on;
}

SwarmDraw draw_swarm(const ClusterSpec& spec, std::uint64_t seed) {
  sim::Rng rng = sim::Rng(seed).split("swarm");
  SwarmDraw draw;
  // One draw per kind of kSwarmKinds, on or not, so that turning a kind on in
  // the file leaves the others' draws alone.
  for (const schema::Key& kind : kSwarmKinds) {
    const std::uint64_t level = rng.below(8);  // 0-3 off, 4-7 a quarter more each
    if (!is_on(spec, kind.name)) continue;
    double strength = level < 4 ? 0.0 : static_cast<double>(level - 3) / 4.0;
    if (kind.name == "torn_writes" && strength > 0.0) strength = 1.0;  // on or off
    draw.kinds.push_back({std::string(kind.name), strength});
  }
  return draw;
}

ClusterSpec apply_swarm(const ClusterSpec& spec, const SwarmDraw& draw) {
  ClusterSpec out = spec;
  for (const SwarmKind& k : draw.kinds) apply(out, k.kind, k.strength);
  return out;
}

std::vector<std::pair<std::string, double>> as_mix(const SwarmDraw& draw) {
  std::vector<std::pair<std::string, double>> mix;
  for (const SwarmKind& k : draw.kinds) mix.emplace_back(k.kind, k.strength);
  return mix;
}

std::string describe(const SwarmDraw& draw) {
  return reports::describe_mix(as_mix(draw));
}

}  // namespace essim::harness
