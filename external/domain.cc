#include "external/domain.h"

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <map>
#include <set>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "external/client.h"
#include "external/json.h"
#include "model/codec.h"
#include "model/user_code.h"
#include "sim/probe.h"

namespace essim::external {

namespace {

using model::HarnessFailure;

// ---- values across the boundary ----

// A value the process sent, or a harness failure naming it.
Value value_of(const Json& json, const std::string& what) {
  auto v = to_value(json, what);
  if (!v.ok()) throw HarnessFailure("the external domain sent " + v.error().message);
  return std::move(v).value();
}

Bytes bytes_of(const Value& value) {
  Bytes out;
  Writer w(out);
  encode(w, value);
  return out;
}

// A payload essim holds (the Value codec's bytes) as a Value. Throws BadPayload.
Value payload_value(ByteView payload, std::string_view what) {
  Reader r(payload);
  auto v = decode_value(r);
  if (!v.ok() || r.remaining() != 0)
    throw BadPayload(
        fmt::format("{}: the payload is not a value essim wrote ({} bytes)", what, payload.size()));
  return std::move(v).value();
}

Json payload_json(ByteView payload, std::string_view what) {
  return to_json(payload_value(payload, what));
}

}  // namespace

Json event_json(const Event& e) {
  return Json{{"id", to_string(e.id)},
              {"stream", e.stream},
              {"version", e.version},
              {"position", e.position},
              {"type", e.type},
              {"schema_version", e.schema_version},
              {"payload", payload_json(e.payload, e.type)}};
}

void append_event_json(std::string& out, const Event& e) {
  // The members in the order the library dumps event_json's: by key.
  out += R"({"id":)";
  append_json_text(out, to_string(e.id));
  out += R"(,"payload":)";
  append_json(out, payload_value(e.payload, e.type));
  fmt::format_to(std::back_inserter(out), R"(,"position":{},"schema_version":{},"stream":)",
                 e.position, e.schema_version);
  append_json_text(out, e.stream);
  out += R"(,"type":)";
  append_json_text(out, e.type);
  fmt::format_to(std::back_inserter(out), R"(,"version":{}}})", e.version);
}

namespace {

Json command_json(const Command& c) {
  return Json{{"kind", c.kind}, {"stream", c.stream}, {"payload", payload_json(c.payload, c.kind)}};
}

const Json& member(const Json& object, const char* key, const std::string& what) {
  if (!object.is_object()) throw HarnessFailure(fmt::format("{}: not an object", what));
  const auto it = object.find(key);
  if (it == object.end()) throw HarnessFailure(fmt::format("{}: no \"{}\"", what, key));
  return *it;
}

std::string string_of(const Json& json, const std::string& what) {
  if (!json.is_string())
    throw HarnessFailure(fmt::format("{}: not a string: {}", what, json.dump()));
  return json.get<std::string>();
}

Command command_of(const Json& json, const std::string& what) {
  Command c;
  c.kind = string_of(member(json, "kind", what), what + ".kind");
  c.stream = string_of(member(json, "stream", what), what + ".stream");
  const auto payload = json.find("payload");
  c.payload = bytes_of(payload == json.end() ? Value() : value_of(*payload, what + ".payload"));
  return c;
}

std::vector<NewEvent> new_events_of(const Json& json, const std::string& what) {
  if (!json.is_array()) throw HarnessFailure(fmt::format("{}: not a list of events", what));
  std::vector<NewEvent> out;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const std::string at = fmt::format("{}[{}]", what, i);
    NewEvent n;
    n.type = string_of(member(json[i], "type", at), at + ".type");
    const Json& version = member(json[i], "schema_version", at);
    if (!version.is_number_unsigned() || version.get<std::uint64_t>() == 0 ||
        version.get<std::uint64_t>() > UINT32_MAX)
      throw HarnessFailure(fmt::format("{}.schema_version: not a version from 1", at));
    n.schema_version = version.get<std::uint32_t>();
    const auto payload = json[i].find("payload");
    n.payload = bytes_of(payload == json[i].end() ? Value() : value_of(*payload, at + ".payload"));
    out.push_back(std::move(n));
  }
  return out;
}

Json new_events_json(const std::vector<NewEvent>& events) {
  Json out = Json::array();
  for (const NewEvent& n : events) {
    out.push_back({{"type", n.type},
                   {"schema_version", n.schema_version},
                   {"payload", payload_json(n.payload, n.type)}});
  }
  return out;
}

// ---- the handshake ----

struct HandlerDecl {
  std::string name;
  std::string description;
  std::vector<std::string> handles;
  std::vector<std::string> ignores;
  bool reads_all = false;
  bool reference = false;
};

struct RuleDecl {
  std::string name;
  std::string description;
  std::string about;  // the stream prefix, or the handler
  bool flag = false;  // at_end, or at_checkpoints
};

struct Declaration {
  std::string name;
  std::string description;
  std::vector<std::string> types;
  std::map<std::string, std::uint32_t, std::less<>> latest;
  std::vector<std::pair<std::string, std::uint32_t>> old_writers;
  std::vector<std::string> evolve_handles;
  std::vector<std::string> evolve_ignores;
  std::vector<HandlerDecl> handlers;
  std::vector<RuleDecl> invariants;
  std::vector<RuleDecl> log_invariants;
  std::vector<RuleDecl> read_model_invariants;
  std::vector<model::WorkWeight> work;
  std::optional<std::vector<std::string>> model_kinds;
  bool sagas = false;
  std::vector<ProbeDeclaration> probes;
  // Capabilities (docs/protocol.md): the optional calls the process serves.
  bool fold = false;
  bool apply_many = false;
  bool model_walk = false;
  bool invariant_walk = false;
  bool log_walk = false;
};

// Reads the handshake's result strictly: each mistake named by its path.
class HelloReader {
 public:
  explicit HelloReader(std::string process) : process_(std::move(process)) {}

