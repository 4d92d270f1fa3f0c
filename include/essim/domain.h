#pragma once
// A domain under test: its deciders, its evolve, its projection handlers, its
// rules and its workload, in the decider shape
//
//   decide(state, command) -> events, or an Error when the command is refused
//   evolve(state, event)   -> state (in place)
//
// Most domains derive from essim::TypedDomain<State> (typed.h), which keeps
// their states as plain structs. Domain is the untyped interface beneath it.
//
// Events reach evolve() and the handlers already upcast to their latest
// schema. Everything a domain does is the code under test: an exception
// thrown from any of it becomes a finding (`user_code_does_not_throw`) with
// the seed, the node and the command or event, never a crash of essim.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <essim/codec.h>
#include <essim/event.h>
#include <essim/probe.h>
#include <essim/result.h>
#include <essim/rng.h>
#include <essim/value.h>

namespace essim {

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
// (or times out), the compensations of the steps already done run in reverse
// order. A saga is journaled on its client's disk: after the client
// crashes it resumes, and the step that was in flight is decided again, on
// a state that may already hold that step's events. Make steps idempotent
// (a repeat accepted with nothing to append, known by an id the step
// carries). A step done without a compensation is a pivot: the saga can then
// only go forward, and a later step that is refused is retried (with
// backoff) rather than undone. A saga may be planned step by step: when its
// listed steps are done, Domain::next_step() sees what each returned and may
// add another.
struct SagaStep {
  Command action;
  std::optional<Command> compensation;
};
struct Saga {
  std::string id;
  std::vector<SagaStep> steps;
};
// What a completed saga step appended (its decider's events).
struct StepOutcome {
  std::vector<NewEvent> events;
};
inline constexpr std::size_t kSagaStepsMax = 64;

using Work = std::variant<Command, Saga>;

// How often clients draw a kind of work, relative to the others.
struct WorkWeight {
  std::string kind;
  std::uint32_t weight = 1;
};

// One aggregate's state, untyped. TypedDomain implements it for a struct.
class AggregateState {
 public:
  virtual ~AggregateState() = default;
  virtual std::unique_ptr<AggregateState> clone() const = 0;
  virtual void encode(Bytes& out) const = 0;
  virtual bool equals(const AggregateState& other) const = 0;
  virtual std::string describe() const = 0;
};

// What a domain throws for a payload it cannot decode: reading such bytes as
// zeros would hide the bug. Reported like any exception from user code.
class BadPayload : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A projection handler: applies one event to a read model (value.h). The
// worker delivers events at least once and, per stream, in order; whether a
// redelivery reaches the handler depends on the scenario's dedup setting.
using HandlerFn = std::function<void(ReadModel& model, const Event& event)>;
// A reference projection: the read model a handler must arrive at, computed
// independently and as plainly as possible from the whole log at once (every
// event of every stream in position order, upcast to its latest schema).
// Written apart from `apply` (sum the amounts rather than keep a balance,
// say), it catches a handler that is simply wrong, which comparing the
// handler with itself under other delivery orders cannot.
using ReferenceFn = std::function<ReadModel(const std::vector<Event>& log)>;
struct ProjectionHandler {
  std::string name;  // registered as "<domain>.<name>"
  std::string description;
  HandlerFn apply;
  // Optional. When set, `replay_matches_projection` and `essim fuzz` also
  // compare the handler's read model with the reference's.
  ReferenceFn reference{};
  // Optional: `apply` on each of `events` in turn, in one call. essim uses it
  // where it replays a whole log (clean replays, fuzzing); worth giving when
  // one call costs more than one event (an external domain's process).
  std::function<void(ReadModel& model, const std::vector<Event>& events)> apply_all{};
  // Optional (exhaustiveness): the event types `apply` handles, and those it
  // ignores on purpose. Once either is given, every type the domain emits
  // (Domain::event_types()) should be in one of them: `list` and `validate`
  // warn of one in neither, and `handlers_exhaustive` reports such an event
  // reaching the handler in a run. Both empty: not declared, nothing reported.
  std::vector<std::string> handles{};
  std::vector<std::string> ignores{};
};

// A rule of one aggregate, checked after every one of its events (no
// overdraft, no overselling). Each rule is a property scenarios can name.
struct Invariant {
  std::string name;  // the property's name, e.g. "points_never_negative"
  std::string description;
  std::string stream_prefix;  // the aggregates it is about ("": every stream)
  std::function<bool(const AggregateState& state)> holds;
  // Optional, to save calls (an external domain serves it in one round
  // trip): evolves `state` with each of `events` in turn and asks `holds`
  // after each, stopping at the first after which it does not hold. Returns
  // that event's index, with `state` as it left it, or events.size(). It
  // must make the same calls as evolve and holds one event at a time would,
  // and leave `state` as it was when the domain's code threw: the checker
  // then makes them one at a time, to report the one that threw.
  std::function<std::size_t(AggregateState& state, const std::vector<Event>& events)> walk{};
};

// A rule across aggregates, over the whole log: `step` sees every event of
// every stream in position order (upcast to its latest schema), keeping what
// it needs in `memory` (null at first), and returns "" while the rule holds,
// else what is wrong. Then, when the run settled (its heal phase ended
// quiet), `at_end` (optional) sees the memory and says the same. Unique user
// names across accounts, say, or money conserved across transfers.
struct LogInvariant {
  std::string name;
  std::string description;
  std::function<std::string(Value& memory, const Event& event)> step;
  std::function<std::string(const Value& memory)> at_end;
  // Optional, to save calls: `step` over each of `events` in turn, stopping
  // at the first that breaks the rule. Returns its index and what is wrong,
  // or events.size() and "". As Invariant::walk, the same calls as `step`
  // one event at a time, and `memory` untouched when the domain's code threw.
  struct Walked {
    std::size_t at = 0;
    std::string broken;
  };
  std::function<Walked(Value& memory, const std::vector<Event>& events)> walk{};
};

// A rule of a projection's read model: checked on its final read model, and
// with `at_checkpoints` also on every read model it makes durable. Returns ""
// while the rule holds, else what is wrong.
struct ReadModelInvariant {
  std::string name;
  std::string description;
  std::string handler;  // the domain's handler whose read model it is about
  bool at_checkpoints = false;
  std::function<std::string(const ReadModel& model)> check;
};

// A reference model of the decider, in the style of RapidCheck's rc::state
// and Jepsen's models: an abstract state per aggregate (a Value, null before
// its first command) and, per command, whether it should be accepted and how
// it changes the abstract state. Written apart from decide and evolve:
//
//   accepts: withdraw iff state["open"] and amount <= state["balance"]
//   apply:   withdraw: state["balance"] -= amount
//
// `decisions_match_model` holds every decision clients saw to it, stream by
// stream in log order: each command whose events are in the log must be one
// the model accepts (then `apply` runs), each command the decider refused
// one it refuses, and each accepted with nothing to append one it accepts,
// on the abstract state of the version it was decided on. An evolve that
// loses part of an event's effect shows as decisions the model disagrees with.
struct DecisionModel {
  std::vector<std::string> kinds;  // the command kinds it explains; empty: every kind
  std::function<bool(const Value& state, const Command& command)> accepts;
  std::function<void(Value& state, const Command& command)> apply;
  // Optional, to save calls: one stream's decisions held to the model at
  // once. From the null state, for each step in turn: `accepts`; a step
  // whose answer is not `accepted` ends the walk; else, when the step says
  // so, `apply`. Returns how many steps agreed and the state the first that
  // did not was judged on (the final state when all agreed). The same calls
  // as accepts and apply one at a time; when the domain's code threw, the
  // checker makes them one at a time.
  struct Step {
    const Command* command = nullptr;
    bool accepted = true;  // what the decider did
    bool apply = false;    // whether an accepted command then changes the state
  };
  struct Walked {
    std::size_t agreed = 0;
    Value state;
  };
  std::function<Walked(const std::vector<Step>& steps)> walk{};
};

// Schema evolution: how a writer of an older schema wrote an event. `write`
// turns an event at its latest schema into its payload at schema `version`
// of `type`: the old writer itself, or a down-converter. nullopt: that
// writer could not have written this event (a field the old schema lacks),
// which is then left as it is.
//
// `upcast_equivalence` and `essim fuzz DOMAIN` write the same decided
// history both ways, as the latest writer did and by the old writer through
// the upcasters, and require the same aggregate states after every event,
// the same decisions and the same read models from every handler. An
// upcaster that converts a field wrongly shows as a difference.
struct OldWriter {
  std::string type;
  std::uint32_t version = 1;
  std::function<std::optional<Bytes>(const Event& latest)> write;
  // Optional, to save calls (an external domain answers them in one round
  // trip): `write` of each of `latest`, in order, with the same calls. When
  // the domain's code threw, its caller writes one at a time again.
  std::function<std::vector<std::optional<Bytes>>(const std::vector<Event>& latest)> write_all{};
};

// Personal data (crypto-shredding). The fields of an event that hold data
// about a person (a name, an email address) are sealed before the event is
// written: each value is encrypted (AES-256-GCM) with a key of its subject,
// held by a key store node (`keys`), and replaced by a token, an opaque
// string ("pii1." then hex). The log is immutable; forgetting a subject (the
// scenario operation `{forget: SUBJECT}`) deletes its key, after which its
// tokens can never be opened again, wherever they were copied.
//
// So evolve, the deciders and the handlers see tokens, never plaintext, and a
// read model or snapshot that keeps only what it was given keeps only tokens.
// Reveal a token at the edge (a query, an email sent) through your own key
// service, never into something persisted. `forgotten_subjects_absent`
// checks that after the heal phase no read model, snapshot, projection file,
// log or evidence holds a forgotten subject's plaintext, and that the key is
// gone from the key store's disk.
//
// One entry per event type that carries personal data.
struct PersonalData {
  std::string type;
  // Whose data the event holds (a customer's id, say); "" for none. Sealed
  // events are written with this subject's key.
  std::function<std::string(const Event& event)> subject;
  // The payload with each personal value `v` replaced by `seal(v)`, every
  // other byte as it was. essim calls it to seal the values when the event
  // is written (`seal` returns a token); a reader that could reveal tokens
  // calls it with `seal` returning the plaintext, or kForgotten.
  std::function<Bytes(const Event& event,
                      const std::function<std::string(const std::string&)>& seal)>
      rewrite;
};
// What a token of a forgotten subject reads as, where one is revealed.
inline constexpr std::string_view kForgotten = "[forgotten]";

// A coverage probe a domain declares: its name (letters, digits, . _ -, at
// most 64) and what reaching it means (required: reports show it).
struct ProbeDeclaration {
  std::string name;
  std::string description;
};

class Domain {
 public:
  virtual ~Domain() = default;
  virtual std::string name() const = 0;
  virtual std::string description() const { return {}; }

