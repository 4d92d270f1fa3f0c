#include "model/bugs.h"

namespace essim::model {

const std::array<BugInfo, kBugCount>& all_bugs() {
  static const std::array<BugInfo, kBugCount> bugs{{
      {Bug::kAckBeforeSync, "ack-before-sync", "store",
       "acknowledges an append before the record is synced; a crash loses acknowledged events"},
      {Bug::kNoConcurrencyCheck, "no-concurrency-check", "store",
       "ignores the expected version, so two appends decided on the same state both succeed"},
      {Bug::kRetryWithoutCommandId, "retry-without-command-id", "client",
       "retries a timed-out append without its command id, duplicating events after a lost ack"},
      {Bug::kProjectionNoDedup, "projection-no-dedup", "projection",
       "applies every delivery, so a redelivered event is applied twice"},
      {Bug::kCheckpointBeforeReadModel, "checkpoint-before-read-model", "projection",
       "persists the checkpoint before the read model: after a crash events are skipped"},
      {Bug::kReadModelWithoutCheckpoint, "read-model-without-checkpoint", "projection",
       "persists the read model and the checkpoint only later: after a crash events are reapplied"},
      {Bug::kReadAcrossCommitGaps, "read-across-commit-gaps", "store",
       "serves read-all past a position that is assigned but not yet committed, so readers move "
       "past it and never see it"},
      {Bug::kSnapshotOffByOne, "snapshot-off-by-one", "client",
       "loads an aggregate from a snapshot and replays the snapshot's own event again"},
      {Bug::kUpcasterDropsDefault, "upcaster-drops-default", "domain",
       "the v1 -> v2 upcaster does not fill in the new field's default"},
      {Bug::kNoTornTailTruncation, "no-torn-tail-truncation", "store",
       "recovery stops at a torn record but does not cut it off, and appends after it"},
      {Bug::kSagaWithoutCompensation, "saga-without-compensation", "client",
       "a saga whose step times out gives up without running its compensations"},
      {Bug::kBusAcksBeforeHandled, "bus-acks-before-handled", "bus",
       "moves its durable position when it sends an event, not when the subscriber acks it"},
      {Bug::kAckAfterFailedSync, "ack-after-failed-sync", "store",
       "keeps going after a failed fsync and acknowledges the appends it lost once a later "
       "fsync succeeds (PostgreSQL before 2018)"},
      {Bug::kRebuildCutsOverEarly, "rebuild-cuts-over-early", "router",
       "a projection rebuild cuts queries over to the new read model as soon as it answers, "
       "before it has caught up with the one serving"},
      {Bug::kRebuildSkipsLiveAppends, "rebuild-skips-live-appends", "bus",
       "a projection rebuild replays the history there was when it started, then goes on from "
       "the store's head, skipping what was appended while it replayed"},
      {Bug::kBackupCopiesTornTail, "backup-copies-torn-tail", "backup",
       "a backup copies the store's log file as it lies on disk, not through the store: after a "
       "crash that tore the last record it copies the torn tail, and it copies appends not yet "
       "durable"},
      {Bug::kBackupCopiesUncommitted, "backup-copies-uncommitted", "store",
       "the store serves a backup up to the end of its log file, past the last committed record: "
       "appends written but not yet synced or acknowledged go into the backup"},
      {Bug::kPlaintextInReadModel, "plaintext-in-read-model", "projection",
       "the worker reveals personal data (asking the key store for each subject's key) before "
       "the handler sees an event, so the read model keeps the plaintext, and still holds it "
       "after the subject is forgotten"},
      {Bug::kSnapshotKeepsPlaintext, "snapshot-keeps-plaintext", "client",
       "the client snapshots the state evolved from the events as decided, before their personal "
       "data was sealed: a snapshot taken before a forget keeps the plaintext"},
  }};
  return bugs;
}

std::optional<Bug> bug_by_name(std::string_view name) {
  for (const BugInfo& info : all_bugs()) {
    if (info.name == name) return info.bug;
  }
  return std::nullopt;
}

std::string_view bug_name(Bug bug) {
  return all_bugs()[static_cast<std::size_t>(bug)].name;
}

}  // namespace essim::model
