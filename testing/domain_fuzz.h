#pragma once
// Fuzzing a whole domain (`essim fuzz DOMAIN`): command sequences drawn by
// the domain's own generators and decided in order, as clients would, then
// held to every oracle that needs no cluster:
//
//   user_code_does_not_throw  nothing the domain runs throws
//   handlers_exhaustive       each event reaches only consumers that handle or ignore its type
//   decisions_match_model     every decision is the one the decision model makes
//   <the domain's rules>      per aggregate after every event, over the log, on read models
//   replay_matches_projection each handler's read model equals its reference projection
//   evolve_deterministic      replaying a stream again gives the same state
//   snapshot_equivalence      a snapshot taken after any event decodes to the same state,
//                             decides the same, and evolving on from it ends the same
//   upcast_equivalence        the history written by the old writers and upcast gives the
//                             same states, decisions and read models
//
// A failure shrinks to the shortest sequence of work RapidCheck finds, each
// piece drawn from its own seed, so dropping one leaves the others as they were.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/domain.h"
#include "testing/search.h"

namespace essim::fuzzing {

struct DomainSettings {
  std::size_t works_max = 30;          // a sequence has 1 to works_max pieces of work
  std::vector<model::WorkWeight> mix;  // how often each kind is drawn; empty: the domain's mix()
};

// A sequence the domain got wrong. Every line is ready to print.
struct DomainCounterexample {
  std::string property;               // the oracle that caught it
  std::string verdict;                // "bank: decisions_match_model: acct-1: ..."
  std::vector<std::string> evidence;  // the states, events or differences involved
  std::size_t works = 0;
  std::vector<std::string> decisions;  // in order, each with the events it appended
};
// The verdict, the evidence, then the decisions under a heading.
std::string describe(const DomainCounterexample& counterexample);

struct DomainTally {
  std::uint64_t events = 0;  // every event decided, shrinking's included
  std::optional<DomainCounterexample> failure;
};

// The property body (RC_GTEST_PROP or rc::check). `tally`, when given,
// counts across calls.
// REQUIRES: settings.works_max from 1 to kWorksMaxLimit; the mix (or the
// domain's) has a positive weight.
void check_domain(const model::Domain& domain, const DomainSettings& settings,
                  DomainTally* tally = nullptr);

struct DomainOutcome {
  Verdict kind = Verdict::kPassed;
  std::optional<DomainCounterexample> counterexample;  // when kFailed
  std::string reproduce;
  std::string message;
  FuzzStats stats;  // deliveries: the events decided
};

// One search, as `essim fuzz DOMAIN` runs it. A reproduce string is bound to
// the domain and the settings. An exception of essim's own is thrown on.
// REQUIRES: as check_domain; run.runs >= 1.
DomainOutcome fuzz_domain(const model::Domain& domain, const DomainSettings& settings,
                          const FuzzRun& run);

}  // namespace essim::fuzzing
