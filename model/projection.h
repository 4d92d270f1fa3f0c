#pragma once
// A projection worker: runs one handler over the events the bus delivers,
// keeps its read model and checkpoint on its disk, and acknowledges an event
// only once its effect is durable.
//
// Per-stream order: an event that arrives ahead of its predecessor waits.
// An event at or below the stream's applied version is a redelivery; the
// dedup strategy decides what happens to it:
//   none               applied again (correct only for idempotent handlers)
//   event-id           skipped when its id was seen (each stream remembers
//                      its latest kSeenIdsPerStream ids; an older version is
//                      known by its position)
//   atomic-checkpoint  skipped when at or below the checkpoint
//
// Persistence (the correct variants) costs what changed, not the state's
// size: each flush appends the events applied since the last one to a
// journal (one CRC-chained record, synced), and recovery applies them again
// to the state file. Once the journal outgrows the state file it is folded
// into a new state file, of the next generation, and emptied; records of an
// older generation are never applied. So the read model, the per-stream
// checkpoint and the seen ids always come back together, from a consistent
// point, whatever a crash or a torn write cut.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/bugs.h"
#include "model/domain.h"
#include "model/messages.h"
#include "model/personal.h"
#include "model/user_code.h"
#include "sim/env.h"

namespace essim::model {

enum class Dedup : std::uint8_t { kNone, kEventId, kAtomicCheckpoint };
std::string_view to_string(Dedup dedup);
std::optional<Dedup> dedup_by_name(std::string_view name);

// A read-model rule (ReadModelInvariant::at_checkpoints) that did not hold
// of a read model the worker made durable.
struct ReadModelFinding {
  std::string rule;
  std::string broken;  // what the rule said
  Micros at_us = 0;
  std::uint64_t events_applied = 0;
};

struct ProjectionConfig {
  const Domain* domain = nullptr;
  const ProjectionHandler* handler = nullptr;
  Dedup dedup = Dedup::kAtomicCheckpoint;
  sim::NodeId bus = sim::kNoNode;
  Micros flush_after_us = 1'000;  // batch persistence: one write per this long
  // The journal is folded into a new state file once it holds this many
  // bytes and at least as many as the state file.
  std::uint64_t journal_compact_bytes = 64 << 10;
  Micros lagging_write_us = 50'000;       // the bug variants' second, late write
  std::uint32_t waiting_max = 1'024;      // events held while waiting for a predecessor
  UserFailures* user_failures = nullptr;  // optional: where a throw of user code is recorded
  // Rules checked on every read model made durable, and where their findings
  // go (at most kFindingsMax kept).
  std::vector<ReadModelInvariant> checkpoint_rules;
  std::vector<ReadModelFinding>* findings = nullptr;
  // The key store, when the domain declares personal data (only the bug
  // plaintext-in-read-model asks it for keys: a correct worker hands its
  // handler the events as stored, sealed).
  sim::NodeId keys = sim::kNoNode;
  Bugs bugs;
};
inline constexpr std::size_t kFindingsMax = 16;

inline constexpr std::string_view kProjectionStateFile = "projection.state";
inline constexpr std::string_view kProjectionJournalFile = "projection.journal";
inline constexpr std::string_view kProjectionModelFile = "projection.model";
inline constexpr std::string_view kProjectionCheckpointFile = "projection.checkpoint";

// The ids event-id dedup remembers of one stream: its latest ones, in a ring.
inline constexpr std::size_t kSeenIdsPerStream = 16;
struct SeenIds {
  std::vector<EventId> ids;  // at most kSeenIdsPerStream
  std::uint32_t next = 0;    // the slot the next id takes once the ring is full
  bool contains(const EventId& id) const;
  void add(const EventId& id);
  friend bool operator==(const SeenIds&, const SeenIds&) = default;
};

// What a projection persists.
struct ProjectionState {
  ReadModel model;
  std::map<std::string, std::uint64_t> applied;  // stream -> highest version applied
  std::map<std::string, SeenIds> seen;           // event-id dedup
  std::uint64_t events_applied = 0;              // handler calls, duplicates included
  friend bool operator==(const ProjectionState&, const ProjectionState&) = default;
};

class ProjectionNode final : public sim::Node {
 public:
  explicit ProjectionNode(ProjectionConfig config);

