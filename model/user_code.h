#pragma once
// The boundary between essim and the code it tests. A domain's generate,
// decide, evolve, decode_state, upcast and describe_payload, a projection
// handler's apply and an invariant's holds are the user's code: untrusted, and
// the main thing under test. Every call essim makes into it goes through a
// call_* function here, which turns an exception into a UserCodeError that
// says what essim was doing (deciding which command, applying which event),
// the exception's type and its message.
//
// Nodes catch UserCodeError at their entry points (guarded()): the failure is
// recorded in the cluster's UserFailures and the node fail-stops, as a
// process whose handler threw would crash. The properties' checkers let it
// reach properties::check, which reports it. Either way it becomes a
// violation of `user_code_does_not_throw`, never a crash of essim.
//
// A payload the domain cannot decode is a failure of the same kind: throw
// BadPayload rather than read it as zeros.

#include <cstdint>
#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>

#include "model/domain.h"
#include "sim/env.h"

namespace essim::model {

struct UserFailure {
  sim::NodeId node = sim::kNoNode;  // kNoNode: not in a node (a property's checker)
  Micros at_us = 0;
  std::string doing;    // "deciding deposit on acct-1 (payload: 3 bytes 0a0b0c)"
  std::string type;     // the exception's type, demangled: "std::out_of_range"
  std::string message;  // its what()
  // Raised in an external domain's process: its traceback ("" if none).
  // Neither it nor the message enters the trace (paths and addresses vary
  // between machines and processes; the fingerprint must not).
  bool foreign = false;
  std::string traceback;
};

// "deciding ... threw std::out_of_range: vector::_M_range_check"
std::string describe(const UserFailure& failure);

class UserCodeError : public std::exception {
 public:
  explicit UserCodeError(UserFailure failure);
  const UserFailure& failure() const { return failure_; }
  const char* what() const noexcept override { return what_.c_str(); }

 private:
  UserFailure failure_;
  std::string what_;
};

// A failure of the harness itself rather than of the code under test: an
// external domain's process that will not start, died, hung or broke the
// protocol (external/). It passes through every user-code boundary and ends
// the run with exit 3.
class HarnessFailure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// An exception raised by user code in another language (an external
// domain's process): its own type name, message and traceback.
class ForeignError : public std::runtime_error {
 public:
  ForeignError(std::string type, const std::string& message, std::string traceback)
      : std::runtime_error(message), type_(std::move(type)), traceback_(std::move(traceback)) {}
  const std::string& type() const { return type_; }
  const std::string& traceback() const { return traceback_; }

 private:
  std::string type_;
  std::string traceback_;
};

// The readable name of a type ("std::out_of_range", not "St12out_of_range").
std::string demangled(const std::type_info& type);

// Turns the exception in flight into a UserCodeError about `doing`.
// REQUIRES: called from a catch block.
[[noreturn]] void rethrow_as_user_failure(std::string doing);

// Calls the user's `f`. `doing` (a callable returning a string) is evaluated
// only on failure, so the replay hot path formats nothing.
template <typename Doing, typename F>
[[gnu::always_inline]] inline decltype(auto) call_user(const Doing& doing, F&& f) {
  try {
    return std::forward<F>(f)();
  } catch (const UserCodeError&) {
    throw;  // already has its context (an upcast inside an evolve, say)
  } catch (const HarnessFailure&) {
    throw;  // not the user's code: ends the run
  } catch (...) {
    rethrow_as_user_failure(doing());
  }
}

// Runs a walk (Invariant::walk, LogInvariant::walk, DecisionModel::walk):
// false when the domain's code threw in it, for the caller to make the same
// calls one at a time and so report the one that threw, with its context.
template <typename F>
bool walked(F&& walk) {
  try {
    std::forward<F>(walk)();
    return true;
  } catch (const HarnessFailure&) {
    throw;
  } catch (...) {
    return false;
  }
}

// "withdraw on acct-1 (payload: ...)": as `domain` reads the payload when
// it says, else its size and first bytes in hex.
std::string describe_command(const Command& command, const Domain* domain = nullptr);

Work call_generate(const Domain& domain, std::string_view kind, sim::Rng& rng);
std::unique_ptr<AggregateState> call_initial(const Domain& domain);
sim::Result<std::vector<NewEvent>> call_decide(const Domain& domain, const AggregateState& state,
                                               const Command& command);
// REQUIRES: `event` is at its latest schema (see latest()).
void call_evolve(const Domain& domain, AggregateState& state, const Event& event);
sim::Result<std::unique_ptr<AggregateState>> call_decode_state(const Domain& domain, ByteView bytes,
                                                               std::string_view stream);
void call_handler(const ProjectionHandler& handler, ReadModel& model, const Event& event);
// Every event of `events` in order: in one call when the handler has apply_all.
void call_handler_all(const ProjectionHandler& handler, ReadModel& model,
                      const std::vector<Event>& events);
// REQUIRES: handler.reference is set.
ReadModel call_reference(const ProjectionHandler& handler, const std::vector<Event>& log);
bool call_holds(const Invariant& invariant, const AggregateState& state, const Event& after);
std::string call_log_step(const LogInvariant& rule, Value& memory, const Event& event);
std::string call_log_end(const LogInvariant& rule, const Value& memory);
std::string call_read_model_check(const ReadModelInvariant& rule, const ReadModel& model);
std::optional<SagaStep> call_next_step(const Domain& domain, const Saga& saga,
                                       const std::vector<StepOutcome>& done);
std::string call_describe_payload(const Domain& domain, const Event& event);
std::optional<DecisionModel> call_decision_model(const Domain& domain);
// `domain` (optional) reads the command's payload when a failure names it.
bool call_model_accepts(const DecisionModel& model, const Value& state, const Command& command,
                        const Domain* domain = nullptr);
void call_model_apply(const DecisionModel& model, Value& state, const Command& command,
                      const Domain* domain = nullptr);
// The payload `writer` writes for `latest` (an event at its latest schema), or nullopt.
std::optional<Bytes> call_old_writer(const OldWriter& writer, const Event& latest);

// The failures of one run, in the order they happened. A node that throws on
// every restart would fill memory, so only the first kKeptMax are kept; all
// are counted.
class UserFailures {
 public:
  static constexpr std::size_t kKeptMax = 16;
  void record(UserFailure failure);
  const std::vector<UserFailure>& kept() const { return kept_; }
  std::uint64_t count() const { return count_; }

 private:
  std::vector<UserFailure> kept_;
  std::uint64_t count_ = 0;
};

// Records `error` for this node (when there is a sink), notes it in the trace
// and fail-stops the node. The caller must return at once (Env::fail_stop).
void fail_stop_on_user_failure(sim::Env& env, UserFailures* sink, const UserCodeError& error);

// Runs one step of a node (a message, a timer, a start). When user code in it
// throws, the node fail-stops: its memory may be half-updated (a state half
// evolved, a read model half applied), and only a restart, which recovers
// from storage, is sure to drop that. Skipping the event instead would keep a
// node running on state nobody can vouch for. Fail-stop and its restart delay
// are the simulator's own recorded, seeded decisions, so the run stays
// deterministic.
// Returns false when the node fail-stopped: the caller must return at once.
template <typename F>
bool guarded(sim::Env& env, UserFailures* sink, F&& step) {
  try {
    std::forward<F>(step)();
    return true;
  } catch (const UserCodeError& error) {
    fail_stop_on_user_failure(env, sink, error);
    return false;
  }
}

}  // namespace essim::model
