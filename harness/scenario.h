#pragma once
// Scenario files: YAML describing a cluster, its workload, its faults, the
// properties to check and what the run must show. scenarios/README.md
// documents every key; scenarios/schema.json is the same schema for editors.
//
// Loading is strict: an unknown key (with the nearest valid one), a wrong
// type, an out-of-range value or an unknown name is an error that names the
// file, line and column. Empty, binary, truncated or enormous files get a
// clear error too.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "harness/cluster.h"
#include "harness/swarm.h"
#include "model/domain.h"
#include "sim/result.h"

namespace essim::harness {

struct Expectation {
  bool pass = true;                // every seed passes every property
  std::string violation;           // else: this property must be violated...
  std::uint64_t within_seeds = 0;  // ...by one of the first N seeds
  // A passing sweep must also have reached each of these coverage probes
  // (`require_probes:`; only with pass).
  std::vector<std::string> required_probes;
};

struct Scenario {
  const model::Registry* registry = nullptr;  // the one it was loaded against
  // With an `external:` key: the registry holding the external domain (and
  // extending the caller's), which `registry` points to.
  std::shared_ptr<const model::Registry> external;
  std::string file;  // as given on the command line
  std::string name;
  std::string description;
  std::uint64_t seeds = 100;  // default sweep size
  ClusterSpec spec;
  std::vector<std::string> properties;  // empty: every property of the domain
  Expectation expect;
  // A repro file (written by 'essim shrink'): the one seed it replays; its
  // decisions are in spec.script.
  std::optional<std::uint64_t> repro_seed;
  // `swarm: true`: each seed draws its own mix of the faults (harness/swarm.h).
  bool swarm = false;
  // A repro file's recorded mix (`repro.swarm`), used instead of a new draw.
  std::optional<SwarmDraw> swarm_draw;
  // The text it was loaded from, so that nothing needs to read the file again
  // (it may have changed, or be a pipe).
  std::string source;
};

// Limits (scenarios/README.md, "Limits").
inline constexpr std::size_t kScenarioBytesMax = 1U << 20;
inline constexpr std::uint64_t kSeedsMax = 1'000'000;  // seeds:, expect.within_seeds

// Parses `text` as the scenario file `file`. Errors read "file:line:column: what"
// (line and column from 1). A scenario it returns builds: check_spec passes.
sim::Result<Scenario> parse_scenario(std::string_view text, const std::string& file,
                                     const model::Registry& registry);
// Reads `file`, a regular file of at most kScenarioBytesMax bytes (a FIFO,
// directory or device is refused without blocking), and parses it.
// The bytes of the regular file `file`: at most max_bytes + 1 of them, so a
// caller can tell a file that is too large. A FIFO, device, socket or folder
// is refused at once, never read (it could block forever); `what` says what
// the file should have been ("a scenario file; give a .yaml file").
sim::Result<std::string> read_regular_file(const std::string& file, std::size_t max_bytes,
                                           std::string_view what);
sim::Result<Scenario> load_scenario(const std::string& file, const model::Registry& registry);

// The fault mix `seed` runs with: a repro's recorded one, a fresh draw with
// `swarm: true`, nullopt otherwise.
std::optional<SwarmDraw> seed_swarm(const Scenario& scenario, std::uint64_t seed);
// The cluster `seed` of `scenario` runs: its spec with the seed's mix applied.
ClusterSpec seed_spec(const Scenario& scenario, std::uint64_t seed);

// The nearest of `candidates` to `word` (edit distance at most 3), or "".
std::string nearest(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace essim::harness
