#pragma once
// The verdict: did a scenario meet its expectation? Decided here and nowhere
// else. The runner judges a sweep, merge judges the sum of its shards, and the
// console, report.json, junit.xml and summary.md only render what judge()
// returned.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "harness/scenario.h"

namespace essim::harness {

// How one property fared over a sweep.
enum class PropertyStatus {
  kHeld,          // no seed violated it
  kViolated,      // a seed violated it, and the scenario expected a pass
  kCaught,        // the scenario expected this violation, and a seed showed it
  kMissed,        // the scenario expected this violation; no seed showed it
  kAlsoViolated,  // a bug scenario: violated besides the expected property
};
std::string_view to_string(PropertyStatus status);
std::optional<PropertyStatus> property_status_by_name(std::string_view name);

// What a sweep showed, before it is judged. Shards add up (see add()).
struct Tally {
  std::uint64_t seeds_run = 0;
  std::uint64_t seeds_failed = 0;  // seeds with any violation
  // The lowest seed that violated the expected property; none: not caught.
  // (Seed 0 is a seed like any other.)
  std::optional<std::uint64_t> caught_at_seed;
  std::map<std::string, std::uint64_t> violated;  // property -> seeds violating it
  // Coverage probes (sim/probe.h) reached, with their hits and the lowest
  // seed that reached each.
  struct Probe {
    std::uint64_t hits = 0;
    std::uint64_t first_seed = 0;
    friend bool operator==(const Probe&, const Probe&) = default;
  };
  std::map<std::string, Probe> probes;

  // Adds another shard's tally of the same sweep.
  void add(const Tally& other);
};

struct PropertyVerdict {
  std::string property;
  PropertyStatus status = PropertyStatus::kHeld;
  std::uint64_t seeds = 0;  // seeds that violated it
};

struct Verdict {
  bool met = false;
  // Every checked property in the order given, then any other that was
  // violated (a property can fail without being listed, e.g. a run that
  // could not be built).
  std::vector<PropertyVerdict> properties;
  // The required probes no seed reached (the sweep then did not meet its
  // expectation, whatever the properties say).
  std::vector<std::string> missing_probes;
};

// REQUIRES: for an expected violation, `tally.caught_at_seed` is set exactly
// when the expected property appears in `tally.violated`.
Verdict judge(const Expectation& expect, const std::vector<std::string>& checked,
              const Tally& tally);

// The properties a run of `scenario` checks: its `properties`, or every
// property of its domain.
std::vector<std::string> checked_properties(const Scenario& scenario);

// How many seeds a sweep of `scenario` runs when the command line names no
// count: its `seeds` when it must pass, its `within_seeds` when it expects a
// violation.
std::uint64_t default_seed_count(const Scenario& scenario);

}  // namespace essim::harness
