#include "model/projection.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/codec.h"
#include "model/log.h"
#include "model/probes.h"
#include "model/trace_notes.h"
#include "sim/assert.h"
#include "sim/probe.h"

namespace essim::model {

std::string_view to_string(Dedup dedup) {
  switch (dedup) {
    case Dedup::kNone:
      return "none";
    case Dedup::kEventId:
      return "event-id";
    case Dedup::kAtomicCheckpoint:
      return "atomic-checkpoint";
  }
  return "unknown";
}

std::optional<Dedup> dedup_by_name(std::string_view name) {
  for (const Dedup d : {Dedup::kNone, Dedup::kEventId, Dedup::kAtomicCheckpoint}) {
    if (to_string(d) == name) return d;
  }
  return std::nullopt;
}

bool SeenIds::contains(const EventId& id) const {
  return std::find(ids.begin(), ids.end(), id) != ids.end();
}

void SeenIds::add(const EventId& id) {
  if (ids.size() < kSeenIdsPerStream) {
    ids.push_back(id);
    return;
  }
  ids[next] = id;
  next = static_cast<std::uint32_t>((next + 1) % kSeenIdsPerStream);
}

namespace {

void write_checkpoint(Writer& w, const ProjectionState& s) {
  w.varint(s.applied.size());
  for (const auto& [stream, version] : s.applied) {
    w.string(stream);
    w.varint(version);
  }
  w.varint(s.seen.size());
  for (const auto& [stream, seen] : s.seen) {
    w.string(stream);
    w.varint(seen.ids.size());
    for (const EventId& id : seen.ids) w.id(id);
    w.varint(seen.next);
  }
  w.varint(s.events_applied);
}

void read_checkpoint(Reader& r, ProjectionState& s) {
  const std::size_t streams = r.count(2);
  for (std::size_t i = 0; i < streams && r.ok(); ++i) {
    std::string stream = r.string();
    s.applied[stream] = r.varint();
  }
  const std::size_t seen_streams = r.count(3);
  for (std::size_t i = 0; i < seen_streams && r.ok(); ++i) {
    std::string stream = r.string();
    SeenIds seen;
    const std::size_t ids = r.count(16);
    if (ids > kSeenIdsPerStream) r.fail("more seen ids for a stream than it keeps");
    for (std::size_t k = 0; k < ids && r.ok(); ++k) seen.ids.push_back(r.id());
    const std::uint64_t next = r.varint();
    if (next >= kSeenIdsPerStream || (next != 0 && ids < kSeenIdsPerStream))
      r.fail("a seen-id ring position out of range");
    seen.next = static_cast<std::uint32_t>(next);
    if (r.ok()) s.seen[stream] = std::move(seen);
  }
  s.events_applied = r.varint();
}

void read_state(Reader& r, ProjectionState& s) {
  auto model = essim::decode_read_model(r);
  if (!model) {
    r.fail(model.error().message);
    return;
  }
  s.model = std::move(model).value();
  read_checkpoint(r, s);
}

}  // namespace

void encode_projection_state(const ProjectionState& state, Bytes& out) {
  encode_read_model(state.model, out);
  Writer w(out);
  write_checkpoint(w, state);
}

sim::Result<ProjectionState> decode_projection_state(ByteView bytes) {
  Reader r(bytes);
  ProjectionState s;
  read_state(r, s);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return sim::Error{"bad projection state: " + r.error()};
  return s;
}

ProjectionNode::ProjectionNode(ProjectionConfig config) : config_(config) {
  ESSIM_ASSERT_MSG(config_.domain != nullptr, "a projection needs a domain");
  ESSIM_ASSERT_MSG(config_.handler != nullptr, "a projection needs a handler");
  if (config_.bugs.has(Bug::kProjectionNoDedup)) config_.dedup = Dedup::kNone;
}

std::size_t ProjectionNode::waiting() const {
  std::size_t n = 0;
  for (const auto& [stream, events] : waiting_) n += events.size();
  return n;
}

std::optional<std::pair<std::string, std::uint64_t>> ProjectionNode::first_gap() const {
  for (const auto& [stream, events] : waiting_) {
    if (events.empty()) continue;
    const auto it = state_.applied.find(stream);
    return std::pair{stream, (it == state_.applied.end() ? 0 : it->second) + 1};
  }
  return std::nullopt;
}

bool ProjectionNode::journaled() const {
  return !config_.bugs.has(Bug::kCheckpointBeforeReadModel) &&
         !config_.bugs.has(Bug::kReadModelWithoutCheckpoint);
}

bool ProjectionNode::load(sim::Env& env) {
  if (journaled()) return load_journaled(env);
  auto& disk = env.storage();
  if (disk.exists(kProjectionModelFile)) {
    auto bytes = disk.read_all(kProjectionModelFile);
    if (bytes.ok()) {
      auto model = decode_read_model(bytes.value());
      if (model.ok()) state_.model = std::move(model).value();
    }
  }
  if (disk.exists(kProjectionCheckpointFile)) {
    auto bytes = disk.read_all(kProjectionCheckpointFile);
    if (bytes.ok()) {
      Reader r(bytes.value());
      ProjectionState checkpoint;
      read_checkpoint(r, checkpoint);
      if (r.ok()) {
        state_.applied = std::move(checkpoint.applied);
        state_.seen = std::move(checkpoint.seen);
        state_.events_applied = checkpoint.events_applied;
      }
    }
  }
  return true;
}

bool ProjectionNode::load_journaled(sim::Env& env) {
  auto& disk = env.storage();
  // Never serve a read model we cannot trust: start over (the next flush
  // writes a whole state file), and report it loudly, since the bus
  // redelivers only from our acknowledged position.
  const auto start_over = [&](const std::string& why) {
    env.note(notes::kProjectionStateUnreadable, 0, 0);
    env.log("projection: " + why);
    state_ = {};
    compact_next_ = true;
    return drop_journal(env);
  };
  // Both files are CRC-checked records: a clean read is trusted at once.
  const auto read = [&](std::string_view file) {
    const auto clean = [](ByteView b) { return scan_log(b).status == LogScan::Status::kClean; };
    std::optional<Bytes> bytes = read_reliably(disk, file, clean);
    if (!bytes)
      env.fail_stop(fmt::format("recovery: no read of {} could be trusted (reads disagree)", file));
    return bytes;
  };
  if (disk.exists(kProjectionStateFile)) {
    const std::optional<Bytes> state_file = read(kProjectionStateFile);
    if (!state_file) return false;
    const Bytes& bytes = *state_file;
    const LogScan scan = scan_log(bytes);
    if (scan.status != LogScan::Status::kClean || scan.bodies.size() != 1) {
      return start_over(fmt::format("bad projection state: {}",
                                    scan.problem.empty() ? "not one record" : scan.problem));
    }
    Reader r(scan.bodies.front());
    const std::uint64_t generation = r.varint();
    ProjectionState state;
    read_state(r, state);
    if (r.ok() && !r.at_end()) r.fail("trailing bytes");
    if (!r.ok()) return start_over("bad projection state: " + r.error());
    state_ = std::move(state);
    generation_ = generation;
    state_bytes_ = bytes.size();
  }
  if (!disk.exists(kProjectionJournalFile)) return true;
  const std::optional<Bytes> journal_file = read(kProjectionJournalFile);
  if (!journal_file) return false;
  const Bytes& journal = *journal_file;
  const LogScan scan = scan_log(journal);
  Event event;
  for (std::size_t i = 0; i < scan.bodies.size(); ++i) {
    Reader r(scan.bodies[i]);
    const std::uint64_t generation = r.varint();
    if (r.ok() && generation < generation_ && i == 0) {
      // Folded into the state file already: a crash came between writing
      // that file and emptying the journal.
      return drop_journal(env);
    }
    if (!r.ok() || generation != generation_) {
      return start_over(fmt::format("journal record {} is of generation {}, the state file of {}",
                                    i, generation, generation_));
    }
    while (r.ok() && !r.at_end()) {
      r.event_into(event);
      if (r.ok()) (void)apply_event(state_, *config_.handler, config_.dedup, event);
    }
    if (!r.ok())
      return start_over(fmt::format("journal record {} is unreadable: {}", i, r.error()));
  }
  journal_bytes_ = scan.valid_bytes;
  journal_hash_ = scan.last_hash;
  if (scan.status == LogScan::Status::kClean) return true;
  if (scan.status == LogScan::Status::kCorrupt) {
    // What follows the bad record was acknowledged and is lost to us.
    env.note(notes::kProjectionStateUnreadable, scan.valid_bytes, journal.size());
    env.log("projection: the journal is corrupt: " + scan.problem);
  }
  // A torn tail was never acknowledged; either way, appends go on from the
  // valid prefix.
  return env.ok_or_fail_stop(disk.truncate(kProjectionJournalFile, scan.valid_bytes)) &&
         env.ok_or_fail_stop(disk.sync(kProjectionJournalFile));
}

bool ProjectionNode::drop_journal(sim::Env& env) {
  journal_bytes_ = 0;
  journal_hash_ = 0;
  if (!env.storage().exists(kProjectionJournalFile)) return true;
  return env.ok_or_fail_stop(env.storage().truncate(kProjectionJournalFile, 0)) &&
         env.ok_or_fail_stop(env.storage().sync(kProjectionJournalFile));
}

void ProjectionNode::on_start(sim::Env& env) {
  // Applying the journal again runs the handler: a throw fail-stops the node.
  bool loaded = false;
  if (!guarded(env, config_.user_failures, [&] { loaded = load(env); }) || !loaded) return;
  if (!guarded(env, config_.user_failures, [&] {
        known_ = KnownEvents(*config_.domain);
        if (config_.bugs.has(Bug::kPlaintextInReadModel) && config_.keys != sim::kNoNode)
          personal_ = PersonalIndex(*config_.domain);
      }))
    return;
  if (state_.events_applied > 0) sim::probe(probes::kCheckpointRestored);
  env.note(notes::kProjectionRecovered, state_.events_applied, state_.applied.size());
}

void ProjectionNode::on_message(sim::Env& env, const sim::Message& m) {
  auto decoded = decode(m.bytes);
  if (!decoded.ok()) {
    env.log("projection: dropped an undecodable message: " + decoded.error().message);
    return;
  }
  if (const auto* d = std::get_if<Deliver>(&decoded.value())) {
    // A handler or upcaster that throws fail-stops the worker (see guarded()).
    guarded(env, config_.user_failures, [&] { on_deliver(env, d->event); });
  } else if (const auto* k = std::get_if<KeyReply>(&decoded.value())) {
    if (k->status == KeyReply::Status::kKey && k->key.size() == kSubjectKeyBytes) {
      keys_[k->subject] = k->key;
    } else {
      unrevealable_.insert(k->subject);
    }
  } else if (const auto* q = std::get_if<QueryRequest>(&decoded.value())) {
    QueryReply reply;
    reply.request_id = q->request_id;
    reply.model = state_.model;
    reply.events_applied = state_.events_applied;
    reply.applied = state_.applied;
    encode_into(reply, scratch_);
    env.send(m.from, scratch_);
  }
}

bool ProjectionNode::reveal(sim::Env& env, const Event& raw, Event& out) {
  out = raw;
  const PersonalData* data = personal_.find(raw.type);
  if (data == nullptr) return true;
  const std::string subject = personal_subject(*data, raw);
  if (subject.empty()) return true;
  const auto key = keys_.find(subject);
  if (key == keys_.end() && !unrevealable_.contains(subject)) {
    encode_into(KeyRequest{next_key_request_++, subject, false}, scratch_);
    env.send(config_.keys, scratch_);
    return false;
  }
  out.payload = rewrite_personal(*data, raw, [&](const std::string& token) {
    if (key == keys_.end())
      return token.starts_with(kTokenPrefix) ? std::string(kForgotten) : token;
    return open_token(token, key->second).value_or(token);
  });
  return true;
}

void ProjectionNode::on_deliver(sim::Env& env, const Event& delivered) {
  // Only the plaintext-in-read-model bug reveals events before its handler.
  std::optional<Event> revealed;
  if (!personal_.empty()) {
    revealed.emplace();
    if (!reveal(env, delivered, *revealed)) return;
  }
  const Event& raw = revealed ? *revealed : delivered;
  if (!known_.knows(raw.type)) {
    // Reported, then handled like any other event (the handler skips what it
    // does not know), so the stream's order and the acknowledgement go on.
    env.note(notes::kUnknownEventType, raw.position, raw.version);
    env.log(fmt::format("projection: {} has an event of type '{}', unknown to the {} domain",
                        describe(raw), raw.type, config_.domain->name()));
  }
  const Event event = upcasted(*config_.domain, raw, config_.bugs);
  const auto applied_it = state_.applied.find(event.stream);
  const std::uint64_t applied = applied_it == state_.applied.end() ? 0 : applied_it->second;
  if (event.version > applied + 1) {
    // Ahead of its predecessor: wait (unacknowledged, so a crash loses nothing).
    auto& stream_waiting = waiting_[event.stream];
    if (waiting() < config_.waiting_max) stream_waiting.emplace(event.version, event);
    return;
  }
  if (event.version <= applied) {
    sim::count("redeliveries");
    if (apply(event)) {
      env.note(notes::kProjectionReapplied, event.position, event.version);
    } else {
      sim::probe(probes::kRedeliverySkipped);
      sim::count("duplicates_suppressed");
    }
  } else {
    if (apply(event)) observe_lag(env, event);
    drain(env, event.stream);
  }
  pending_acks_.push_back(event.position);
  schedule_flush(env);
}

bool apply_event(ProjectionState& state, const ProjectionHandler& handler, Dedup dedup,
                 const Event& event) {
  // One lookup of the stream (the hot path). A stream seen first gets its
  // entry before the handler runs; a handler that throws fail-stops the
  // worker, which then recovers its state from disk.
  const auto [applied_it, first] = state.applied.try_emplace(event.stream, 0);
  const bool redelivery = !first && event.version <= applied_it->second;
  if (redelivery) {
    if (dedup == Dedup::kAtomicCheckpoint) return false;
    if (dedup == Dedup::kEventId) {
      // Older than the ids the stream remembers: seen, by its position.
      if (event.version + kSeenIdsPerStream <= applied_it->second) return false;
      const auto seen = state.seen.find(event.stream);
      if (seen != state.seen.end() && seen->second.contains(event.id)) return false;
    }
  }
  call_handler(handler, state.model, event);
  ++state.events_applied;
  applied_it->second = std::max(applied_it->second, event.version);
  if (dedup == Dedup::kEventId) state.seen[event.stream].add(event.id);
  return true;
}

bool ProjectionNode::apply(const Event& event) {
  if (!apply_event(state_, *config_.handler, config_.dedup, event)) return false;
  if (journaled()) {
    Writer w(unflushed_);
    if (unflushed_.empty()) w.varint(generation_);
    w.event(event);
  }
  return true;
}

void ProjectionNode::observe_lag(sim::Env& env, const Event& event) {
  // From the client's decision to the event's first application here.
  if (event.metadata.recorded_at_us <= env.now())
    sim::observe("projection_lag_us",
                 static_cast<std::uint64_t>(env.now() - event.metadata.recorded_at_us));
}

void ProjectionNode::drain(sim::Env& env, const std::string& stream) {
  const auto it = waiting_.find(stream);
  if (it == waiting_.end()) return;
  auto& events = it->second;
  while (!events.empty() && events.begin()->first <= state_.applied[stream] + 1) {
    const Event e = std::move(events.begin()->second);
    events.erase(events.begin());
    if (e.version == state_.applied[stream] + 1) {
      if (apply(e)) observe_lag(env, e);
      pending_acks_.push_back(e.position);
    }
  }
  if (events.empty()) waiting_.erase(it);
}

void ProjectionNode::schedule_flush(sim::Env& env) {
  if (flush_armed_) return;
  flush_armed_ = true;
  env.set_timer(config_.flush_after_us, [this](sim::Env& e) { flush(e); });
}

void ProjectionNode::flush(sim::Env& env) {
  flush_armed_ = false;
  if (!persist(env)) return;  // fail-stopped: nothing is acknowledged
  if (!config_.checkpoint_rules.empty() &&
      !guarded(env, config_.user_failures, [&] { check_checkpoint_rules(env); }))
    return;
  for (const std::uint64_t position : pending_acks_) {
    encode_into(DeliverAck{position}, scratch_);
    env.send(config_.bus, scratch_);
  }
  pending_acks_.clear();
}

bool ProjectionNode::persist(sim::Env& env) {
  Bytes out;
  if (config_.bugs.has(Bug::kCheckpointBeforeReadModel)) {
    // The bug: the checkpoint is durable now, the read model only later.
    Writer w(out);
    write_checkpoint(w, state_);
    if (!env.replace_durably(kProjectionCheckpointFile, out)) return false;
    write_lagging(env);
    return true;
  }
  if (config_.bugs.has(Bug::kReadModelWithoutCheckpoint)) {
    // The bug: the read model is durable now, its checkpoint only later.
    encode_read_model(state_.model, out);
    if (!env.replace_durably(kProjectionModelFile, out)) return false;
    write_lagging(env);
    return true;
  }
  if (compact_next_ ||
      journal_bytes_ + unflushed_.size() >= std::max(config_.journal_compact_bytes, state_bytes_)) {
    return compact(env);
  }
  return append_journal(env);
}

bool ProjectionNode::append_journal(sim::Env& env) {
  if (unflushed_.empty()) return true;  // only redeliveries skipped: nothing new to keep
  Bytes record;
  const std::uint64_t hash = append_record(record, journal_hash_, unflushed_);
  auto& disk = env.storage();
  if (!env.ok_or_fail_stop(disk.append(kProjectionJournalFile, record)) ||
      !env.ok_or_fail_stop(disk.sync(kProjectionJournalFile))) {
    return false;
  }
  journal_bytes_ += record.size();
  journal_hash_ = hash;
  unflushed_.clear();
  return true;
}

bool ProjectionNode::compact(sim::Env& env) {
  Bytes body;
  Writer(body).varint(generation_ + 1);
  encode_projection_state(state_, body);
  if (body.size() > kRecordBodyMax) {
    // Recovery could not read it back: stop the run rather than lose it.
    throw HarnessFailure(fmt::format(
        "the read model of handler {} needs {} bytes, more than a state file holds ({})",
        config_.handler->name, body.size(), kRecordBodyMax));
  }
  Bytes out;
  (void)append_record(out, 0, body);
  if (!env.replace_durably(kProjectionStateFile, out)) return false;
  ++generation_;
  state_bytes_ = out.size();
  unflushed_.clear();
  compact_next_ = false;
  return drop_journal(env);
}

void ProjectionNode::check_checkpoint_rules(sim::Env& env) {
  for (const ReadModelInvariant& rule : config_.checkpoint_rules) {
    std::string broken = call_read_model_check(rule, state_.model);
    if (broken.empty() || config_.findings == nullptr) continue;
    if (config_.findings->size() >= kFindingsMax) return;
    // The same finding at the next checkpoint is no news.
    const auto same = [&](const ReadModelFinding& f) {
      return f.rule == rule.name && f.broken == broken;
    };
    if (std::any_of(config_.findings->begin(), config_.findings->end(), same)) continue;
    config_.findings->push_back({rule.name, std::move(broken), env.now(), state_.events_applied});
  }
}

void ProjectionNode::write_lagging(sim::Env& env) {
  if (lagging_armed_) return;
  lagging_armed_ = true;
  env.set_timer(config_.lagging_write_us, [this](sim::Env& e) {
    lagging_armed_ = false;
    Bytes out;
    if (config_.bugs.has(Bug::kCheckpointBeforeReadModel)) {
      encode_read_model(state_.model, out);
      if (!e.replace_durably(kProjectionModelFile, out)) return;  // fail-stopped
    } else {
      Writer w(out);
      write_checkpoint(w, state_);
      if (!e.replace_durably(kProjectionCheckpointFile, out)) return;  // fail-stopped
    }
  });
}

}  // namespace essim::model