  Declaration read(const Json& hello) {
    object(hello, "the handshake");
    const Json& protocol = need(hello, "protocol", "the handshake");
    if (!protocol.is_number_integer() || protocol.get<std::int64_t>() != kProtocolVersion)
      fail(fmt::format("it speaks protocol {}; this essim speaks protocol {}", protocol.dump(),
                       kProtocolVersion));
    Declaration d;
    d.name = text(need(hello, "domain", "the handshake"), "domain");
    d.description = optional_text(hello, "description", "description");
    for (const Json& e : list(hello, "events", true)) {
      const std::string type = text(need(e, "type", "an event"), "events[].type");
      const std::uint32_t latest = version(need(e, "version", type), type + ".version");
      if (!d.latest.emplace(type, latest).second) fail("the event " + type + " is declared twice");
      d.types.push_back(type);
      for (const Json& v : list(e, "old_writers", false)) {
        const std::uint32_t old = version(v, type + ".old_writers[]");
        if (old >= latest)
          fail(fmt::format("{} has an old writer for v{}, which is not older than v{}", type, old,
                           latest));
        d.old_writers.emplace_back(type, old);
      }
    }
    if (const auto evolve = hello.find("evolve"); evolve != hello.end()) {
      object(*evolve, "evolve");
      d.evolve_handles = texts(*evolve, "handles", "evolve.handles");
      d.evolve_ignores = texts(*evolve, "ignores", "evolve.ignores");
    }
    for (const Json& h : list(hello, "handlers", false)) {
      HandlerDecl handler;
      handler.name = text(need(h, "name", "a handler"), "handlers[].name");
      const std::string at = "handler " + handler.name;
      handler.description = optional_text(h, "description", at + ".description");
      handler.handles = texts(h, "handles", at + ".handles");
      handler.ignores = texts(h, "ignores", at + ".ignores");
      const std::string reads = h.contains("reads") ? text(h["reads"], at + ".reads") : "keys";
      if (reads != "keys" && reads != "all")
        fail(fmt::format("{}.reads is \"{}\"; it is \"keys\" or \"all\"", at, reads));
      handler.reads_all = reads == "all";
      handler.reference = flag(h, "reference", at + ".reference");
      d.handlers.push_back(std::move(handler));
    }
    for (const Json& r : list(hello, "invariants", false)) {
      RuleDecl rule = named(r, "invariants[]");
      rule.about = optional_text(r, "stream_prefix", rule.name + ".stream_prefix");
      d.invariants.push_back(std::move(rule));
    }
    for (const Json& r : list(hello, "log_invariants", false)) {
      RuleDecl rule = named(r, "log_invariants[]");
      rule.flag = flag(r, "at_end", rule.name + ".at_end");
      d.log_invariants.push_back(std::move(rule));
    }
    for (const Json& r : list(hello, "read_model_invariants", false)) {
      RuleDecl rule = named(r, "read_model_invariants[]");
      rule.about = text(need(r, "handler", rule.name), rule.name + ".handler");
      rule.flag = flag(r, "at_checkpoints", rule.name + ".at_checkpoints");
      d.read_model_invariants.push_back(std::move(rule));
    }
    for (const Json& w : list(hello, "work", true)) {
      const std::string kind = text(need(w, "kind", "a kind of work"), "work[].kind");
      const Json& weight = need(w, "weight", kind);
      if (!weight.is_number_unsigned() || weight.get<std::uint64_t>() > 1'000'000)
        fail(fmt::format("the weight of {} is {}; it is a whole number from 0 to 1000000", kind,
                         weight.dump()));
      d.work.push_back({kind, weight.get<std::uint32_t>()});
    }
    if (d.work.empty()) fail("it declares no kind of work (\"work\")");
    if (const auto m = hello.find("decision_model"); m != hello.end() && !m->is_null()) {
      object(*m, "decision_model");
      d.model_kinds = texts(*m, "kinds", "decision_model.kinds");
    }
    d.sagas = flag(hello, "sagas", "sagas");
    for (const Json& p : list(hello, "probes", false)) {
      ProbeDeclaration probe;
      probe.name = text(need(p, "name", "a probe"), "probes[].name");
      probe.description = optional_text(p, "description", "probe " + probe.name + ".description");
      d.probes.push_back(std::move(probe));
    }
    for (const std::string& c : texts(hello, "capabilities", "capabilities")) {
      if (std::find(kCapabilities.begin(), kCapabilities.end(), c) == kCapabilities.end())
        fail(
            fmt::format("it serves the capability \"{}\", which essim did not offer (it offers "
                        "{})",
                        c, fmt::join(kCapabilities, ", ")));
      bool& served = c == "fold"             ? d.fold
                     : c == "apply_many"     ? d.apply_many
                     : c == "model_walk"     ? d.model_walk
                     : c == "invariant_walk" ? d.invariant_walk
                                             : d.log_walk;
      if (served) fail(fmt::format("the capability \"{}\" is declared twice", c));
      served = true;
    }
    return d;
  }

