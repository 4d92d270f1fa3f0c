#pragma once
// What a run counts about itself, outside the trace, the fingerprint and
// every random stream, so that counting changes nothing in the run:
//   probes        named rare paths it went through (in the manner of
//                 FoundationDB's CODE_PROBE), so a sweep can say what it
//                 exercised and a scenario can require them;
//   counts        how often something ordinary happened (a redelivery, a
//                 retry), for the run's metrics;
//   observations  values whose distribution matters (an append's latency, a
//                 projection's lag), as histograms.
//
// They are kept on the thread that runs the simulation, in the RunCounters
// a RunScope installs for the run's duration; outside one (a unit test, a
// checker) they are ignored.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

#include "sim/histogram.h"

namespace essim::sim {

using ProbeHits = std::map<std::string, std::uint64_t, std::less<>>;

struct RunCounters {
  ProbeHits probes;
  std::map<std::string, std::uint64_t, std::less<>> counts;
  std::map<std::string, Histogram, std::less<>> observations;
};

// The simulator's own probe: a message lost to a network partition.
inline constexpr std::string_view kProbePartitionDropped = "net.partition-dropped";

// One hit of the probe `name` in the run under way on this thread.
void probe(std::string_view name);
// Adds `n` to the count `name`.
void count(std::string_view name, std::uint64_t n = 1);
// Adds `value` to the histogram `name`.
void observe(std::string_view name, std::uint64_t value);

class RunScope {
 public:
  explicit RunScope(RunCounters& counters);
  ~RunScope();
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

 private:
  RunCounters* previous_;
};

}  // namespace essim::sim
