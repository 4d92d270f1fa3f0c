#include "model/client.h"

#include <algorithm>
#include <tuple>

#include <fmt/format.h>

#include "model/codec.h"
#include "model/log.h"
#include "model/probes.h"
#include "model/trace_notes.h"
#include "sim/assert.h"
#include "sim/probe.h"

namespace essim::model {

namespace {
constexpr std::uint32_t kReadBatch = 256;
// How far back a confirming read starts (an append of more events reads again from 1).
constexpr std::uint64_t kConfirmFrom = 16;
constexpr std::uint32_t kSagaRetriesMax = 50;
constexpr Micros kSagaBackoffUs = 50'000;

CommandId derived_id(std::string_view saga, std::uint32_t step, bool compensation) {
  const std::uint64_t base = sim::hash_label(saga);
  return CommandId{base, sim::fold_hash(base, (std::uint64_t{step} << 1) | (compensation ? 1 : 0))};
}

void write_command(Writer& w, const Command& c) {
  w.string(c.kind);
  w.string(c.stream);
  w.bytes(c.payload);
}

Command read_command(Reader& r) {
  Command c;
  c.kind = r.string();
  c.stream = r.string();
  c.payload = r.bytes();
  return c;
}
}  // namespace

void WorkLog::script(std::vector<PlannedWork> work) {
  std::sort(work.begin(), work.end());
  script_ = std::move(work);
  scripted_ = true;
}

const PlannedWork* WorkLog::find(std::uint32_t client, Micros at_us) const {
  const auto it =
      std::lower_bound(script_.begin(), script_.end(), PlannedWork{client, at_us, "", 0},
                       [](const PlannedWork& a, const PlannedWork& b) {
                         return std::tie(a.client, a.at_us) < std::tie(b.client, b.at_us);
                       });
  if (it == script_.end() || it->client != client || it->at_us != at_us) return nullptr;
  return &*it;
}

// One command being carried out: load, decide, append.
struct ClientNode::Exec {
  Command command;
  CommandId command_id;
  std::uint64_t op = 0;
  // kConfirm: a saga step's append was answered as a replay of an earlier
  // one, whose events may differ from the ones decided now: read them back.
  // kKey: asking the key store for the key of `key_subject`.
  enum class Phase { kSnapshot, kRead, kKey, kAppend, kConfirm } phase = Phase::kSnapshot;
  std::unique_ptr<AggregateState> state;
  std::uint64_t version = 0;
  std::uint64_t read_from = 1;
  std::uint32_t timeouts = 0;
  std::uint32_t conflicts = 0;
  std::uint32_t append_sends = 0;  // of the current decision
  Micros append_first_sent_us = 0;
  std::uint64_t request_id = 0;
  AppendRequest append;
  std::vector<Event> plain;  // the events as decided, before their personal data was sealed
  std::string key_subject;
  // Subject keys learnt for this command (never kept past it: a key must
  // not outlive its forget in a writer's memory), and subjects forgotten.
  std::map<std::string, Bytes, std::less<>> keys;
  std::set<std::string, std::less<>> forgotten;
  bool in_saga = false;
  AppendReply replayed;          // kConfirm: the answer being confirmed
  std::vector<NewEvent> stored;  // kConfirm: the events that answer appended
};

// A saga in progress, as journaled.
struct ClientNode::SagaRun {
  Saga saga;
  std::string kind;
  std::uint64_t op = 0;
  std::uint32_t step = 0;
  bool compensating = false;
  std::vector<bool> done;
  std::vector<StepOutcome> outcomes;  // by step: what a completed step appended
  std::uint32_t retries = 0;
  // The current step came from the journal: an earlier incarnation may have
  // run it, so not reaching the store now says nothing about whether it did.
  bool resumed = false;
};

ClientNode::ClientNode(ClientConfig config) : config_(std::move(config)) {
  ESSIM_ASSERT_MSG(config_.domain != nullptr, "a client needs a domain");
  ESSIM_ASSERT_MSG(config_.history != nullptr, "a client needs a history");
  ESSIM_ASSERT_MSG(config_.interval_us > 0, "a client's interval must be positive");
}

ClientNode::~ClientNode() = default;

bool ClientNode::idle() const {
  return exec_ == nullptr && saga_ == nullptr;
}

// Every entry point (start, message, timer) runs guarded: user code that
// throws fail-stops the client (see guarded() for why).
void ClientNode::on_start(sim::Env& env) {
  next_request_id_ = env.rng().next() >> 16;  // fresh per incarnation
  if (!guarded(env, config_.user_failures, [&] {
        known_ = KnownEvents(*config_.domain);
        if (config_.keys != sim::kNoNode) personal_ = PersonalIndex(*config_.domain);
      }))
    return;
  if (!load_journal(env)) return;
  if (saga_ && !guarded(env, config_.user_failures, [&] { run_saga_step(env); })) return;
  const Micros wait = std::max<Micros>(0, config_.start_at_us - env.now());
  env.set_timer(wait + env.rng().between(0, config_.interval_us), [this](sim::Env& e) { tick(e); });
}

void ClientNode::tick(sim::Env& env) {
  guarded(env, config_.user_failures, [&] { start_work(env); });
}

void ClientNode::start_work(sim::Env& env) {
  if (env.now() >= config_.stop_at_us) return;
  env.set_timer(config_.interval_us, [this](sim::Env& e) { tick(e); });
  if (!idle()) return;
  const WorkWeight* chosen = draw_weighted(config_.mix, env.rng());
  if (chosen == nullptr) return;
  // Drawn whatever a script says, so scripted runs keep the draws of the run
  // they were recorded from.
  PlannedWork planned{config_.index, env.now(), chosen->kind, env.rng().next()};
  if (config_.work_log != nullptr) {
    if (config_.work_log->scripted()) {
      const PlannedWork* scripted = config_.work_log->find(config_.index, env.now());
      if (scripted == nullptr) return;
      planned = *scripted;
    }
    config_.work_log->record(planned);
  }
  sim::Rng generator(planned.seed);
  Work work = call_generate(*config_.domain, planned.kind, generator);
  if (auto* saga = std::get_if<Saga>(&work)) {
    start_saga(env, std::move(*saga));
    saga_->kind = planned.kind;
    if (!save_journal(env)) return;
    run_saga_step(env);
  } else {
    start_command(env, std::get<Command>(work), random_id(env.rng()), planned.kind);
  }
}

// ---- one command ----

void ClientNode::start_command(sim::Env& env, const Command& command, const CommandId& id,
                               const std::string& kind) {
  exec_ = std::make_unique<Exec>();
  exec_->command = command;
  exec_->command_id = id;
  exec_->in_saga = saga_ != nullptr;
  exec_->op = config_.history->invoke(config_.index, env.now(), kind, command.stream, id, command);
  load(env);
}

void ClientNode::load(sim::Env& env) {
  exec_->state = call_initial(*config_.domain);
  exec_->version = 0;
  if (config_.snapshot_every == 0) {
    read_stream(env, 1);
    return;
  }
  exec_->phase = Exec::Phase::kSnapshot;
  send_current(env);
}

void ClientNode::read_stream(sim::Env& env, std::uint64_t from_version) {
  exec_->phase = Exec::Phase::kRead;
  exec_->read_from = from_version;
  send_current(env);
}

// (Re)sends the request of the current phase, with a fresh request id.
void ClientNode::send_current(sim::Env& env) {
  Exec& x = *exec_;
  x.request_id = next_request_id_++;
  switch (x.phase) {
    case Exec::Phase::kSnapshot:
      encode_into(SnapshotLoadRequest{x.request_id, x.command.stream}, scratch_);
      break;
    case Exec::Phase::kRead:
    case Exec::Phase::kConfirm:
      encode_into(ReadStreamRequest{x.request_id, x.command.stream, x.read_from, kReadBatch},
                  scratch_);
      break;
    case Exec::Phase::kKey:
      encode_into(KeyRequest{x.request_id, x.key_subject, true}, scratch_);
      break;
    case Exec::Phase::kAppend:
      if (x.append_sends++ == 0) x.append_first_sent_us = env.now();
      x.append.request_id = x.request_id;
      encode_into(x.append, scratch_);
      break;
  }
  env.send(x.phase == Exec::Phase::kKey ? config_.keys : config_.store, scratch_);
  arm_timeout(env);
}

void ClientNode::arm_timeout(sim::Env& env) {
  const std::uint64_t request_id = exec_->request_id;
  env.set_timer(config_.request_timeout_us, [this, request_id](sim::Env& e) {
    guarded(e, config_.user_failures, [&] { on_timeout(e, request_id); });
  });
}

void ClientNode::on_timeout(sim::Env& env, std::uint64_t request_id) {
  if (!exec_ || exec_->request_id != request_id) return;
  Exec& x = *exec_;
  if (++x.timeouts > config_.max_timeouts) {
    const bool maybe_written = x.phase == Exec::Phase::kAppend ||
                               x.phase == Exec::Phase::kConfirm ||
                               (x.in_saga && saga_ && saga_->resumed);
    finish(env, {maybe_written ? HistoryEntry::Type::kInfo : HistoryEntry::Type::kFail,
                 fmt::format("timed out {} times{}", x.timeouts - 1,
                             maybe_written                  ? " appending; it may have happened"
                             : x.phase == Exec::Phase::kKey ? " asking the key store for a key"
                                                            : " reading")});
    return;
  }
  if (x.phase == Exec::Phase::kAppend) sim::probe(probes::kAppendTimedOut);
  sim::count("retries");
  if (x.phase == Exec::Phase::kAppend && config_.bugs.has(Bug::kRetryWithoutCommandId)) {
    // The bug: the retry is a new command to the store.
    x.append.command_id = CommandId{};
    for (Event& e : x.append.events) e.id = random_id(env.rng());
  }
  send_current(env);
}

void ClientNode::decide(sim::Env& env) {
  Exec& x = *exec_;
  auto decided = call_decide(*config_.domain, *x.state, x.command);
  if (!decided.ok()) {
    finish(env, {HistoryEntry::Type::kFail, decided.error().message, 0, x.version, 0, true});
    return;
  }
  const std::vector<NewEvent>& events = decided.value();
  if (events.empty()) {  // already done: an idempotent step
    finish(env, {HistoryEntry::Type::kOk, "nothing to do", 0, x.version, 0, true});
    return;
  }
  x.append = AppendRequest{};
  x.append.stream = x.command.stream;
  x.append.expected_version = static_cast<std::int64_t>(x.version);
  x.append.command_id = x.command_id;
  const EventId correlation{x.command_id.hi, x.command_id.lo ^ 1};
  for (const NewEvent& n : events) {
    Event e;
    e.id = random_id(env.rng());
    e.type = n.type;
    e.schema_version = n.schema_version;
    e.payload = n.payload;
    e.metadata.recorded_at_us = env.now();
    e.metadata.actor = fmt::format("client-{}", config_.index);
    e.metadata.causation_id = x.command_id;
    e.metadata.correlation_id = correlation;
    x.append.events.push_back(std::move(e));
  }
  if (!personal_.empty()) {
    x.plain = x.append.events;
    // The stream is the append's, not each event's (on the wire); the
    // domain may name the subject by it.
    for (Event& e : x.plain) e.stream = x.command.stream;
    record_personal(x.plain);
    seal_and_append(env);
    return;
  }
  x.phase = Exec::Phase::kAppend;
  x.append_sends = 0;
  send_current(env);
}

// The oracle's record of every personal value decided (the domain's own
// reading of its events), whatever happens to it next.
void ClientNode::record_personal(const std::vector<Event>& events) {
  if (config_.ledger == nullptr) return;
  for (const Event& e : events) {
    const PersonalData* data = personal_.find(e.type);
    if (data == nullptr) continue;
    const std::string subject = personal_subject(*data, e);
    std::size_t field = 0;
    (void)rewrite_personal(*data, e, [&](const std::string& value) {
      ++field;
      if (!seals_for(value, subject)) {
        config_.ledger->sealed[subject].insert(value);
        config_.ledger->origins.try_emplace(value,
                                            fmt::format("{}, personal value {}", e.type, field));
      }
      return value;
    });
  }
}

void ClientNode::seal_and_append(sim::Env& env) {
  Exec& x = *exec_;
  for (const Event& e : x.plain) {
    const PersonalData* data = personal_.find(e.type);
    if (data == nullptr) continue;
    std::string subject = personal_subject(*data, e);
    if (subject.empty() || x.keys.contains(subject) || x.forgotten.contains(subject)) continue;
    x.phase = Exec::Phase::kKey;
    x.key_subject = std::move(subject);
    send_current(env);
    return;
  }
  for (std::size_t i = 0; i < x.plain.size(); ++i) {
    const Event& e = x.plain[i];
    const PersonalData* data = personal_.find(e.type);
    if (data == nullptr) continue;
    const std::string subject = personal_subject(*data, e);
    if (subject.empty()) continue;
    const auto key = x.keys.find(subject);
    std::uint32_t field = 0;
    x.append.events[i].payload = rewrite_personal(*data, e, [&](const std::string& value) {
      // Sealed already (a token the decider copied from the state): as it is.
      if (seals_for(value, subject)) return value;
      // Forgotten before it was written: the value is never stored.
      if (key == x.keys.end()) return std::string(kForgotten);
      return seal_value(subject, key->second, e.id, field++, value);
    });
  }
  x.phase = Exec::Phase::kAppend;
  x.append_sends = 0;
  send_current(env);
}

void ClientNode::on_message(sim::Env& env, const sim::Message& m) {
  auto decoded = decode(m.bytes);
  if (!decoded.ok()) {
    env.log("client: dropped an undecodable message: " + decoded.error().message);
    return;
  }
  if (exec_) guarded(env, config_.user_failures, [&] { on_reply(env, decoded.value()); });
}

void ClientNode::on_reply(sim::Env& env, const Message& message) {
  Exec& x = *exec_;
  if (const auto* s = std::get_if<SnapshotLoadReply>(&message)) {
    if (s->request_id != x.request_id || x.phase != Exec::Phase::kSnapshot) return;
    std::uint64_t from = 1;
    if (s->found) {
      auto state = call_decode_state(*config_.domain, s->state, x.command.stream);
      if (state.ok()) {
        sim::probe(probes::kSnapshotUsed);
        x.state = std::move(state).value();
        x.version = s->version;
        // The bug replays the snapshot's own event once more.
        from = config_.bugs.has(Bug::kSnapshotOffByOne) ? s->version : s->version + 1;
      }
    }
    read_stream(env, std::max<std::uint64_t>(from, 1));
  } else if (const auto* r = std::get_if<ReadStreamReply>(&message)) {
    if (r->request_id != x.request_id) return;
    if (x.phase == Exec::Phase::kConfirm) return on_confirm(env, *r);
    if (x.phase != Exec::Phase::kRead) return;
    Event scratch;
    for (const Event& e : r->events) {
      if (!known_.knows(e.type)) {
        env.note(notes::kUnknownEventType, e.position, e.version);
        env.log(
            fmt::format("client: {} has an event of type '{}', unknown to the {} domain; "
                        "skipped",
                        describe(e), e.type, config_.domain->name()));
      }
      call_evolve(*config_.domain, *x.state, latest(*config_.domain, e, config_.bugs, scratch));
      x.version = std::max(x.version, e.version);
    }
    if (r->events.size() >= kReadBatch) {
      read_stream(env, x.version + 1);
    } else {
      decide(env);
    }
  } else if (const auto* k = std::get_if<KeyReply>(&message)) {
    if (k->request_id != x.request_id || x.phase != Exec::Phase::kKey ||
        k->subject != x.key_subject)
      return;
    if (k->status == KeyReply::Status::kKey && k->key.size() == kSubjectKeyBytes) {
      x.keys[k->subject] = k->key;
    } else if (k->status == KeyReply::Status::kForgotten) {
      x.forgotten.insert(k->subject);
    } else {
      finish(env, {HistoryEntry::Type::kFail, "the key store gave no key for " + k->subject});
      return;
    }
    seal_and_append(env);
  } else if (const auto* a = std::get_if<AppendReply>(&message)) {
    if (a->request_id != x.request_id || x.phase != Exec::Phase::kAppend) return;
    switch (a->status) {
      case AppendStatus::kOk: {
        if (x.append_sends > 1) sim::probe(probes::kAppendAckedAfterRetry);
        sim::observe("append_latency_us",
                     static_cast<std::uint64_t>(env.now() - x.append_first_sent_us));
        if (a->replayed && x.in_saga) {
          // The next step may be planned from these events: read back the
          // ones the store holds, not the ones decided this time.
          x.replayed = *a;
          x.phase = Exec::Phase::kConfirm;
          x.read_from = a->stream_version > kConfirmFrom ? a->stream_version - kConfirmFrom : 1;
          send_current(env);
          return;
        }
        const auto count = static_cast<std::uint32_t>(x.append.events.size());
        if (config_.snapshot_every > 0 &&
            a->stream_version / config_.snapshot_every > x.version / config_.snapshot_every) {
          std::uint64_t version = x.version;
          // The bug evolves the events as decided, their personal data in plaintext.
          const bool plain = config_.bugs.has(Bug::kSnapshotKeepsPlaintext) && !x.plain.empty();
          for (Event e : plain ? x.plain : x.append.events) {
            e.version = ++version;
            call_evolve(*config_.domain, *x.state, upcasted(*config_.domain, e, config_.bugs));
          }
          if (version == a->stream_version) {
            SnapshotSave save{x.command.stream, version, {}};
            call_user([&] { return "encoding a snapshot of " + save.stream; },
                      [&] { x.state->encode(save.state); });
            encode_into(save, scratch_);
            env.send(config_.store, scratch_);
          }
        }
        finish(env, {HistoryEntry::Type::kOk, a->replayed ? "replayed" : "", a->first_position,
                     a->stream_version, count});
        return;
      }
      case AppendStatus::kConflict:
        if (++x.conflicts > config_.max_conflicts) {
          finish(env, {HistoryEntry::Type::kFail,
                       fmt::format("{} concurrency conflicts in a row", x.conflicts)});
          return;
        }
        sim::probe(probes::kConflictRetried);
        sim::count("conflicts");
        load(env);
        return;
      case AppendStatus::kRejected: {
        // A refusal settles nothing when the store was only busy (a copy of
        // this send that the network made, or an earlier send, may land
        // later) or found its log corrupt (it refuses before asking its
        // command table: a send may have landed before): the outcome is
        // unknown, as after a timeout, and a saga settles such a step by
        // retrying it under its command id. Any other refusal (an append
        // without events, say) would have met every send alike.
        const bool may_happen = a->message == kStoreOverloaded || a->message == kStoreCorrupt;
        finish(env, {may_happen ? HistoryEntry::Type::kInfo : HistoryEntry::Type::kFail,
                     "rejected: " + a->message + (may_happen ? "; it may still happen" : "")});
        return;
      }
    }
  }
}

void ClientNode::on_confirm(sim::Env& env, const ReadStreamReply& reply) {
  Exec& x = *exec_;
  const AppendReply& a = x.replayed;
  for (const Event& e : reply.events) {
    if (e.position < a.first_position || e.version > a.stream_version) continue;
    if (x.stored.empty() && e.position != a.first_position && x.read_from > 1) {
      // The earlier append had more events than we looked back for.
      x.read_from = 1;
      send_current(env);
      return;
    }
    x.stored.push_back({e.type, e.schema_version, e.payload});
  }
  const bool more =
      reply.events.size() >= kReadBatch && reply.events.back().version < a.stream_version;
  if (more) {
    x.read_from = reply.events.back().version + 1;
    send_current(env);
    return;
  }
  finish(env, {HistoryEntry::Type::kOk, "replayed", a.first_position, a.stream_version,
               static_cast<std::uint32_t>(x.stored.size())});
}

void ClientNode::finish(sim::Env& env, const Outcome& outcome) {
  const std::unique_ptr<Exec> x = std::move(exec_);
  config_.history->complete(x->op, outcome.type, env.now(), outcome.detail, outcome.first_position,
                            outcome.stream_version, outcome.events, outcome.decided);
  if (!x->in_saga || !saga_) return;
  Outcome with_events = outcome;
  if (outcome.type == HistoryEntry::Type::kOk && x->phase == Exec::Phase::kConfirm) {
    with_events.appended = x->stored;
  } else if (outcome.type == HistoryEntry::Type::kOk) {
    for (const Event& e : x->append.events)
      with_events.appended.push_back({e.type, e.schema_version, e.payload});
  }
  on_saga_step(env, with_events);
}

// ---- sagas ----

void ClientNode::start_saga(sim::Env& env, Saga saga) {
  saga_ = std::make_unique<SagaRun>();
  saga_->done.assign(saga.steps.size(), false);
  saga_->outcomes.assign(saga.steps.size(), {});
  saga_->op = config_.history->invoke(config_.index, env.now(), "saga", "saga-" + saga.id,
                                      derived_id(saga.id, 0xffff, false));
  saga_->saga = std::move(saga);
}

void ClientNode::run_saga_step(sim::Env& env) {
  SagaRun& s = *saga_;
  const SagaStep& step = s.saga.steps[s.step];
  const Command& command = s.compensating ? *step.compensation : step.action;
  start_command(env, command, derived_id(s.saga.id, s.step, s.compensating),
                s.kind + "/" + command.kind);
}

void ClientNode::retry_saga_step(sim::Env& env) {
  guarded(env, config_.user_failures, [&] {
    if (saga_ && !exec_) run_saga_step(env);
  });
}

void ClientNode::on_saga_step(sim::Env& env, const Outcome& outcome) {
  SagaRun& s = *saga_;
  s.resumed = false;
  const bool ok = outcome.type == HistoryEntry::Type::kOk;
  if (s.compensating) {
    if (!ok) {
      if (++s.retries > kSagaRetriesMax) {
        return end_saga(env, HistoryEntry::Type::kInfo, "a compensation keeps failing");
      }
      env.set_timer(kSagaBackoffUs, [this](sim::Env& e) { retry_saga_step(e); });
      return;
    }
    s.retries = 0;
    s.done[s.step] = false;
    // The next completed step back, if any.
    std::uint32_t from = s.step;
    bool found = false;
    while (from > 0 && !found) {
      --from;
      found = s.done[from] && s.saga.steps[from].compensation.has_value();
    }
    if (!found) return end_saga(env, HistoryEntry::Type::kFail, "compensated");
    s.step = from;
    if (!save_journal(env)) return;
    return run_saga_step(env);
  }
  if (ok) {
    s.retries = 0;
    s.done[s.step] = true;
    s.outcomes[s.step].events = outcome.appended;
    if (++s.step == s.saga.steps.size() && !plan_next_step()) {
      return end_saga(env, HistoryEntry::Type::kOk, "");
    }
    if (!save_journal(env)) return;
    return run_saga_step(env);
  }
  const bool timed_out = outcome.type == HistoryEntry::Type::kInfo;
  if (timed_out && config_.bugs.has(Bug::kSagaWithoutCompensation)) {
    return end_saga(env, HistoryEntry::Type::kInfo, "abandoned after a step of unknown outcome");
  }
  // A step that timed out (or was refused without settling anything, see
  // on_reply) may have happened, and its request may still be on its way. It
  // counts as done from now on (if the saga turns back, it is undone too:
  // compensations are idempotent), and it is settled before the saga turns
  // back: compensating at once could come before the request lands (a debit
  // delayed in the network landing after its refund). Retrying it under the
  // same command id settles it: the store answers from its command table if it
  // happened, and the late copy finds it there. Only a step that keeps failing
  // is compensated without knowing.
  if (timed_out && !s.done[s.step]) {
    s.done[s.step] = true;
    if (!save_journal(env)) return;
  }
  const bool may_have_happened = s.done[s.step];
  const bool reversible = s.saga.steps[s.step].compensation.has_value();
  if (may_have_happened && reversible && s.retries < kSagaRetriesMax) {
    ++s.retries;
    env.set_timer(kSagaBackoffUs, [this](sim::Env& e) { retry_saga_step(e); });
    return;
  }
  // Past a step that cannot be undone, the only way is forward. So too for a
  // step that cannot be undone and may have happened: retrying it under its
  // command id (the store answers a repeat from its command table) settles
  // whether it did.
  bool pivot_passed = may_have_happened && !reversible;
  for (std::uint32_t i = 0; i < s.step; ++i) {
    if (s.done[i] && !s.saga.steps[i].compensation) pivot_passed = true;
  }
  if (pivot_passed) {
    if (++s.retries > kSagaRetriesMax) {
      return end_saga(env, HistoryEntry::Type::kInfo, "stuck: a step keeps failing");
    }
    env.set_timer(kSagaBackoffUs, [this](sim::Env& e) { retry_saga_step(e); });
    return;
  }
  // Undo what was done, last first, this step too if it may have happened.
  s.retries = 0;
  s.compensating = true;
  std::uint32_t from = may_have_happened ? s.step + 1 : s.step;
  bool found = false;
  while (from > 0 && !found) {
    --from;
    found = s.done[from] && s.saga.steps[from].compensation.has_value();
  }
  if (!found) return end_saga(env, HistoryEntry::Type::kFail, outcome.detail);
  sim::probe(probes::kSagaCompensated);
  s.step = from;
  if (!save_journal(env)) return;
  run_saga_step(env);
}

bool ClientNode::plan_next_step() {
  SagaRun& s = *saga_;
  if (s.saga.steps.size() >= kSagaStepsMax) return false;
  std::optional<SagaStep> next = call_next_step(*config_.domain, s.saga, s.outcomes);
  if (!next) return false;
  s.saga.steps.push_back(std::move(*next));
  s.done.push_back(false);
  s.outcomes.emplace_back();
  return true;
}

void ClientNode::end_saga(sim::Env& env, HistoryEntry::Type type, std::string detail) {
  // The journal goes first: a client that fail-stops here resumes the saga
  // after its restart, so the saga must not be complete yet.
  if (!env.replace_durably(kSagaJournalFile, {})) return;
  config_.history->complete(saga_->op, type, env.now(), std::move(detail));
  saga_.reset();
}

bool ClientNode::save_journal(sim::Env& env) {
  const SagaRun& s = *saga_;
  Bytes out;
  Writer w(out);
  w.string(s.saga.id);
  w.string(s.kind);
  w.varint(s.op);
  w.varint(s.step);
  w.boolean(s.compensating);
  w.varint(s.saga.steps.size());
  for (std::size_t i = 0; i < s.saga.steps.size(); ++i) {
    const SagaStep& step = s.saga.steps[i];
    write_command(w, step.action);
    w.boolean(step.compensation.has_value());
    if (step.compensation) write_command(w, *step.compensation);
    w.boolean(s.done[i]);
    w.varint(s.outcomes[i].events.size());
    for (const NewEvent& e : s.outcomes[i].events) {
      w.string(e.type);
      w.varint(e.schema_version);
      w.bytes(e.payload);
    }
  }
  return write_single_record(env, kSagaJournalFile, out);
}

bool ClientNode::load_journal(sim::Env& env) {
  auto& disk = env.storage();
  if (!disk.exists(kSagaJournalFile)) return true;
  const std::optional<Bytes> read = read_single_record(disk, kSagaJournalFile);
  if (!read) {
    env.fail_stop(
        fmt::format("recovery: no read of {} could be trusted (reads disagree)", kSagaJournalFile));
    return false;
  }
  if (read->empty()) return true;
  Reader r(single_record_body(*read));
  auto s = std::make_unique<SagaRun>();
  s->saga.id = r.string();
  s->kind = r.string();
  s->op = r.varint();
  s->step = static_cast<std::uint32_t>(r.varint());
  s->compensating = r.boolean();
  const std::size_t n = r.count(4);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    SagaStep step;
    step.action = read_command(r);
    if (r.boolean()) step.compensation = read_command(r);
    s->saga.steps.push_back(std::move(step));
    s->done.push_back(r.boolean());
    StepOutcome outcome;
    const std::size_t events = r.count(3);
    for (std::size_t k = 0; k < events && r.ok(); ++k) {
      NewEvent e;
      e.type = r.string();
      e.schema_version = static_cast<std::uint32_t>(r.varint());
      e.payload = r.bytes();
      outcome.events.push_back(std::move(e));
    }
    s->outcomes.push_back(std::move(outcome));
  }
  if (!r.ok() || !r.at_end() || s->step >= s->saga.steps.size() ||
      (s->compensating && !s->saga.steps[s->step].compensation)) {
    env.log("client: the saga journal is unreadable; the saga stays unfinished");
    env.note(notes::kSagaJournalUnreadable, 0, 0);
    return true;
  }
  env.note(notes::kSagaResumed, s->step, s->compensating ? 1 : 0);
  s->resumed = true;
  saga_ = std::move(s);
  return true;
}

}  // namespace essim::model
