#pragma once
// The event store node.
//
// append(stream, expected version, events, command id) answers with positions,
// a concurrency conflict, or, for a command id it has seen, the same answer as
// the first time (the command table is rebuilt from the log after a restart).
// An append is acknowledged only after its record is synced; appends whose
// records are written together share one sync (group commit). A storage error
// (a failed append, sync or truncate) fail-stops the node: a failed sync may
// have lost the records it covered, so only recovery knows what is durable.
//
// Appends are processed concurrently: positions are assigned when an append is
// accepted, but an append becomes visible only when it commits, and appends to
// different streams may commit out of position order (appends to one stream
// commit in order). read-all therefore serves only up to the visible position:
// the highest position below which nothing is still in progress.
//
// The log (events.log) is a chain of CRC-checked records, one per append.
// Recovery truncates a torn tail and refuses to serve past a corrupt record:
// it serves what comes before, rejects appends, and reports the corruption.
//
// A backup (BackupRequest) is served while appends go on: the log's bytes up
// to its last committed record (every record before it synced and
// acknowledged) when the backup began, read back from the log, each chunk's
// checksums and links checked before it is sent.

#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "model/bugs.h"
#include "model/log.h"
#include "model/messages.h"
#include "sim/env.h"

namespace essim::model {

struct StoreConfig {
  Micros group_commit_us = 1'000;  // how long a sync waits to gather more records
  // How long an fsync takes, drawn per sync; records written meanwhile wait
  // for the next one.
  sim::DurationRange fsync_latency{500, 3'000};
  Micros commit_delay_max_us = 2'000;         // an append's processing time, drawn in [0, this]
  std::uint32_t pending_max = 1'024;          // appends in progress; more are rejected
  std::uint32_t read_batch_max = 256;         // events per read reply
  std::uint32_t backup_chunk_max = 4U << 10;  // log bytes per backup reply (at least one record)
  // A store restored from a backup starts once its files are in place: until
  // `ready()` says so it waits (answering nothing), first until
  // ready_from_us, then asking again every ready_poll_us. Unset: a store
  // that starts at once.
  std::function<bool()> ready;
  Micros ready_from_us = 0;
  Micros ready_poll_us = 10'000;
  Bugs bugs;
};

inline constexpr std::string_view kEventsFile = "events.log";
inline constexpr std::string_view kSnapshotsFile = "snapshots.log";

// One append as the log keeps it.
struct CommitRecord {
  CommandId command_id;
  std::vector<Event> events;  // versions and positions assigned
};
void encode_commit(const CommitRecord& commit, Bytes& out);
sim::Result<CommitRecord> decode_commit(ByteView body);

// What a store's log holds, decoded: for recovery and for checkers.
struct StoreLog {
  LogScan::Status status = LogScan::Status::kClean;
  std::string problem;
  std::uint64_t valid_bytes = 0;
  std::uint64_t last_hash = 0;
  std::vector<CommitRecord> commits;  // in log (commit) order
};
StoreLog read_store_log(ByteView log);
// The valid snapshots of a snapshots log, in order.
std::vector<SnapshotSave> read_snapshot_log(ByteView log);

class StoreNode final : public sim::Node {
 public:
  explicit StoreNode(StoreConfig config) : config_(std::move(config)) {}

  void on_start(sim::Env& env) override;
  void on_message(sim::Env& env, const sim::Message& message) override;

  // For checkers and tests.
  const std::map<std::uint64_t, Event>& durable_events() const { return events_; }
  bool corrupt() const { return corrupt_; }
  std::uint64_t visible_position() const;
  // The log's bytes up to the last committed record.
  std::uint64_t committed_bytes() const { return committed_bytes_; }
  // It recovered (a restored store waits for its files first).
  bool started() const { return started_; }

 private:
  struct Stream {
    std::uint64_t durable_version = 0;
    std::uint64_t assigned_version = 0;    // durable plus in progress
    std::vector<std::uint64_t> positions;  // durable, by version - 1
    Micros last_commit_at_us = 0;          // appends to one stream commit in order
  };
  struct Outcome {
    std::uint64_t first_position = 0;
    std::uint64_t stream_version = 0;
  };
  struct InProgress {
    AppendRequest request;  // events with versions and positions assigned
    sim::NodeId from = sim::kNoNode;
    bool written = false;
    bool syncing = false;  // in the fsync under way
    bool acknowledged = false;
  };

  // False when the node fail-stopped on a storage error.
  [[nodiscard]] bool recover_events(sim::Env& env);
  [[nodiscard]] bool recover_snapshots(sim::Env& env);
  void apply_durable(const CommitRecord& commit);
  void reply(sim::Env& env, sim::NodeId to, const Message& message);

  void handle(sim::Env& env, sim::NodeId from, AppendRequest& request);
  void handle(sim::Env& env, sim::NodeId from, const ReadStreamRequest& request);
  void handle(sim::Env& env, sim::NodeId from, const ReadAllRequest& request);
  void handle(sim::Env& env, sim::NodeId from, SnapshotSave& request);
  void handle(sim::Env& env, sim::NodeId from, const SnapshotLoadRequest& request);
  void handle(sim::Env& env, sim::NodeId from, const BackupRequest& request);
  void start(sim::Env& env);
  void reject(sim::Env& env, sim::NodeId to, std::uint64_t request_id, std::string why);

  void write(sim::Env& env, std::uint64_t first_position);
  void group_commit(sim::Env& env);
  void sync_done(sim::Env& env);
  void ignore_failed_sync(sim::Env& env, const sim::Status& failure);
  void make_durable(sim::Env& env, InProgress& append);
  void arm_sync(sim::Env& env);

  StoreConfig config_;
  std::map<std::uint64_t, Event> events_;  // durable (visible) events by position
  std::map<std::string, Stream, std::less<>> streams_;
  std::map<CommandId, Outcome> commands_;
  std::set<CommandId> commands_in_progress_;
  std::map<std::uint64_t, InProgress> in_progress_;  // by first position
  std::uint64_t next_position_ = 1;
  std::uint64_t last_hash_ = 0;
  std::uint64_t snapshot_hash_ = 0;
  std::map<std::string, SnapshotSave, std::less<>> snapshots_;
  std::uint64_t written_bytes_ = 0;    // the log's size as this node wrote it
  std::uint64_t syncing_bytes_ = 0;    // what the sync under way covers
  std::uint64_t committed_bytes_ = 0;  // up to the last committed record
  bool started_ = false;               // recovered (a restored store waits for its files)
  bool corrupt_ = false;
  bool sync_armed_ = false;  // a group commit is gathering or syncing
  bool snapshots_dirty_ = false;
  Bytes scratch_;
};

}  // namespace essim::model