  void on_start(sim::Env& env) override;
  void on_message(sim::Env& env, const sim::Message& message) override;

  // For checkers and tests.
  const ProjectionState& state() const { return state_; }
  std::size_t waiting() const;
  // The first stream (by name) with events waiting for a predecessor, and the
  // version it waits for; nullopt when nothing waits.
  std::optional<std::pair<std::string, std::uint64_t>> first_gap() const;

 private:
  void on_deliver(sim::Env& env, const Event& event);
  // The bug plaintext-in-read-model: `raw` with its personal data revealed
  // into `out`; false while the subject's key is asked for (the event stays
  // unacknowledged and comes again).
  bool reveal(sim::Env& env, const Event& raw, Event& out);
  // Applies `event` (see apply_event) and journals it when the handler ran.
  bool apply(const Event& event);
  void drain(sim::Env& env, const std::string& stream);
  void observe_lag(sim::Env& env, const Event& event);
  void schedule_flush(sim::Env& env);
  void flush(sim::Env& env);
  // Writes the state the dedup setting (or a bug) asks for; false when the
  // node fail-stopped on a storage error.
  [[nodiscard]] bool persist(sim::Env& env);
  // The journaled persistence of the correct variants.
  bool journaled() const;
  [[nodiscard]] bool append_journal(sim::Env& env);
  [[nodiscard]] bool compact(sim::Env& env);
  [[nodiscard]] bool drop_journal(sim::Env& env);
  [[nodiscard]] bool load_journaled(sim::Env& env);
  void write_lagging(sim::Env& env);
  void check_checkpoint_rules(sim::Env& env);
  // False when the node fail-stopped.
  [[nodiscard]] bool load(sim::Env& env);

  ProjectionConfig config_;
  ProjectionState state_;
  std::map<std::string, std::map<std::uint64_t, Event>, std::less<>> waiting_;
  std::vector<std::uint64_t> pending_acks_;  // positions handled, not yet durable
  bool flush_armed_ = false;
  // The bug's: the personal data declared, the keys learnt, and the subjects
  // whose tokens cannot be opened (forgotten, or never given a key).
  KnownEvents known_;  // the domain's event types, asked at start
  PersonalIndex personal_;
  std::map<std::string, Bytes, std::less<>> keys_;
  std::set<std::string, std::less<>> unrevealable_;
  std::uint64_t next_key_request_ = 1;
  std::uint64_t generation_ = 0;     // of the state file; journal records carry it
  std::uint64_t state_bytes_ = 0;    // the state file's size
  std::uint64_t journal_bytes_ = 0;  // the journal's size, all durable
  std::uint64_t journal_hash_ = 0;   // of its last record
  Bytes unflushed_;            // a journal record's body: the events applied since the last flush
  bool compact_next_ = false;  // the next flush writes a whole state file
  bool lagging_armed_ = false;
  Bytes scratch_;
};

// Applies one delivered event (already upcast) to `state` through `handler`,
// unless `dedup` says it is a redelivery to skip: an event at or below its
// stream's applied version is skipped by atomic-checkpoint, skipped by
// event-id when its id was seen, and applied again by none. Returns whether
// the handler ran. The caller keeps per-stream order for first deliveries.
bool apply_event(ProjectionState& state, const ProjectionHandler& handler, Dedup dedup,
                 const Event& event);

// Appends the state's encoding to `out`.
void encode_projection_state(const ProjectionState& state, Bytes& out);
sim::Result<ProjectionState> decode_projection_state(ByteView bytes);

}  // namespace essim::model
