#pragma once
// One RapidCheck search as essim's fuzzers run it: a property body run for
// a number of cases from a seed, the first failure shrunk, and the outcome
// returned as a value (never RapidCheck's own printing), with a reproduce
// string bound to the property's settings.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>

namespace essim::fuzzing {

// The largest works_max: a case's cost grows with it, and shrinking with its square.
inline constexpr std::size_t kWorksMaxLimit = 10'000;

struct FuzzStats {
  std::uint64_t runs = 0;       // cases of the search, the failing one included
  std::uint64_t discarded = 0;  // cases with nothing to check, replaced by others
  std::uint64_t shrinks_tried = 0;
  std::uint64_t shrinks_taken = 0;  // each a smaller case that still fails
  std::uint64_t deliveries = 0;     // every delivery (or event decided), shrinking's included
  // Wall-clock time of the tool (fuzzing runs outside any simulation); it
  // changes nothing that is generated.
  double seconds = 0;
  double seconds_to_find = 0;    // until the first failing case
  double seconds_to_shrink = 0;  // from there to the end
};

// One search, as `essim fuzz` runs it.
struct FuzzRun {
  std::uint64_t seed = 0;  // RapidCheck's seed: the same seed, the same cases
  int runs = 1'000;        // cases that must pass
  // RapidCheck's parameter string (the RC_PARAMS variable) or empty. Only its
  // `reproduce=` is used: it runs the one shrunk case it names instead of a search.
  std::string rc_params;
  // Told the counts so far after every case and every shrink tried, and
  // whether the search found a failing case and is shrinking it: for a
  // progress line (it changes nothing that is generated). Optional.
  std::function<void(const FuzzStats& so_far, bool shrinking)> progress{};
};

enum class Verdict {
  kPassed,         // `runs` cases passed
  kFailed,         // a counterexample was found and shrunk; reproduce is set
  kGaveUp,         // too many cases had nothing to check
  kNotReproduced,  // the reproduce= case passes now (fixed?)
  kBadParams,      // rc_params cannot be read, or its reproduce= is for other settings
};

struct SearchOutcome {
  Verdict verdict = Verdict::kPassed;
  std::string reproduce;  // "reproduce=..." for RC_PARAMS, when failed
  std::string message;    // why, for the last three verdicts
  FuzzStats stats;        // all but deliveries, which the body counts
};

// What one case gave, when the body says so by value: throwing RapidCheck's
// CaseResult (which it may do too) costs more than checking a small case.
enum class CaseVerdict : std::uint8_t { kPassed, kFailed, kDiscarded };

// Runs `body` as the RapidCheck property `id` (the reproduce string is
// bound to it). `recorded` says whether the body kept a counterexample: a
// failure without one is an exception of essim's own, thrown on.
// `gave_up` says what discarded cases lacked.
SearchOutcome search(const std::string& id, const FuzzRun& run,
                     const std::function<CaseVerdict()>& body,
                     const std::function<bool()>& recorded, const std::string& gave_up);

}  // namespace essim::fuzzing
