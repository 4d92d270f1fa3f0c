#pragma once
// A projection worker: runs one handler over the events the bus delivers,
// keeps its read model and checkpoint on its disk, and acknowledges an event
// only once its effect is durable.
//
// Per-stream order: an event that arrives ahead of its predecessor waits.
// An event at or below the stream's applied version is a redelivery; the
// dedup strategy decides what happens to it:
//   none               applied again (correct only for idempotent handlers)
//   event-id           skipped when its id was seen
//   atomic-checkpoint  skipped when at or below the checkpoint
// In the correct variants the read model, the per-stream checkpoint and the
// seen ids are written together, atomically, in one file.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "model/bugs.h"
#include "model/domain.h"
#include "model/messages.h"
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
  Micros flush_after_us = 1'000;          // batch persistence: one write per this long
  Micros lagging_write_us = 50'000;       // the bug variants' second, late write
  std::uint32_t waiting_max = 1'024;      // events held while waiting for a predecessor
  UserFailures* user_failures = nullptr;  // optional: where a throw of user code is recorded
  // Rules checked on every read model made durable, and where their findings
  // go (at most kFindingsMax kept).
  std::vector<ReadModelInvariant> checkpoint_rules;
  std::vector<ReadModelFinding>* findings = nullptr;
  Bugs bugs;
};
inline constexpr std::size_t kFindingsMax = 16;

inline constexpr std::string_view kProjectionStateFile = "projection.state";
inline constexpr std::string_view kProjectionModelFile = "projection.model";
inline constexpr std::string_view kProjectionCheckpointFile = "projection.checkpoint";

// What a projection persists.
struct ProjectionState {
  ReadModel model;
  std::map<std::string, std::uint64_t> applied;  // stream -> highest version applied
  std::set<EventId> seen;                        // event-id dedup
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

 private:
  void on_deliver(sim::Env& env, const Event& event);
  void apply(const Event& event);
  void drain(const std::string& stream);
  void schedule_flush(sim::Env& env);
  void flush(sim::Env& env);
  // Writes the state the dedup setting (or a bug) asks for; false when the
  // node fail-stopped on a storage error.
  [[nodiscard]] bool persist(sim::Env& env);
  void write_lagging(sim::Env& env);
  void check_checkpoint_rules(sim::Env& env);
  void load(sim::Env& env);

  ProjectionConfig config_;
  ProjectionState state_;
  std::map<std::string, std::map<std::uint64_t, Event>, std::less<>> waiting_;
  std::vector<std::uint64_t> pending_acks_;  // positions handled, not yet durable
  bool flush_armed_ = false;
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

void encode_projection_state(const ProjectionState& state, Bytes& out);
sim::Result<ProjectionState> decode_projection_state(ByteView bytes);

}  // namespace essim::model
