#pragma once
// The names of the notes nodes write into the trace (Env::note), shared by
// the code that writes them and the code that reads them back (evidence, the
// viewer's highlights, tests). A note's two numbers are stated beside it.

#include <string_view>

namespace essim::model::notes {

// Store.
inline constexpr std::string_view kAck = "ack";                         // first position, events
inline constexpr std::string_view kGroupCommit = "group-commit";        // synced, visible position
inline constexpr std::string_view kStoreRecovered = "store-recovered";  // commits, last position
inline constexpr std::string_view kLogTornTailKept = "log-torn-tail-kept";  // valid, file bytes
inline constexpr std::string_view kLogTruncated = "log-truncated";          // valid, file bytes
inline constexpr std::string_view kLogCorrupt = "log-corrupt";              // valid, file bytes
inline constexpr std::string_view kSnapshotSaved = "snapshot-saved";        // version, 0
// Bug ack-after-failed-sync: a failed sync the store went on from (covered, visible).
inline constexpr std::string_view kSyncFailureIgnored = "sync-failure-ignored";
// Bus.
inline constexpr std::string_view kBusRecovered = "bus-recovered";  // fetched through, 0
// Router of a projection rebuild: it cut queries over to the rebuilt read
// model (the rebuilt one's events applied, answers served by the live one).
inline constexpr std::string_view kRebuildCutOver = "rebuild-cut-over";
// The harness's audit operation (on no node): records verified, LogScan::Status.
inline constexpr std::string_view kAudit = "audit";
// Backups (model/backup.h): one began (the operation's number, 0), one is
// complete (bytes, records); the harness restored one onto a fresh store
// (on no node: the backup's number, bytes).
inline constexpr std::string_view kBackupBegan = "backup-began";
inline constexpr std::string_view kBackupDone = "backup-done";
inline constexpr std::string_view kRestore = "restore";
// The key store (model/personal.h).
inline constexpr std::string_view kForgotten = "forgotten";  // subjects forgotten, had a key
// Projection workers.
inline constexpr std::string_view kProjectionRecovered = "projection-recovered";  // applied, ids
inline constexpr std::string_view kProjectionStateUnreadable = "projection-state-unreadable";
inline constexpr std::string_view kProjectionReapplied =
    "projection-reapplied";  // position, version
// Clients and projection workers.
inline constexpr std::string_view kUnknownEventType = "unknown-event-type";  // position, version
inline constexpr std::string_view kSagaJournalUnreadable = "saga-journal-unreadable";
inline constexpr std::string_view kSagaResumed = "saga-resumed";  // step, compensating
// Any node whose user code (domain, handler) threw; it fail-stops next. 0, 0
inline constexpr std::string_view kUserCodeThrew = "user-code-threw";

}  // namespace essim::model::notes
