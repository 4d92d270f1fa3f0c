#pragma once
// Bug variants: named settings, off by default, each reproducing a class of
// event-sourcing bug seen in real event stores. A scenario under
// scenarios/bugs/ turns one on and names the property that must catch it.

#include <array>
#include <bitset>
#include <cstddef>
#include <optional>
#include <string_view>

namespace essim::model {

enum class Bug : std::size_t {
  kAckBeforeSync,               // store: acknowledges an append before it is durable
  kNoConcurrencyCheck,          // store: ignores the expected version
  kRetryWithoutCommandId,       // client: retries a timed-out append without its command id
  kProjectionNoDedup,           // projection: applies every delivery, duplicates included
  kCheckpointBeforeReadModel,   // projection: persists its checkpoint before its read model
  kReadModelWithoutCheckpoint,  // projection: persists its read model, the checkpoint later
  kReadAcrossCommitGaps,        // store: read-all serves past positions not yet committed
  kSnapshotOffByOne,            // client: replays the snapshot's own event again
  kUpcasterDropsDefault,        // domain: the v1 -> v2 upcaster leaves the new field empty
  kNoTornTailTruncation,        // store: recovery keeps a torn tail and appends after it
  kSagaWithoutCompensation,     // client: a saga that times out gives up without compensating
  kBusAcksBeforeHandled,        // bus: moves its position before the subscriber handled the event
  kAckAfterFailedSync,          // store: retries a failed sync and acknowledges what it lost
  kRebuildCutsOverEarly,        // router: serves the rebuilt projection before it caught up
  kRebuildSkipsLiveAppends,     // bus: a rebuild replays history, then skips to the live head
  kBackupCopiesTornTail,        // backup: copies the store's log file as it is on disk
  kBackupCopiesUncommitted,     // store: serves a backup past its last committed record
  kPlaintextInReadModel,        // projection: reveals personal data before the handler sees it
  kSnapshotKeepsPlaintext,      // client: snapshots the state evolved from the unsealed events
};
inline constexpr std::size_t kBugCount = 19;

struct BugInfo {
  Bug bug;
  std::string_view name;       // scenario-file name
  std::string_view component;  // store, bus, projection, client, domain
  std::string_view description;
};

const std::array<BugInfo, kBugCount>& all_bugs();
std::optional<Bug> bug_by_name(std::string_view name);
std::string_view bug_name(Bug bug);

class Bugs {
 public:
  Bugs() = default;
  Bugs& set(Bug bug, bool on = true) {
    bits_.set(static_cast<std::size_t>(bug), on);
    return *this;
  }
  bool has(Bug bug) const { return bits_.test(static_cast<std::size_t>(bug)); }
  bool any() const { return bits_.any(); }
  friend bool operator==(const Bugs&, const Bugs&) = default;

 private:
  std::bitset<kBugCount> bits_;
};

}  // namespace essim::model