 private:
  [[noreturn]] void fail(const std::string& what) const {
    throw HarnessFailure(
        fmt::format("the external domain {} declared itself wrongly: {}", process_, what));
  }
  void object(const Json& j, const std::string& what) const {
    if (!j.is_object()) fail(what + " is not an object");
  }
  const Json& need(const Json& j, const char* key, const std::string& what) const {
    object(j, what);
    const auto it = j.find(key);
    if (it == j.end()) fail(fmt::format("{} has no \"{}\"", what, key));
    return *it;
  }
  std::string text(const Json& j, const std::string& what) const {
    if (!j.is_string()) fail(fmt::format("{} is {}, not a string", what, j.dump()));
    return j.get<std::string>();
  }
  std::string optional_text(const Json& j, const char* key, const std::string& what) const {
    const auto it = j.find(key);
    return it == j.end() || it->is_null() ? std::string() : text(*it, what);
  }
  bool flag(const Json& j, const char* key, const std::string& what) const {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return false;
    if (!it->is_boolean()) fail(fmt::format("{} is {}, not true or false", what, it->dump()));
    return it->get<bool>();
  }
  std::uint32_t version(const Json& j, const std::string& what) const {
    if (!j.is_number_unsigned() || j.get<std::uint64_t>() == 0 ||
        j.get<std::uint64_t>() > UINT32_MAX)
      fail(fmt::format("{} is {}, not a schema version from 1", what, j.dump()));
    return j.get<std::uint32_t>();
  }
  std::vector<Json> list(const Json& j, const char* key, bool required) const {
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) {
      if (required) fail(fmt::format("the handshake has no \"{}\"", key));
      return {};
    }
    if (!it->is_array()) fail(fmt::format("\"{}\" is not a list", key));
    return it->get<std::vector<Json>>();
  }
  std::vector<std::string> texts(const Json& j, const char* key, const std::string& what) const {
    std::vector<std::string> out;
    const auto it = j.find(key);
    if (it == j.end() || it->is_null()) return out;
    if (!it->is_array()) fail(what + " is not a list of names");
    for (const Json& item : *it) out.push_back(text(item, what + "[]"));
    return out;
  }
  RuleDecl named(const Json& j, const std::string& what) const {
    RuleDecl rule;
    rule.name = text(need(j, "name", what), what + ".name");
    rule.description = optional_text(j, "description", rule.name + ".description");
    return rule;
  }

  std::string process_;
};

// ---- states ----

class ExternalDomain;

// An aggregate's state as essim holds it: a value, and the events evolved
// into it that the process has not seen yet. With the process's `fold`
// (docs/protocol.md), evolve only queues its event; the queue goes to the
// process with the next call that needs the state (decide, an invariant,
// encode, equals), in the same round trip. Without `fold` the queue stays
// empty: each evolve is a call of its own.
class ValueState final : public model::AggregateState {
 public:
  ValueState(const ExternalDomain& domain, Value value)
      : domain_(&domain), value_(std::move(value)) {}
  std::unique_ptr<AggregateState> clone() const override {
    return std::make_unique<ValueState>(*this);
  }
  void encode(Bytes& out) const override {
    Writer w(out);
    essim::encode(w, value());
  }
  bool equals(const AggregateState& other) const override;
  std::string describe() const override;

  // The value with every queued event evolved into it.
  const Value& value() const;
  // REQUIRES: the domain folds.
  void queue(const Event& event);

 private:
  friend class ExternalDomain;
  const ExternalDomain* domain_;
  mutable Value value_;
  mutable std::vector<Event> queued_;  // at most kFoldMax
};

std::unique_ptr<Channel> open_channel(const ExternalSpec& spec) {
  if (spec.child) return start_child(*spec.child, spec.deadline);
  return connect_tcp(*spec.tcp, spec.deadline);
}

// Read-model handles: a few per process. Any may be stale (apply verifies).
constexpr std::uintptr_t kHandles = 64;
// Requests in one line at most, when essim batches; events in one fold or
// apply_many at most.
constexpr std::size_t kBatchMax = 512;
constexpr std::size_t kFoldMax = 512;

Json hello_request() {
  return Json{
      {"protocol", kProtocolVersion},
      {"capabilities", Json(std::vector<std::string>(kCapabilities.begin(), kCapabilities.end()))}};
}

std::atomic<std::uint64_t> next_domain_id{1};

// Each thread's processes, by domain id.
thread_local std::map<std::uint64_t, std::unique_ptr<Client>> t_clients;  // NOLINT

class ExternalDomain final : public model::Domain {
 public:
  ExternalDomain(ExternalSpec spec, std::unique_ptr<Client> first, const Json& hello)
      : spec_(std::move(spec)),
        id_(next_domain_id++),
        hello_(hello.dump()),
        d_(HelloReader(first->name()).read(hello)) {
    t_clients[id_] = std::move(first);
    initial_ = value_of(call("initial", Json::object()), "the initial state");
  }

  static bool batches_wanted() {
    const char* wanted = std::getenv("ESSIM_EXTERNAL_BATCHES");
    return wanted == nullptr || std::string_view(wanted) != "0";
  }

  std::string name() const override { return d_.name; }
  std::string description() const override { return d_.description; }
  std::vector<std::string> work_kinds() const override {
    std::vector<std::string> kinds;
    for (const model::WorkWeight& w : d_.work) kinds.push_back(w.kind);
    return kinds;
  }
  std::vector<model::WorkWeight> mix() const override { return d_.work; }
  std::vector<std::string> event_types() const override { return d_.types; }
  std::vector<std::string> evolve_handles() const override { return d_.evolve_handles; }
  std::vector<std::string> evolve_ignores() const override { return d_.evolve_ignores; }
  std::vector<ProbeDeclaration> probes() const override { return d_.probes; }

