#pragma once
// Fuzzing a projection handler's idempotency.
//
// A history the domain's own deciders produce (valid commands decided on the
// aggregates' real states, so every event is one the domain can emit) is
// delivered to the handler on a random schedule: streams interleaved in any
// order (each stream's own order kept), events delivered again later, and
// redeliveries after a simulated crash. The read model must equal one
// in-order application of the history. Under a dedup strategy the redeliveries
// go through it, as in a projection worker. When the handler names a
// reference projection, one in-order application must also equal the
// reference's read model.
//
// check_idempotent() is a RapidCheck property body: call it from
// RC_GTEST_PROP or rc::check. A failure shrinks to a short history and
// schedule. fuzz() runs the whole search and shrink itself and returns the
// outcome as a value, for `essim fuzz`: the counterexample, the statistics and
// the string that reproduces it, with nothing of RapidCheck's own output.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/domain.h"
#include "model/projection.h"
#include "testing/fuzz_case.h"
#include "testing/search.h"

namespace essim::fuzzing {

// What a fuzzed case is drawn from and delivered through.
struct FuzzSettings {
  model::Dedup dedup = model::Dedup::kNone;
  std::size_t works_max = 30;          // a history has 1 to works_max pieces of work
  std::vector<model::WorkWeight> mix;  // how often each kind is drawn; empty: the domain's mix()
};

// `works` pieces of work drawn from `seed` by `mix` (empty: the domain's
// mix()), decided in order, each from a seed of its own as a fuzzed case's
// works are; every event has its stream, version, position and id. A longer
// history starts with a shorter one from the same seed.
// REQUIRES: the mix has a positive weight.
std::vector<model::Event> decided_history(const model::Domain& domain, std::uint64_t seed,
                                          std::size_t works,
                                          const std::vector<model::WorkWeight>& mix = {});

// The read model of applying `history` once, in order.
model::ReadModel apply_in_order(const model::Domain& domain,
                                const model::ProjectionHandler& handler,
                                const std::vector<model::Event>& history);

// The read model of the handler's reference projection over `history`
// (upcast, in order). REQUIRES: handler.reference is set.
model::ReadModel apply_reference(const model::Domain& domain,
                                 const model::ProjectionHandler& handler,
                                 const std::vector<model::Event>& history);

// A case the handler got wrong: the read model differs from one in-order
// application, one in-order application differs from the handler's reference
// projection (when it names one), or user code threw. Every line is ready to
// print.
struct Counterexample {
  std::string verdict;                  // "bank.balances with dedup none: the read model ..."
  std::size_t works = 0;                // the pieces of work the history was decided from
  std::vector<std::string> history;     // the events in order, with their payloads
  std::vector<std::string> schedule;    // one line per delivery, with its payload
  std::vector<std::string> difference;  // per key: once in order vs this schedule
  // The difference is the reference's vs once in order (the schedule is beside the point).
  bool against_reference = false;
};
// The verdict, then the history, the schedule and the difference under headings.
std::string describe(const Counterexample& counterexample);

// Counts over the cases one check ran, for a caller's statistics.
struct FuzzTally {
  std::uint64_t deliveries = 0;  // every delivery of every case, shrinking's included
  // The latest failing case. RapidCheck runs the shrunk case last, so after a
  // check it is the counterexample RapidCheck reports.
  std::optional<Counterexample> failure;
};

// Checks one case as the property does, outside RapidCheck: its
// counterexample, or nullopt when it passes or has no event.
// REQUIRES: as check_idempotent.
std::optional<Counterexample> check_case(const model::Domain& domain,
                                         const model::ProjectionHandler& handler,
                                         const FuzzSettings& settings, const FuzzCase& c);

// The property body. `tally`, when given, counts across calls.
// REQUIRES: settings.works_max from 1 to kWorksMaxLimit; the mix (or the
// domain's) has a positive weight.
void check_idempotent(const model::Domain& domain, const model::ProjectionHandler& handler,
                      const FuzzSettings& settings, FuzzTally* tally = nullptr);
void check_idempotent(const model::Domain& domain, const model::ProjectionHandler& handler,
                      model::Dedup dedup);

struct FuzzOutcome {
  using Kind = Verdict;  // kFailed: counterexample is set; kGaveUp: cases without an event
  Kind kind = Kind::kPassed;
  std::optional<Counterexample> counterexample;
  std::string reproduce;  // "reproduce=..." for RC_PARAMS, when failed
  std::string message;    // why, for the last three kinds
  FuzzStats stats;
};

// A reproduce string is bound to the handler and the settings: one recorded
// for others is refused (kBadParams). An exception that is not from user code
// (essim's own) is thrown on.
// REQUIRES: as check_idempotent; run.runs >= 1.
FuzzOutcome fuzz(const model::Domain& domain, const model::ProjectionHandler& handler,
                 const FuzzSettings& settings, const FuzzRun& run);

}  // namespace essim::fuzzing
