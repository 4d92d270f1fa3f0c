#pragma once
// Swarm testing (Groce et al., "Swarm Testing", ISSTA 2012): with `swarm:
// true`, each seed runs with its own mix of the scenario's faults. Every
// fault kind the scenario turns on is, for one seed, either off or on at a
// strength of 1/4, 1/2, 3/4 or all of what the file says: a probability is
// scaled by the strength, the time between crashes, partitions or clogs is
// divided by it (so they come more rarely), torn writes are on or off. A seed
// never sees a fault stronger than the file's. Some bugs need one fault kind
// often and the others quiet; a fixed mix rarely gives that.
//
// The draw comes from the seed's own "swarm" stream, so the same seed draws
// the same mix; reports and repro files record it, and a repro file replays
// the mix it records (not a new draw), so it survives a change to how mixes
// are drawn.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/cluster.h"
#include "harness/scenario_schema.h"

namespace essim::harness {

// The fault kinds a swarm draw turns on and off, by their names in `faults:`
// and in a repro's `swarm:` (whose key table this is).
inline constexpr auto& kSwarmKinds = schema::kReproSwarm;

struct SwarmKind {
  std::string kind;       // one of kSwarmKinds
  double strength = 1.0;  // 0: off; 1: as the scenario file says
  friend bool operator==(const SwarmKind&, const SwarmKind&) = default;
};

// One seed's mix: a strength for each kind the scenario turns on, in
// kSwarmKinds order. A kind it does not name runs as the file says.
struct SwarmDraw {
  std::vector<SwarmKind> kinds;
  friend bool operator==(const SwarmDraw&, const SwarmDraw&) = default;
};

// The kinds `spec` turns on, in kSwarmKinds order.
std::vector<std::string_view> swarm_kinds(const ClusterSpec& spec);

// The mix for `seed`: each kind of swarm_kinds(spec) off with probability 1/2,
// else at a strength of 1/4, 1/2, 3/4 or 1, each as likely.
SwarmDraw draw_swarm(const ClusterSpec& spec, std::uint64_t seed);

// `spec` with the mix applied. REQUIRES: every strength within [0, 1].
ClusterSpec apply_swarm(const ClusterSpec& spec, const SwarmDraw& draw);

// The mix as reports hold it, and in one line ("crashes 3/4, drop off").
std::vector<std::pair<std::string, double>> as_mix(const SwarmDraw& draw);
std::string describe(const SwarmDraw& draw);

}  // namespace essim::harness