  Work generate(std::string_view kind, Rng& rng) const override {
    Json words = Json::array();
    for (int i = 0; i < 2; ++i) {
      const std::uint64_t w = rng.next();
      words.push_back(w >> 32);
      words.push_back(w & 0xffffffffU);
    }
    const Json work = call("generate", {{"kind", kind}, {"words", words}});
    const std::string what = fmt::format("generate({})", kind);
    if (work.is_object() && work.contains("command"))
      return command_of(work["command"], what + ".command");
    if (!work.is_object() || !work.contains("saga"))
      throw HarnessFailure(fmt::format("{} answered {}: not {{\"command\"}} or {{\"saga\"}}", what,
                                       work.dump().substr(0, 200)));
    const Json& s = work["saga"];
    Saga saga;
    saga.id = string_of(member(s, "id", what + ".saga"), what + ".saga.id");
    const Json& steps = member(s, "steps", what + ".saga");
    if (!steps.is_array() || steps.empty() || steps.size() > kSagaStepsMax)
      throw HarnessFailure(
          fmt::format("{}.saga.steps: not a list of 1 to {} steps", what, kSagaStepsMax));
    for (const Json& step : steps) saga.steps.push_back(step_of(step, what + ".saga.steps[]"));
    return saga;
  }

  std::optional<SagaStep> next_step(const Saga& saga,
                                    const std::vector<StepOutcome>& done) const override {
    if (!d_.sagas) return std::nullopt;
    Json steps = Json::array();
    for (const SagaStep& s : saga.steps) {
      steps.push_back({{"action", command_json(s.action)},
                       {"compensation", s.compensation ? command_json(*s.compensation) : Json()}});
    }
    Json outcomes = Json::array();
    for (const StepOutcome& o : done) outcomes.push_back({{"events", new_events_json(o.events)}});
    const Json next =
        call("next_step", {{"saga", {{"id", saga.id}, {"steps", steps}}}, {"done", outcomes}});
    if (next.is_null()) return std::nullopt;
    return step_of(next, "next_step");
  }

  std::unique_ptr<model::AggregateState> initial_state() const override {
    return std::make_unique<ValueState>(*this, initial_);
  }

  void evolve_state(model::AggregateState& state, const Event& event) const override {
    auto& s = dynamic_cast<ValueState&>(state);
    if (d_.fold) {
      s.queue(event);
      return;
    }
    s.value_ =
        value_of(call("evolve", {{"state", to_json(s.value_)}, {"event", event_json(event)}}),
                 "evolve's state");
  }

  Result<std::vector<NewEvent>> decide_state(const model::AggregateState& state,
                                             const Command& command) const override {
    return decision_of(with_state(dynamic_cast<const ValueState&>(state), "decide",
                                  {{"command", command_json(command)}}));
  }

