#pragma once
// An operator's online backups of the store's log (scenario operations
// `backup: store`), taken through the store while appends go on.
//
// At each backup's time the agent asks the store for its log (BackupRequest):
// the store's first reply fixes the backup's end (its last committed record),
// and the agent reads the log chunk by chunk up to there, checking every
// record's checksum and link as it comes. A request not answered within the
// timeout is asked again; a store that can no longer serve the end it fixed
// makes the backup begin again (a correct store never does: its end is
// durable; one that served past its committed records may, after a crash);
// a store that keeps refusing is given up on after kRefusalsMax refusals in
// a row.
// Backups run one at a time, in order. A finished backup goes to the
// operator's archive, the BackupLog the harness owns (the restore operation
// takes its latest). The agent keeps nothing on its own disk and is never a
// fault target.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/messages.h"
#include "sim/env.h"

namespace essim::model {

struct Backup {
  Micros requested_at_us = 0;  // the operation's time
  // When the request that fixed its end was sent: every append a client saw
  // acknowledged before then must be in it.
  Micros began_at_us = 0;
  std::optional<Micros> done_at_us;
  bool file_copy = false;  // copied from the store's disk as it lay, not through the store
  Bytes bytes;             // the log's bytes [0, end)
  // The oracle's, recorded by the harness: how many bytes the store's log
  // held durably when the agent learnt the backup's end (the store fixed it
  // before then), and how many leading bytes of the backup it held durably
  // when the backup completed.
  std::uint64_t durable_at_fix = 0;
  std::uint64_t durable_at_done = 0;
  std::string gave_up;  // why it never completed
};

struct BackupLog {
  std::vector<Backup> backups;  // in the order they were requested
};

struct BackupAgentConfig {
  sim::NodeId store = sim::kNoNode;
  std::vector<Micros> at_us;  // one backup each, in order
  Micros request_timeout_us = 100'000;
  BackupLog* log = nullptr;
  // Called when the agent learns a backup's end and when a backup completes
  // (the harness records what the oracle sees then).
  std::function<void(Backup&)> on_fixed;
  std::function<void(Backup&)> on_done;
};

inline constexpr int kRefusalsMax = 50;

class BackupAgentNode final : public sim::Node {
 public:
  explicit BackupAgentNode(BackupAgentConfig config);
  void on_start(sim::Env& env) override;
  void on_message(sim::Env& env, const sim::Message& message) override;
  // Every backup requested so far is complete or given up.
  bool idle() const { return !current_; }

 private:
  void due(sim::Env& env);
  void begin(sim::Env& env);
  void ask(sim::Env& env);
  void finish(sim::Env& env);
  void next(sim::Env& env);

  BackupAgentConfig config_;
  std::vector<std::size_t> queued_;     // due, waiting for the one in progress
  std::optional<std::size_t> current_;  // the backup in progress (index into the log)
  std::uint64_t offset_ = 0;
  std::uint64_t until_ = 0;  // 0: not fixed yet
  std::uint64_t previous_hash_ = 0;
  std::uint64_t request_id_ = 0;  // the request outstanding
  std::uint64_t next_request_ = 1;
  int refusals_ = 0;
  Bytes scratch_;
};

}  // namespace essim::model
