#pragma once
// Coverage probes: named rare paths a run went through, counted (in the
// manner of FoundationDB's CODE_PROBE) so that a sweep can say what it
// exercised. Counting a probe changes nothing in the run: probes are outside
// the trace, the fingerprint and every random stream.
//
// A run's hits are counted on the thread that runs it, into the ProbeHits a
// ProbeScope installs for the run's duration; a probe outside any scope (a
// unit test, a checker) is ignored.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>

namespace essim::sim {

using ProbeHits = std::map<std::string, std::uint64_t, std::less<>>;

// The simulator's own probe: a message lost to a network partition.
inline constexpr std::string_view kProbePartitionDropped = "net.partition-dropped";

// Counts one hit of `name` in the run under way on this thread.
void probe(std::string_view name);

class ProbeScope {
 public:
  explicit ProbeScope(ProbeHits& hits);
  ~ProbeScope();
  ProbeScope(const ProbeScope&) = delete;
  ProbeScope& operator=(const ProbeScope&) = delete;

 private:
  ProbeHits* previous_;
};

}  // namespace essim::sim