  // The decisions on several states in one round trip: a batch of decides
  // (each a fold whose `then` is the decide when the state has queued
  // events), taken only when none raised.
  std::vector<Result<std::vector<NewEvent>>> decide_states(
      const std::vector<const model::AggregateState*>& states,
      const Command& command) const override {
    if (!batches_ || states.size() < 2 || states.size() > kBatchMax) return {};
    std::vector<std::pair<std::string, Json>> calls;
    std::vector<const ValueState*> values;
    for (const model::AggregateState* state : states) {
      const auto& s = dynamic_cast<const ValueState&>(*state);
      values.push_back(&s);
      Json decide{{"command", command_json(command)}};
      if (s.queued_.empty()) {
        decide["state"] = to_json(s.value_);
        calls.emplace_back("decide", std::move(decide));
      } else {
        decide["call"] = "decide";
        Json fold = fold_args(s);
        fold["then"] = std::move(decide);
        calls.emplace_back("fold", std::move(fold));
      }
    }
    std::vector<std::string> probes;
    const std::vector<Json> answers = batch_or_nothing(std::move(calls), probes);
    std::vector<Result<std::vector<NewEvent>>> out;
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (values[i]->queued_.empty()) {
        out.push_back(decision_of(answers[i]));
      } else {
        folded(*values[i], answers[i]);
        out.push_back(decision_of(member(answers[i], "then", "fold's answer")));
      }
    }
    for (const std::string& p : probes) sim::probe(p);
    return out;
  }

  Result<std::vector<NewEvent>> decision_of(const Json& decided) const {
    if (decided.is_object() && decided.contains("refused")) {
      const Json& why = decided["refused"];
      return Error{why.is_string() ? why.get<std::string>() : why.dump()};
    }
    return new_events_of(member(decided, "events", "decide's answer"), "decide's events");
  }

  Result<std::unique_ptr<model::AggregateState>> decode_state(ByteView bytes) const override {
    Reader r(bytes);
    auto v = decode_value(r);
    if (!v.ok()) return v.error();
    if (r.remaining() != 0) return Error{"bytes after the state's value"};
    return std::unique_ptr<model::AggregateState>(
        std::make_unique<ValueState>(*this, std::move(v).value()));
  }

  bool needs_upcast(const Event& event) const override {
    const auto it = d_.latest.find(event.type);
    return it != d_.latest.end() && event.schema_version < it->second;
  }

  void upcast(Event& event) const override {
    upcast_as(event, call("upcast", {{"event", event_json(event)}}));
  }

  bool upcast_all(std::vector<Event>& events) const override {
    if (!batches_) return false;
    std::vector<std::string> probes;
    const std::vector<Json> answers = batched(
        events, "upcast",
        [](const Event& e) {
          return Json{{"event", event_json(e)}};
        },
        probes);
    std::vector<Event> out = events;
    for (std::size_t i = 0; i < out.size(); ++i) upcast_as(out[i], answers[i]);
    events = std::move(out);
    for (const std::string& p : probes) sim::probe(p);
    return true;
  }

  // The answers to `call` for each of `items` (its arguments by `args`), in
  // batches of at most kBatchMax, taken only when none raised.
  template <typename T, typename Args>
  std::vector<Json> batched(const std::vector<T>& items, const std::string& call, Args args,
                            std::vector<std::string>& probes) const {
    std::vector<Json> answers;
    answers.reserve(items.size());
    for (std::size_t from = 0; from < items.size();) {
      const std::size_t to = std::min(items.size(), from + kBatchMax);
      std::vector<std::pair<std::string, Json>> calls;
      for (std::size_t i = from; i < to; ++i) calls.emplace_back(call, args(items[i]));
      for (Json& a : batch_or_nothing(std::move(calls), probes)) answers.push_back(std::move(a));
      from = to;
    }
    return answers;
  }

  void upcast_as(Event& event, const Json& up) const {
    const Json& version = member(up, "schema_version", "upcast's answer");
    const std::uint32_t latest = d_.latest.find(event.type)->second;
    if (!version.is_number_unsigned() || version.get<std::uint64_t>() != latest)
      throw HarnessFailure(fmt::format("upcast of {} v{} answered schema_version {}, not v{}",
                                       event.type, event.schema_version, version.dump(), latest));
    event.payload =
        bytes_of(value_of(member(up, "payload", "upcast's answer"), "upcast's payload"));
    event.schema_version = latest;
  }

  std::vector<OldWriter> old_writers() const override {
    std::vector<OldWriter> out;
    const auto written = [](const Json& payload) -> std::optional<Bytes> {
      if (payload.is_null()) return std::nullopt;
      return bytes_of(value_of(payload, "write_as's payload"));
    };
    for (const auto& [type, version] : d_.old_writers) {
      OldWriter w{
          type, version, [this, v = version, written](const Event& latest) {
            return written(call("write_as", {{"version", v}, {"event", event_json(latest)}}));
          }};
      if (batches_)
        w.write_all = [this, v = version, written](const std::vector<Event>& latest) {
          std::vector<std::string> probes;
          const std::vector<Json> answers = batched(
              latest, "write_as",
              [v](const Event& e) {
                return Json{{"version", v}, {"event", event_json(e)}};
              },
              probes);
          std::vector<std::optional<Bytes>> payloads;
          for (const Json& payload : answers) payloads.push_back(written(payload));
          for (const std::string& p : probes) sim::probe(p);
          return payloads;
        };
      out.push_back(std::move(w));
    }
    return out;
  }

  std::optional<DecisionModel> decision_model() const override {
    if (!d_.model_kinds) return std::nullopt;
    DecisionModel m;
    m.kinds = *d_.model_kinds;
    m.accepts = [this](const Value& state, const Command& c) {
      const Json accepted =
          call("model_accepts", {{"state", to_json(state)}, {"command", command_json(c)}});
      if (!accepted.is_boolean()) throw HarnessFailure("model_accepts answered " + accepted.dump());
      return accepted.get<bool>();
    };
    m.apply = [this](Value& state, const Command& c) {
      state =
          value_of(call("model_apply", {{"state", to_json(state)}, {"command", command_json(c)}}),
                   "model_apply's state");
    };
    if (d_.model_walk)
      m.walk = [this](const std::vector<DecisionModel::Step>& steps) { return model_walk(steps); };
    return m;
  }

  std::vector<ProjectionHandler> projections() const override {
    std::vector<ProjectionHandler> out;
    for (const HandlerDecl& h : d_.handlers) {
      ProjectionHandler p;
      p.name = h.name;
      p.description = h.description;
      p.handles = h.handles;
      p.ignores = h.ignores;
      p.apply = [this, name = h.name, all = h.reads_all](ReadModel& model, const Event& e) {
        apply(name, all, model, e);
      };
      p.apply_all = [this, name = h.name, all = h.reads_all](ReadModel& model,
                                                             const std::vector<Event>& events) {
        if (d_.apply_many) {
          apply_many(name, all, model, events);
        } else {
          apply_all(name, all, model, events);
        }
      };
      if (h.reference) {
        p.reference = [this, name = h.name](const std::vector<Event>& log) {
          Json events = Json::array();
          for (const Event& e : log) events.push_back(event_json(e));
          const Value m = value_of(call("reference", {{"handler", name}, {"log", events}}),
                                   "reference " + name);
          if (!m.is_map()) throw HarnessFailure("reference " + name + " is not an object");
          return m.as_map();
        };
      }
      out.push_back(std::move(p));
    }
    return out;
  }

  std::vector<Invariant> invariants() const override {
    std::vector<Invariant> out;
    for (const RuleDecl& r : d_.invariants) {
      out.push_back({r.name, r.description, r.about,
                     [this, name = r.name](const model::AggregateState& state) {
                       const Json holds = with_state(dynamic_cast<const ValueState&>(state),
                                                     "invariant", {{"name", name}});
                       if (!holds.is_boolean())
                         throw HarnessFailure("invariant " + name + " answered " + holds.dump());
                       return holds.get<bool>();
                     }});
      if (d_.invariant_walk) {
        out.back().walk = [this, name = r.name](model::AggregateState& state,
                                                const std::vector<Event>& events) {
          return invariant_walk(name, dynamic_cast<ValueState&>(state), events);
        };
      }
    }
    return out;
  }

  std::vector<LogInvariant> log_invariants() const override {
    std::vector<LogInvariant> out;
    for (const RuleDecl& r : d_.log_invariants) {
      LogInvariant rule{
          r.name,
          r.description,
          [this, name = r.name](Value& memory, const Event& e) {
            const Json got =
                call("log_step",
                     {{"name", name}, {"memory", to_json(memory)}, {"event", event_json(e)}});
            memory = value_of(member(got, "memory", "log_step " + name), "log_step's memory");
            const auto broken = got.find("broken");
            return broken == got.end() || broken->is_null()
                       ? std::string()
                       : string_of(*broken, "log_step's broken");
          },
          {}};
      if (d_.log_walk) {
        rule.walk = [this, name = r.name](Value& memory, const std::vector<Event>& events) {
          return log_walk(name, memory, events);
        };
      }
      if (r.flag) {
        rule.at_end = [this, name = r.name](const Value& memory) {
          return string_of(call("log_end", {{"name", name}, {"memory", to_json(memory)}}),
                           "log_end " + name);
        };
      }
      out.push_back(std::move(rule));
    }
    return out;
  }

  std::vector<ReadModelInvariant> read_model_invariants() const override {
    std::vector<ReadModelInvariant> out;
    for (const RuleDecl& r : d_.read_model_invariants) {
      out.push_back(
          {r.name, r.description, r.about, r.flag, [this, name = r.name](const ReadModel& model) {
             return string_of(
                 call("read_model_check", {{"name", name}, {"model", to_json(Value(model))}}),
                 "read_model_check " + name);
           }});
    }
    return out;
  }

  std::string describe_payload(const Event& event) const override {
    return payload_json(event.payload, event.type).dump();
  }
  std::string describe_command_payload(const Command& command) const override {
    return payload_json(command.payload, command.kind).dump();
  }

 private:
  SagaStep step_of(const Json& json, const std::string& what) const {
    SagaStep step;
    step.action = command_of(member(json, "action", what), what + ".action");
    const auto compensation = json.find("compensation");
    if (compensation != json.end() && !compensation->is_null())
      step.compensation = command_of(*compensation, what + ".compensation");
    return step;
  }

  // ---- folds (docs/protocol.md, "Capabilities") ----

 public:
  // Evolves the queued events of each of `states` into it: in one round
  // trip, or (when the domain's code raised in it) one event at a time, so
  // that what raised is reported as an evolve of that event would have been.
  void fold(std::initializer_list<const ValueState*> states) const {
    std::vector<std::pair<std::string, Json>> calls;
    std::vector<const ValueState*> folding;
    for (const ValueState* s : states) {
      if (s->queued_.empty()) continue;
      calls.emplace_back("fold", fold_args(*s));
      folding.push_back(s);
    }
    if (calls.empty()) return;
    std::vector<std::string> probes;
    std::vector<Json> answers;
    try {
      answers = batch_or_nothing(std::move(calls), probes);
    } catch (const model::ForeignError&) {
      for (const ValueState* s : folding) evolve_one_by_one(*s);
      return;
    }
    for (std::size_t i = 0; i < folding.size(); ++i) folded(*folding[i], answers[i]);
    for (const std::string& p : probes) sim::probe(p);
  }

 private:
  Json fold_args(const ValueState& s) const {
    Json events = Json::array();
    for (const Event& e : s.queued_) events.push_back(event_json(e));
    return Json{{"state", to_json(s.value_)}, {"events", std::move(events)}};
  }

  static void folded(const ValueState& s, const Json& answer) {
    s.value_ = value_of(member(answer, "state", "fold's answer"), "fold's state");
    s.queued_.clear();
  }

  void evolve_one_by_one(const ValueState& s) const {
    const std::vector<Event> events = std::move(s.queued_);
    s.queued_.clear();
    for (const Event& e : events) {
      try {
        s.value_ =
            value_of(call("evolve", {{"state", to_json(s.value_)}, {"event", event_json(e)}}),
                     "evolve's state");
      } catch (const model::ForeignError&) {
        model::rethrow_as_user_failure("evolving with event " + describe(e));  // as call_evolve
      }
    }
  }

  // The answer of `name` (decide, invariant) with `args` and `s`'s state:
  // with its queued events, one `fold` whose `then` is that call.
  Json with_state(const ValueState& s, const std::string& name, Json args) const {
    if (!s.queued_.empty()) {
      Json then = args;
      then["call"] = name;
      Json fold = fold_args(s);
      fold["then"] = std::move(then);
      std::vector<std::string> probes;
      try {
        const std::vector<Json> answers = batch_or_nothing({{"fold", std::move(fold)}}, probes);
        folded(s, answers.front());
        for (const std::string& p : probes) sim::probe(p);
        return member(answers.front(), "then", "fold's answer");
      } catch (const model::ForeignError&) {
        evolve_one_by_one(s);  // then `name` alone, which raises again if it was that
      }
    }
    args["state"] = to_json(s.value_);
    return call(name, std::move(args));
  }

  // events[from, to) as the member "events" of a request: written as JSON
  // text once (not built as a Json), spliced into the request, whose other
  // arguments are moved in, never copied.
  static Client::Spliced spliced_events(const std::vector<Event>& events, std::size_t from,
                                        std::size_t to) {
    Client::Spliced list{0, "events", "["};
    for (std::size_t i = from; i < to; ++i) {
      if (i > from) list.json += ',';
      append_event_json(list.json, events[i]);
    }
    list.json += ']';
    return list;
  }

  // ---- walks (docs/protocol.md, "Capabilities"): what they answer is
  // taken, probes included, only when the domain's code raised in none of
  // their calls; else the checker makes the calls one at a time.

  std::size_t index_of(const Json& answer, const char* key, std::size_t most,
                       const std::string& call) const {
    const Json& at = member(answer, key, call + "'s answer");
    if (!at.is_number_unsigned() || at.get<std::uint64_t>() > most)
      throw HarnessFailure(
          fmt::format("the external domain {} answered `{}` with {} {}, not a "
                      "number from 0 to {} (what it was sent)",
                      client().name(), call, key, at.dump(), most));
    return static_cast<std::size_t>(at.get<std::uint64_t>());
  }

  DecisionModel::Walked model_walk(const std::vector<DecisionModel::Step>& steps) const {
    DecisionModel::Walked walked;
    std::vector<std::string> probes;
    for (std::size_t from = 0; from < steps.size();) {
      const std::size_t to = std::min(steps.size(), from + kFoldMax);
      Json list = Json::array();
      for (std::size_t i = from; i < to; ++i) {
        list.push_back({{"command", command_json(*steps[i].command)},
                        {"accepted", steps[i].accepted},
                        {"apply", steps[i].apply}});
      }
      const Json answer =
          batch_or_nothing(
              {{"model_walk", {{"state", to_json(walked.state)}, {"steps", std::move(list)}}}},
              probes)
              .front();
      const std::size_t agreed = index_of(answer, "agreed", to - from, "model_walk");
      walked.state = value_of(member(answer, "state", "model_walk's answer"), "model_walk's state");
      walked.agreed += agreed;
      if (agreed < to - from) break;
      from = to;
    }
    for (const std::string& p : probes) sim::probe(p);
    return walked;
  }

  std::size_t invariant_walk(const std::string& name, ValueState& s,
                             const std::vector<Event>& events) const {
    fold({&s});  // what it has queued first (a checker walks from the initial state)
    Client::Spliced list = spliced_events(events, 0, events.size());
    std::vector<std::string> probes;
    const Json answer =
        batch_or_nothing({{"invariant_walk", {{"name", name}, {"state", to_json(s.value_)}}}},
                         probes, &list)
            .front();
    const std::size_t at = index_of(answer, "at", events.size(), "invariant_walk " + name);
    s.value_ =
        value_of(member(answer, "state", "invariant_walk's answer"), "invariant_walk's state");
    for (const std::string& p : probes) sim::probe(p);
    return at;
  }

  LogInvariant::Walked log_walk(const std::string& name, Value& memory,
                                const std::vector<Event>& events) const {
    Client::Spliced list = spliced_events(events, 0, events.size());
    std::vector<std::string> probes;
    const Json answer =
        batch_or_nothing({{"log_walk", {{"name", name}, {"memory", to_json(memory)}}}}, probes,
                         &list)
            .front();
    const std::string call = "log_walk " + name;
    LogInvariant::Walked walked;
    walked.at = index_of(answer, "at", events.size(), call);
    walked.broken = string_of(member(answer, "broken", call + "'s answer"), call + "'s broken");
    if ((walked.at < events.size()) == walked.broken.empty())
      throw HarnessFailure(fmt::format(
          "the external domain {} answered `{}` with at {} of {} events and broken \"{}\": a "
          "rule broken at an event says what is wrong, one that held says nothing",
          client().name(), call, walked.at, events.size(), walked.broken));
    memory = value_of(member(answer, "memory", call + "'s answer"), call + "'s memory");
    for (const std::string& p : probes) sim::probe(p);
    return walked;
  }

  // Events through a handler, up to kFoldMax in one `apply_many`, whose one
  // change set is checked as apply's is. When the domain's code raised, the
  // same events go through apply_all(), which reports the event that raised.
  void apply_many(const std::string& handler, bool reads_all, ReadModel& model,
                  const std::vector<Event>& events) const {
    const std::int64_t h = handle(model);
    for (std::size_t from = 0; from < events.size();) {
      const std::size_t to = std::min(events.size(), from + kFoldMax);
      Client::Spliced list = spliced_events(events, from, to);
      const auto args = [&] { return Json{{"handler", handler}, {"model", h}}; };
      const auto load = [&] {
        return std::pair<std::string, Json>(
            "load", Json{{"handler", handler}, {"model", h}, {"value", to_json(Value(model))}});
      };
      std::vector<std::string> probes;
      try {
        std::vector<std::pair<std::string, Json>> calls;
        if (reads_all) calls.push_back(load());
        calls.emplace_back("apply_many", args());
        list.call = calls.size() - 1;
        Json changes = batch_or_nothing(std::move(calls), probes, &list).back();
        if (!saw_the_same(changes, model, handler) && !reads_all) {
          probes.clear();  // a stale copy: what it reached does not count
          list.call = 1;
          changes = batch_or_nothing({load(), {"apply_many", args()}}, probes, &list).back();
        }
        if (!saw_the_same(changes, model, handler))
          throw HarnessFailure(
              fmt::format("handler {} read other values than the read model it "
                          "was loaded with just before",
                          handler));
        write(changes, model, handler);
        for (const std::string& p : probes) sim::probe(p);
      } catch (const model::ForeignError&) {
        apply_all(handler, reads_all, model,
                  std::vector<Event>(events.begin() + static_cast<std::ptrdiff_t>(from),
                                     events.begin() + static_cast<std::ptrdiff_t>(to)));
      }
      from = to;
    }
  }

  std::vector<Json> batch_or_nothing(std::vector<std::pair<std::string, Json>> calls,
                                     std::vector<std::string>& probes,
                                     const Client::Spliced* spliced = nullptr) const {
    Client& c = client();
    try {
      return c.batch_or_nothing(std::move(calls), probes, spliced);
    } catch (const HarnessFailure&) {
      t_clients.erase(id_);
      throw;
    }
  }

  // This thread's process: started and shaken hands with on first use.
  Client& client() const {
    const auto it = t_clients.find(id_);
    if (it != t_clients.end()) return *it->second;
    auto client = std::make_unique<Client>(open_channel(spec_));
    const Json hello = client->call("hello", hello_request());
    if (hello.dump() != hello_)
      throw HarnessFailure(
          fmt::format("the external domain {} declared another domain than the "
                      "first process did",
                      client->name()));
    return *(t_clients[id_] = std::move(client));
  }

  Json call(const std::string& name, Json args) const {
    Client& c = client();
    try {
      return c.call(name, std::move(args));
    } catch (const HarnessFailure&) {
      t_clients.erase(id_);  // started again on next use
      throw;
    }
  }

  // One event through a handler whose read model the process caches.
  void apply(const std::string& handler, bool reads_all, ReadModel& model, const Event& e) const {
    const std::int64_t h = handle(model);
    const Json args{{"handler", handler}, {"model", h}, {"event", event_json(e)}};
    const auto load = [&] {
      call("load", {{"handler", handler}, {"model", h}, {"value", to_json(Value(model))}});
    };
    if (reads_all) load();
    Json changes = call("apply", args);
    if (!saw_the_same(changes, model, handler)) {
      load();
      changes = call("apply", args);
      if (!saw_the_same(changes, model, handler))
        throw HarnessFailure(
            fmt::format("handler {} read other values than the read model it "
                        "was loaded with just before",
                        handler));
    }
    write(changes, model, handler);
  }

  // Events through a handler in batches: each answer is checked against
  // the read model as the answers before it left it; at the first that read
  // something else, the process gets the read model and the rest again.
  void apply_all(const std::string& handler, bool reads_all, ReadModel& model,
                 const std::vector<Event>& events) const {
    const std::int64_t h = handle(model);
    bool loaded = false;
    for (std::size_t from = 0; from < events.size();) {
      std::vector<std::pair<std::string, Json>> calls;
      if (reads_all || loaded) {
        calls.emplace_back(
            "load", Json{{"handler", handler}, {"model", h}, {"value", to_json(Value(model))}});
      }
      const std::size_t to = std::min(events.size(), from + kBatchMax);
      for (std::size_t i = from; i < to; ++i) {
        calls.emplace_back(
            "apply", Json{{"handler", handler}, {"model", h}, {"event", event_json(events[i])}});
      }
      const std::size_t skip = calls.size() - (to - from);  // the load's answer
      const std::vector<Json> answers = batch(std::move(calls));
      std::size_t done = from;
      for (std::size_t i = skip; i < answers.size(); ++i, ++done) {
        if (!saw_the_same(answers[i], model, handler)) break;
        write(answers[i], model, handler);
      }
      if (done == from && (reads_all || loaded))
        throw HarnessFailure(
            fmt::format("handler {} read other values than the read model it "
                        "was loaded with just before",
                        handler));
      loaded = done < to;  // parted: send the read model with the rest
      from = done;
    }
  }

  std::int64_t handle(const ReadModel& model) const {
    return static_cast<std::int64_t>(
        (reinterpret_cast<std::uintptr_t>(&model) / alignof(ReadModel)) % kHandles);
  }

  std::vector<Json> batch(std::vector<std::pair<std::string, Json>> calls) const {
    Client& c = client();
    try {
      return c.batch(std::move(calls));
    } catch (const HarnessFailure&) {
      t_clients.erase(id_);
      throw;
    }
  }

  static void write(const Json& changes, ReadModel& model, const std::string& handler) {
    if (const auto writes = changes.find("writes"); writes != changes.end() && !writes->is_null()) {
      if (!writes->is_object()) throw HarnessFailure("apply's writes: not an object");
      for (const auto& [key, value] : writes->items())
        model[key] = value_of(value, fmt::format("{}'s write of \"{}\"", handler, key));
    }
    if (const auto deletes = changes.find("deletes");
        deletes != changes.end() && !deletes->is_null()) {
      if (!deletes->is_array()) throw HarnessFailure("apply's deletes: not a list");
      for (const Json& key : *deletes) model.erase(string_of(key, "apply's deletes[]"));
    }
  }

  // Whether what the handler read is what `model` holds.
  static bool saw_the_same(const Json& changes, const ReadModel& model,
                           const std::string& handler) {
    if (!changes.is_object()) throw HarnessFailure("apply of " + handler + ": not an object");
    if (const auto reads = changes.find("reads"); reads != changes.end() && !reads->is_null()) {
      if (!reads->is_object()) throw HarnessFailure("apply's reads: not an object");
      for (const auto& [key, value] : reads->items()) {
        const auto it = model.find(key);
        if (it == model.end() || it->second != value_of(value, "apply's reads")) return false;
      }
    }
    if (const auto absent = changes.find("absent"); absent != changes.end() && !absent->is_null()) {
      if (!absent->is_array()) throw HarnessFailure("apply's absent: not a list");
      for (const Json& key : *absent) {
        if (model.contains(string_of(key, "apply's absent[]"))) return false;
      }
    }
    return true;
  }

  ExternalSpec spec_;
  std::uint64_t id_;
  std::string hello_;
  Declaration d_;
  // Whether essim sends independent calls in one line (a checker's decides
  // on two states, its old writings, its upcasts): ESSIM_EXTERNAL_BATCHES=0
  // sends each alone (docs/protocol.md, "Batches"), for an SDK's author to
  // tell a batch's fault from a call's, and for the tests that require the
  // same findings either way.
  bool batches_ = batches_wanted();
  Value initial_;
};

