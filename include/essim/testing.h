#pragma once
// RapidCheck helpers for testing a domain in your own test suite (link
// essim::testing; the rest of essim does not need RapidCheck).
//
//   RC_GTEST_PROP(Loyalty, PointsHandlerIsIdempotent, ()) {
//     essim::testing::check_idempotent(domain, handler, essim::testing::Dedup::kNone);
//   }
//   RC_GTEST_PROP(Loyalty, KeepsEveryOracle, ()) { essim::testing::check_domain(domain); }
//
// check_idempotent is the property `essim fuzz` runs: histories the domain's
// own deciders produce, delivered with streams interleaved, events again, and
// redeliveries after a crash; the read model must equal one in-order
// application. A failure is shrunk by RapidCheck to a short history and
// schedule, printed with their payloads.

#include <cstddef>
#include <cstdint>
#include <vector>

#include <essim/domain.h>
#include <essim/event.h>

namespace essim::testing {

// How the projection worker treats redeliveries (a scenario's `dedup`).
enum class Dedup : std::uint8_t {
  kNone,              // every delivery reaches the handler: it must be idempotent alone
  kEventId,           // an event id seen before is skipped
  kAtomicCheckpoint,  // at or below the stream's checkpoint is skipped
};

// A RapidCheck property body: call it inside RC_GTEST_PROP or rc::check.
// `works_max`: a history has 1 to works_max pieces of work (at most 10,000).
void check_idempotent(const Domain& domain, const ProjectionHandler& handler, Dedup dedup,
                      std::size_t works_max = 30);

// A RapidCheck property body: the property `essim fuzz DOMAIN` runs. Command
// sequences of 1 to works_max pieces of work drawn by the domain's mix and
// generators, decided in order, and held to its rules, its decision model,
// its handlers' reference projections and declarations, snapshots taken
// after every event, evolve's determinism and its old writers. A failure
// shrinks to the fewest pieces of work.
void check_domain(const Domain& domain, std::size_t works_max = 30);

// `works` pieces of work drawn from `seed` by the domain's mix and decided in
// order, as the fuzzer draws them: every event has its stream, version,
// position and id. A longer history starts with a shorter one from the same
// seed. Throws std::invalid_argument when the domain's mix has no positive weight.
std::vector<Event> decided_history(const Domain& domain, std::uint64_t seed, std::size_t works);

// `handler` applied to `history` once, in order: what a clean replay gives.
ReadModel apply_in_order(const Domain& domain, const ProjectionHandler& handler,
                         const std::vector<Event>& history);

}  // namespace essim::testing
