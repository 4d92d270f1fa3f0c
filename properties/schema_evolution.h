#pragma once
// The upcasters' oracle, independent of the upcasters themselves: the same
// decided history written two ways, as the latest writer wrote it and by an
// older writer (Domain::old_writers) read back through the upcasters. Both
// must give the same aggregate state after every event, the same decision
// for every command decided along the way and the same read model from
// every handler. `upcast_equivalence` runs it over a run's store and
// `essim fuzz DOMAIN` over generated histories.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/domain.h"

namespace essim::properties {

// The commands decided on each stream, by the stream version they were
// decided on (the events they appended, if any, follow that version).
using DecisionsByStream = std::map<std::string, std::multimap<std::uint64_t, const Command*>>;

struct SchemaDifference {
  std::string summary;                    // what differs, and where
  std::vector<std::string> evidence;      // a few lines: the event, the two sides
  std::optional<std::uint64_t> position;  // the event it shows at, when one
};

// Whether two decisions are the same: both refused for the same reason, or
// both accepted with the same events, byte for byte.
bool same_decision(const Result<std::vector<NewEvent>>& a, const Result<std::vector<NewEvent>>& b);

// The first difference between `log` (every event at its latest schema, in
// position order) and the same log written by each old writer in turn, each
// upcast by the domain's upcasters (with `bugs`, essim's own variants), or
// nullopt. A domain without old writers has none. User code that throws
// (a writer, an upcaster, evolve, decide, a handler) throws UserCodeError.
std::optional<SchemaDifference> schema_evolution_difference(
    const model::Domain& domain, const std::vector<model::Event>& log,
    const std::vector<model::ProjectionHandler>& handlers, const DecisionsByStream& decisions,
    const model::Bugs& bugs = {});

}  // namespace essim::properties
