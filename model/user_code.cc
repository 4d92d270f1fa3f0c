#include "model/user_code.h"

#include <cxxabi.h>

#include <cstdlib>
#include <memory>

#include <fmt/format.h>

#include "model/personal.h"
#include "model/trace_notes.h"
#include "sim/assert.h"

namespace essim::model {

namespace {
constexpr std::size_t kPayloadBytesShown = 16;
}  // namespace

std::string describe(const UserFailure& f) {
  std::string out = fmt::format("{} threw {}: {}", f.doing, f.type, f.message);
  // The traceback under the message, each line marked as the process's.
  std::string_view tb = f.traceback;
  while (!tb.empty() && tb.back() == '\n') tb.remove_suffix(1);
  for (std::size_t at = 0; at < tb.size();) {
    const std::size_t end = std::min(tb.find('\n', at), tb.size());
    out += fmt::format("\n        | {}", tb.substr(at, end - at));
    at = end + 1;
  }
  return out;
}

UserCodeError::UserCodeError(UserFailure failure)
    : failure_(std::move(failure)), what_(describe(failure_)) {}

std::string demangled(const std::type_info& type) {
  int status = 0;
  const std::unique_ptr<char, void (*)(void*)> name(
      abi::__cxa_demangle(type.name(), nullptr, nullptr, &status), std::free);
  return status == 0 && name != nullptr ? std::string(name.get()) : std::string(type.name());
}

void rethrow_as_user_failure(std::string doing) {
  UserFailure f;
  f.doing = std::move(doing);
  try {
    throw;
  } catch (const ForeignError& e) {
    f.type = e.type();
    f.message = e.what();
    f.foreign = true;
    f.traceback = e.traceback();
  } catch (const std::exception& e) {
    f.type = demangled(typeid(e));
    f.message = e.what();
  } catch (...) {
    // Not a std::exception: only its type is known (`throw 42;` says "int").
    const std::type_info* type = abi::__cxa_current_exception_type();
    f.type = type != nullptr ? demangled(*type) : "an unknown type";
    f.message = "(not a std::exception)";
  }
  throw UserCodeError(std::move(f));
}

std::string describe_command(const Command& command, const Domain* domain) {
  if (domain != nullptr) {
    std::string read;
    try {
      read = domain->describe_command_payload(command);
    } catch (...) {  // evidence only: the bytes say it then
    }
    if (!read.empty()) return fmt::format("{} on {} ({})", command.kind, command.stream, read);
    bool personal = false;
    try {
      personal = !domain->personal_data().empty();
    } catch (...) {
      personal = true;  // cannot tell: show no bytes
    }
    // A command of a domain with personal data may carry it in plaintext.
    if (personal) {
      return fmt::format(
          "{} on {} (payload: {} bytes, not shown: the domain declares personal "
          "data)",
          command.kind, command.stream, command.payload.size());
    }
  }
  std::string hex;
  for (std::size_t i = 0; i < command.payload.size() && i < kPayloadBytesShown; ++i) {
    hex += fmt::format("{:02x}", static_cast<unsigned>(command.payload[i]));
  }
  if (command.payload.size() > kPayloadBytesShown) hex += "...";
  return fmt::format("{} on {} (payload: {} bytes{}{})", command.kind, command.stream,
                     command.payload.size(), hex.empty() ? "" : " ", hex);
}

Work call_generate(const Domain& domain, std::string_view kind, sim::Rng& rng) {
  return call_user([&] { return fmt::format("generating work of kind {}", kind); },
                   [&] { return domain.generate(kind, rng); });
}

std::unique_ptr<AggregateState> call_initial(const Domain& domain) {
  return call_user([] { return std::string("making an initial state"); },
                   [&] { return domain.initial_state(); });
}

sim::Result<std::vector<NewEvent>> call_decide(const Domain& domain, const AggregateState& state,
                                               const Command& command) {
  return call_user([&] { return "deciding " + describe_command(command, &domain); },
                   [&] { return domain.decide_state(state, command); });
}

namespace {

// What to add to a failure on an event whose payload holds sealed personal
// data: code that reads a personal value gets a token, never plaintext.
std::string sealed_hint(const Event& event) {
  const std::string_view bytes(reinterpret_cast<const char*>(event.payload.data()),
                               event.payload.size());
  if (bytes.find(kTokenPrefix) == std::string_view::npos) return {};
  return " (its personal values are sealed: evolve, deciders and handlers read tokens, never "
         "plaintext; keep them, do not parse them)";
}

}  // namespace

void call_evolve(const Domain& domain, AggregateState& state, const Event& event) {
  call_user([&] { return "evolving with event " + describe(event) + sealed_hint(event); },
            [&] { domain.evolve_state(state, event); });
}

sim::Result<std::unique_ptr<AggregateState>> call_decode_state(const Domain& domain, ByteView bytes,
                                                               std::string_view stream) {
  return call_user([&] { return fmt::format("decoding a snapshot of {}", stream); },
                   [&] { return domain.decode_state(bytes); });
}

void call_handler(const ProjectionHandler& handler, ReadModel& model, const Event& event) {
  call_user(
      [&] {
        return fmt::format("applying event {} in handler {}{}", describe(event), handler.name,
                           sealed_hint(event));
      },
      [&] { handler.apply(model, event); });
}

void call_handler_all(const ProjectionHandler& handler, ReadModel& model,
                      const std::vector<Event>& events) {
  if (!handler.apply_all) {
    for (const Event& e : events) call_handler(handler, model, e);
    return;
  }
  call_user(
      [&] {
        return fmt::format("applying {} event(s) in handler {} (from {})", events.size(),
                           handler.name, events.empty() ? "none" : describe(events.front()));
      },
      [&] { handler.apply_all(model, events); });
}

ReadModel call_reference(const ProjectionHandler& handler, const std::vector<Event>& log) {
  return call_user(
      [&] {
        return fmt::format("computing the reference projection of handler {} over {} event(s)",
                           handler.name, log.size());
      },
      [&] { return handler.reference(log); });
}

bool call_holds(const Invariant& invariant, const AggregateState& state, const Event& after) {
  return call_user(
      [&] {
        return fmt::format("checking invariant {} after event {}", invariant.name, describe(after));
      },
      [&] { return invariant.holds(state); });
}

std::string call_log_step(const LogInvariant& rule, Value& memory, const Event& event) {
  return call_user(
      [&] { return fmt::format("checking rule {} at event {}", rule.name, describe(event)); },
      [&] { return rule.step(memory, event); });
}

std::string call_log_end(const LogInvariant& rule, const Value& memory) {
  return call_user([&] { return fmt::format("checking rule {} at the end of the log", rule.name); },
                   [&] { return rule.at_end(memory); });
}

std::string call_read_model_check(const ReadModelInvariant& rule, const ReadModel& model) {
  return call_user(
      [&] { return fmt::format("checking rule {} on {}'s read model", rule.name, rule.handler); },
      [&] { return rule.check(model); });
}

std::optional<SagaStep> call_next_step(const Domain& domain, const Saga& saga,
                                       const std::vector<StepOutcome>& done) {
  return call_user(
      [&] { return fmt::format("planning step {} of saga {}", done.size() + 1, saga.id); },
      [&] { return domain.next_step(saga, done); });
}

std::string call_describe_payload(const Domain& domain, const Event& event) {
  // Sealed personal data shows as whose it is, never as ciphertext.
  return mask_tokens(call_user([&] { return "describing the payload of event " + describe(event); },
                               [&] { return domain.describe_payload(event); }));
}

std::optional<DecisionModel> call_decision_model(const Domain& domain) {
  return call_user([] { return std::string("getting the decision model"); },
                   [&] { return domain.decision_model(); });
}

bool call_model_accepts(const DecisionModel& model, const Value& state, const Command& command,
                        const Domain* domain) {
  return call_user(
      [&] { return "asking the decision model about " + describe_command(command, domain); },
      [&] { return model.accepts(state, command); });
}

void call_model_apply(const DecisionModel& model, Value& state, const Command& command,
                      const Domain* domain) {
  call_user(
      [&] { return "applying " + describe_command(command, domain) + " to the decision model"; },
      [&] { model.apply(state, command); });
}

std::optional<Bytes> call_old_writer(const OldWriter& writer, const Event& latest) {
  return call_user(
      [&] {
        return fmt::format("writing event {} at schema v{} (the old writer)", describe(latest),
                           writer.version);
      },
      [&] { return writer.write(latest); });
}

void UserFailures::record(UserFailure failure) {
  ++count_;
  if (kept_.size() < kKeptMax) kept_.push_back(std::move(failure));
}

void fail_stop_on_user_failure(sim::Env& env, UserFailures* sink, const UserCodeError& error) {
  UserFailure f = error.failure();
  f.node = env.self();
  f.at_us = env.now();
  env.note(notes::kUserCodeThrew, 0, 0);
  env.log(f.foreign ? fmt::format("{} threw {}", f.doing, f.type) : describe(f));
  if (sink != nullptr) sink->record(f);
  env.fail_stop("user code threw");
}

}  // namespace essim::model