  // The workload: the kinds of work a client can draw, and one drawn. Draw
  // only from `rng`.
  virtual std::vector<std::string> work_kinds() const = 0;
  virtual Work generate(std::string_view kind, Rng& rng) const = 0;
  // The workload's default mix when a scenario gives none: every kind alike.
  virtual std::vector<WorkWeight> mix() const;
  // The next step of a saga whose listed steps are done, from what each
  // returned; nullopt ends it. At most kSagaStepsMax steps.
  virtual std::optional<SagaStep> next_step(const Saga& /*saga*/,
                                            const std::vector<StepOutcome>& /*done*/) const {
    return std::nullopt;
  }

  // The decider over untyped states (TypedDomain implements these).
  //
  // A decision that accepts a command with nothing to append (an idempotent
  // repeat, say) is answered from the state the client read, which may be
  // stale: no append checks it against the stream's latest version. Decide
  // "nothing to do" only from facts that cannot be undone.
  virtual std::unique_ptr<AggregateState> initial_state() const = 0;
  virtual void evolve_state(AggregateState& state, const Event& event) const = 0;
  virtual Result<std::vector<NewEvent>> decide_state(const AggregateState& state,
                                                     const Command& command) const = 0;
  virtual Result<std::unique_ptr<AggregateState>> decode_state(ByteView bytes) const = 0;
  // Optional, to save calls (an external domain answers them in one round
  // trip): decide_state of `command` on each of `states`, in order, or
  // nothing (the default) for the caller to decide one at a time. It must
  // make the same calls; when the domain's code threw, its caller decides
  // one at a time again, to report the decision that threw.
  virtual std::vector<Result<std::vector<NewEvent>>> decide_states(
      const std::vector<const AggregateState*>& /*states*/, const Command& /*command*/) const {
    return {};
  }