bool ValueState::equals(const AggregateState& other) const {
  const auto* o = dynamic_cast<const ValueState*>(&other);
  if (o == nullptr) return false;
  domain_->fold({this, o});
  return o->value_ == value_;
}

std::string ValueState::describe() const {
  try {
    return value().to_json();
  } catch (const HarnessFailure&) {
    throw;
  } catch (const std::exception& e) {  // evidence only: say what was there
    return fmt::format("{} (evolving it further threw: {})", value_.to_json(), e.what());
  }
}

const Value& ValueState::value() const {
  domain_->fold({this});
  return value_;
}

void ValueState::queue(const Event& event) {
  if (queued_.size() >= kFoldMax) domain_->fold({this});
  queued_.push_back(event);
}

}  // namespace

std::unique_ptr<model::Domain> open_external(const ExternalSpec& spec) {
  auto client = std::make_unique<Client>(open_channel(spec));
  const std::string name = client->name();
  try {
    const Json hello = client->call("hello", hello_request());
    return std::make_unique<ExternalDomain>(spec, std::move(client), hello);
  } catch (const model::ForeignError& e) {  // the domain cannot be set up
    throw HarnessFailure(fmt::format("the external domain {} raised {} while shaking hands: {}\n{}",
                                     name, e.type(), e.what(), e.traceback()));
  }
}

}  // namespace essim::external
