#pragma once
// The domain API (public: include/essim/domain.h), named in the model, and
// what the model does with a domain: upcasting, clean replays.

#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <essim/domain.h>

#include "model/bugs.h"
#include "model/event.h"
#include "model/messages.h"
#include "sim/result.h"
#include "sim/rng.h"

namespace essim::model {

using essim::AggregateState;
using essim::BadPayload;
using essim::Command;
using essim::DecisionModel;
using essim::Domain;
using essim::HandlerFn;
using essim::Invariant;
using essim::kSagaStepsMax;
using essim::LogInvariant;
using essim::NewEvent;
using essim::OldWriter;
using essim::PersonalData;
using essim::ProjectionHandler;
using essim::ReadModelInvariant;
using essim::ReferenceFn;
using essim::Registry;
using essim::Saga;
using essim::SagaStep;
using essim::StepOutcome;
using essim::Work;
using essim::WorkWeight;

// A built-in domain whose upcasters have a bug variant (upcaster-drops-
// default). Bug variants are essim's own demonstrations: user domains never
// see them.
class UpcastBugs {
 public:
  virtual ~UpcastBugs() = default;
  virtual void upcast_with_bugs(Event& event, const Bugs& bugs) const = 0;
};

// `event` at its latest schema: the event itself when it is there already,
// else an upcast copy made in `scratch`.
const Event& latest(const Domain& domain, const Event& event, const Bugs& bugs, Event& scratch);
// The same, as a copy.
Event upcasted(const Domain& domain, Event event, const Bugs& bugs = {});
// The same, in place: no copy for a caller that owns the event (a replay
// decoding the log into one Event).
void upcast_in_place(const Domain& domain, Event& event, const Bugs& bugs = {});

// A kind of work drawn from `mix` by weight (one draw from `rng`), or
// nullptr, drawing nothing, when no weight is positive.
const WorkWeight* draw_weighted(const std::vector<WorkWeight>& mix, sim::Rng& rng);

// Whether `domain` declares `type` (or declares no types at all).
bool knows_event(const Domain& domain, std::string_view type);
// The same, with the domain's event types asked once (for what asks per
// event: Domain::event_types() builds a list of strings at every call).
class KnownEvents {
 public:
  KnownEvents() = default;  // knows every type
  explicit KnownEvents(const Domain& domain) : types_(domain.event_types()) {}
  bool knows(std::string_view type) const {
    return types_.empty() || std::find(types_.begin(), types_.end(), type) != types_.end();
  }

 private:
  std::vector<std::string> types_;  // empty: every type
};

// Exhaustiveness: the event types one consumer (a handler, or evolve)
// declares it handles and ignores on purpose. Both empty: not declared.
struct EventCoverage {
  std::string consumer;  // "bank.balances", "bank.evolve"
  std::vector<std::string> handles;
  std::vector<std::string> ignores;
  bool declared() const { return !handles.empty() || !ignores.empty(); }
  // Whether `type` is handled or ignored. REQUIRES: declared().
  bool covers(std::string_view type) const;
};
// The declared consumers of `domain`: evolve, then each of `handlers`.
std::vector<EventCoverage> declared_coverage(const Domain& domain,
                                             const std::vector<ProjectionHandler>& handlers);
// What is questionable in `coverage` against the types `domain` emits.
std::vector<std::string> coverage_warnings(const Domain& domain,
                                           const std::vector<EventCoverage>& coverage);

// Folds a stream's events into a state: the clean replay every checker uses.
std::unique_ptr<AggregateState> replay(const Domain& domain, const std::vector<Event>& events,
                                       const Bugs& bugs = {});

}  // namespace essim::model