  // Whether `event` is older than its type's latest schema.
  virtual bool needs_upcast(const Event& /*event*/) const { return false; }
  // Brings `event` to its latest schema, in place. REQUIRES: needs_upcast(event).
  virtual void upcast(Event& /*event*/) const {}
  // Optional, to save calls (an external domain answers them in one round
  // trip): upcast of each of `events`, in order, with the same calls, and
  // true; or false (the default) and `events` untouched, for the caller to
  // upcast one at a time. It leaves `events` as they were when the domain's
  // code threw. REQUIRES: needs_upcast of each.
  virtual bool upcast_all(std::vector<Event>& /*events*/) const { return false; }

  // Optional: the older schemas' writers (see OldWriter), one per type and
  // version older than the latest.
  virtual std::vector<OldWriter> old_writers() const { return {}; }

  // Optional (exhaustiveness, as ProjectionHandler::handles and ::ignores):
  // the event types evolve handles, and those it ignores on purpose.
  virtual std::vector<std::string> evolve_handles() const { return {}; }
  virtual std::vector<std::string> evolve_ignores() const { return {}; }

  // Optional: the reference model of the decider (see DecisionModel).
  virtual std::optional<DecisionModel> decision_model() const { return std::nullopt; }

  // Optional: the coverage probes the domain's code hits (essim::probe, in
  // <essim/probe.h>), so that one no seed reached is reported and a scenario
  // may require it. A probe hit without being declared is counted all the same.
  virtual std::vector<ProbeDeclaration> probes() const { return {}; }

