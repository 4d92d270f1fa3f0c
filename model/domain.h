#pragma once
// The decider shape every domain follows, and the Registry that holds domains
// and projection handlers. The built-in domains register through this same
// public API a user of essim uses for their own.
//
//   decide(state, command) -> events or an error
//   evolve(state, event)   -> state (in place)
//
// Events reach evolve() and the handlers already upcast to their latest schema.

#include <functional>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

#include "model/bugs.h"
#include "model/event.h"
#include "model/messages.h"
#include "sim/result.h"
#include "sim/rng.h"

namespace essim::model {

struct Command {
  std::string kind;    // e.g. "deposit"
  std::string stream;  // the aggregate it addresses
  Bytes payload;       // the domain's own encoding
};

struct NewEvent {
  std::string type;
  std::uint32_t schema_version = 1;
  Bytes payload;
};

// A process spanning aggregates: steps run in order; when one fails for good
// (or, unless a bug says otherwise, times out), the compensations of the steps
// already done run in reverse order.
struct SagaStep {
  Command action;
  std::optional<Command> compensation;
};
struct Saga {
  std::string id;
  std::vector<SagaStep> steps;
};

using Work = std::variant<Command, Saga>;

// How often clients draw a kind of work, relative to the others.
struct WorkWeight {
  std::string kind;
  std::uint32_t weight = 1;
};

// One aggregate's state. Domains derive their own.
class AggregateState {
 public:
  virtual ~AggregateState() = default;
  virtual std::unique_ptr<AggregateState> clone() const = 0;
  virtual void encode(Bytes& out) const = 0;
  virtual bool equals(const AggregateState& other) const = 0;
  virtual std::string describe() const = 0;
};

// What a domain's evolve, upcast or handler throws for an event payload it
// cannot decode. Reading such bytes as zeros would hide the bug; the throw is
// reported like any exception from user code (model/user_code.h).
class BadPayload : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

using HandlerFn = std::function<void(ReadModel& model, const Event& event)>;

// A rule of the domain that must hold of an aggregate after every one of its
// events (no overdraft, no overselling). Each is a property scenario files
// can name.
struct Invariant {
  std::string name;  // the property's name, e.g. "points_never_negative"
  std::string description;
  std::string stream_prefix;  // the aggregates it is about ("": every stream)
  std::function<bool(const AggregateState& state)> holds;
};

struct ProjectionHandler {
  std::string name;  // registered as "<domain>.<name>"
  std::string description;
  HandlerFn apply;
};

class Domain {
 public:
  virtual ~Domain() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const = 0;

  // The workload: the kinds of work a client can draw, and one drawn.
  virtual std::vector<std::string> work_kinds() const = 0;
  virtual Work generate(std::string_view kind, sim::Rng& rng) const = 0;
  // The workload's default mix when a scenario gives none: every kind alike.
  virtual std::vector<WorkWeight> mix() const;

  virtual std::unique_ptr<AggregateState> initial() const = 0;
  virtual void evolve(AggregateState& state, const Event& event) const = 0;
  virtual sim::Result<std::vector<NewEvent>> decide(const AggregateState& state,
                                                    const Command& command) const = 0;
  virtual sim::Result<std::unique_ptr<AggregateState>> decode_state(ByteView bytes) const = 0;

  // Whether `event` is older than its type's latest schema.
  virtual bool needs_upcast(const Event& /*event*/) const { return false; }
  // Brings `event` to its latest schema, in place. REQUIRES: needs_upcast(event).
  virtual void upcast(Event& /*event*/, const Bugs& /*bugs*/) const {}
  virtual std::vector<ProjectionHandler> projections() const = 0;
  virtual std::vector<Invariant> invariants() const { return {}; }
  // Every event type the domain writes. Events of other types are reported
  // where they are read (a newer writer, a wrong stream) and then skipped.
  // Empty: not declared, nothing is reported.
  virtual std::vector<std::string> event_types() const { return {}; }
  // A short human reading of an event's payload, for evidence.
  virtual std::string describe_payload(const Event& event) const = 0;
};

class Registry {
 public:
  // The registry with essim's built-in domains (bank, inventory).
  static const Registry& builtin();
  // A new registry holding the built-in domains, to add one's own to.
  static Registry with_builtins();

  void add(std::unique_ptr<Domain> domain);
  const Domain* domain(std::string_view name) const;
  // "bank.balances" -> its domain and handler, or nullptr.
  struct Found {
    const Domain* domain;
    const ProjectionHandler* handler;
  };
  std::optional<Found> handler(std::string_view qualified_name) const;

  std::vector<std::string> domain_names() const;
  std::vector<std::string> handler_names() const;

 private:
  struct Entry {
    std::unique_ptr<Domain> domain;
    std::vector<ProjectionHandler> handlers;
  };
  std::map<std::string, Entry, std::less<>> domains_;
};

// `event` at its latest schema: the event itself when it is there already,
// else an upcast copy made in `scratch`.
const Event& latest(const Domain& domain, const Event& event, const Bugs& bugs, Event& scratch);
// The same, as a copy.
Event upcasted(const Domain& domain, Event event, const Bugs& bugs = {});

// Whether `domain` declares `type` (or declares no types at all).
bool knows_event(const Domain& domain, std::string_view type);

// Folds a stream's events into a state: the clean replay every checker uses.
std::unique_ptr<AggregateState> replay(const Domain& domain, const std::vector<Event>& events,
                                       const Bugs& bugs = {});

}  // namespace essim::model
