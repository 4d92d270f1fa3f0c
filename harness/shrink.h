#pragma once
// Shrinking a failing seed: from the decisions its run made (every planned
// fault, every message's fault, every piece of work), remove what the failure
// does not need, keeping a change only while the same property still fails:
// whole kinds of decision first, then delta debugging, then one at a time;
// then shorten the chaos phase and the delays. The result replays from a
// repro file without the original randomness (see write_repro).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "harness/cluster.h"
#include "harness/scenario.h"
#include "properties/properties.h"

namespace essim::harness {

struct ShrinkOptions {
  double max_seconds = 60;  // wall-clock bound; the best so far is kept when it passes
  // The property to keep failing. Empty: the scenario's expected violation
  // when it has one, else the first property the seed violates. Shrinking
  // never switches to another property. REQUIRES: a property of the domain.
  std::string property;
  // Called after every trial run: runs so far, decisions left.
  std::function<void(std::size_t runs, std::size_t decisions)> progress;
};

struct ShrinkResult {
  bool failing = false;                        // the seed violated a property at all
  bool property_failed = false;                // ... and `property` among them
  bool reproduced = false;                     // its decisions, as a script, fail `property`
  std::string property;                        // the property kept failing
  std::vector<std::string> violated;           // by the seed, in check order
  std::vector<std::string> violated_scripted;  // by the seed replayed from its decisions
  Decisions original;
  Decisions shrunk;
  std::uint64_t original_steps = 0;  // trace steps of the first and last runs
  std::uint64_t shrunk_steps = 0;
  std::size_t runs = 0;
  double seconds = 0;
  bool finished = true;                           // false: the time bound ended it
  std::vector<properties::Violation> violations;  // of the shrunk run
  std::uint64_t fingerprint = 0;                  // of the shrunk run
};

ShrinkResult shrink(const Scenario& scenario, std::uint64_t seed, const ShrinkOptions& options);

// The node names of a cluster built from `spec`, by id.
std::vector<std::string> node_names(const ClusterSpec& spec);

// A scenario file that replays `result.shrunk` for `seed`: the original
// scenario's keys, with a `repro:` section holding every remaining decision
// by node name, and `expect` set to the property that fails. Its header
// names `program`, the runner that replays it. An external domain's
// command runs where it ran: its `cwd` is rewritten relative to `output`,
// the file the repro is written to.
std::string write_repro(const Scenario& scenario, std::uint64_t seed, const ShrinkResult& result,
                        std::string_view program, const std::string& output);

}  // namespace essim::harness