  // Optional: the event types that carry personal data, and how (see
  // PersonalData). A domain that declares some runs with a key store node.
  virtual std::vector<PersonalData> personal_data() const { return {}; }

  virtual std::vector<ProjectionHandler> projections() const { return {}; }
  virtual std::vector<Invariant> invariants() const { return {}; }
  virtual std::vector<LogInvariant> log_invariants() const { return {}; }
  virtual std::vector<ReadModelInvariant> read_model_invariants() const { return {}; }

  // Every event type the domain writes. Events of other types are reported
  // where they are read (a newer writer, a wrong stream) and then skipped.
  // Empty: not declared, nothing is reported.
  virtual std::vector<std::string> event_types() const { return {}; }
  // A short human reading of an event's payload, for evidence ("" by default:
  // evidence then shows its size and first bytes).
  virtual std::string describe_payload(const Event& /*event*/) const { return {}; }
  // The same for a command's payload.
  virtual std::string describe_command_payload(const Command& /*command*/) const { return {}; }
};

// The domains a runner knows: essim's built-in ones and the user's.
class Registry {
 public:
  // The registry with essim's built-in domains (bank, inventory).
  static const Registry& builtin();
  // A new registry holding the built-in domains, to add one's own to.
  static Registry with_builtins();
  // A new, empty registry that also finds everything `parent` holds (which
  // must outlive it): a scenario's external domain is added to one.
  static Registry extending(const Registry& parent);

  // Adds `domain`. Checks what can be checked before a run (a name, no
  // domain twice, handler and rule names unique and well formed) and throws
  // std::invalid_argument naming what is wrong.
  void add(std::unique_ptr<Domain> domain);
  const Domain* domain(std::string_view name) const;
  // "bank.balances" -> its domain and handler, or nullopt.
  struct Found {
    const Domain* domain;
    const ProjectionHandler* handler;
  };
  std::optional<Found> handler(std::string_view qualified_name) const;

  std::vector<std::string> domain_names() const;
  std::vector<std::string> handler_names() const;

  // What registration found questionable but not wrong, one line each, of
  // the domain `name` ("": of every domain): an emitted event type that a
  // declared handler or evolve neither handles nor ignores, or a declared
  // type the domain does not emit.
  std::vector<std::string> warnings(std::string_view name = {}) const;

 private:
  struct Entry {
    std::unique_ptr<Domain> domain;
    std::vector<ProjectionHandler> handlers;
    std::vector<std::string> warnings;
  };
  std::map<std::string, Entry, std::less<>> domains_;
  const Registry* parent_ = nullptr;
};

}  // namespace essim
