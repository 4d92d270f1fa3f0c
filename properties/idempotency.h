#pragma once
// Fuzzing a projection handler's idempotency.
//
// A history the domain's own deciders produce (valid commands decided on the
// aggregates' real states, so every event is one the domain can emit) is
// delivered to the handler on a random schedule: streams interleaved in any
// order (each stream's own order kept), events delivered again later, and
// redeliveries after a simulated crash. The read model must equal one
// in-order application of the history. Under a dedup strategy the redeliveries
// go through it, as in a projection worker.
//
// check_idempotent() is a RapidCheck property body: call it from
// RC_GTEST_PROP or rc::check. A failure shrinks to a short history and
// schedule, and RapidCheck prints the string that reproduces it.

#include <cstdint>
#include <string>
#include <vector>

#include "model/domain.h"
#include "model/projection.h"

namespace essim::properties {

// `works` pieces of work drawn from `seed`, decided in order; every event has
// its stream, version, position and id. A longer history starts with a
// shorter one from the same seed, so shrinking the count shrinks the history.
std::vector<model::Event> decided_history(const model::Domain& domain, std::uint64_t seed,
                                          std::size_t works);

// The read model of applying `history` once, in order.
model::ReadModel apply_in_order(const model::Domain& domain,
                                const model::ProjectionHandler& handler,
                                const std::vector<model::Event>& history);

void check_idempotent(const model::Domain& domain, const model::ProjectionHandler& handler,
                      model::Dedup dedup);

}  // namespace essim::properties
