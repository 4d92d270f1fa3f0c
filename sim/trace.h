#pragma once
// The trace: every send, delivery, drop, duplicate, crash, restart, sync,
// timer firing, fault and node annotation, in order, each with its time and
// node. Every entry folds into a 64-bit fingerprint; the entries themselves
// are kept only when asked, so a sweep's memory stays flat.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/time.h"
#include "sim/types.h"

namespace essim::sim {

enum class TraceKind : std::uint8_t {
  kStart,           // node started: a = incarnation
  kSend,            // node -> peer: a = message id, b = payload hash
  kDeliver,         // peer -> node (node receives): a = message id, b = payload hash
  kDrop,            // a = message id, b = DropReason
  kDuplicate,       // a = original message id, b = copy's message id
  kDelay,           // a = message id, b = extra delay in us
  kReorder,         // a = message id, b = jitter in us
  kTimer,           // a = timer id
  kCrash,           // a = incarnation that ended, b = 1 for a fail-stop (text = why)
  kRestart,         // a = new incarnation
  kSync,            // text = file, a = durable size after the sync
  kDiskCrash,       // text = file, a = bytes that survived, b = CrashOutcome
  kReadCorruption,  // text = file, a = offset of the flipped byte
  kPartition,       // a = partition id, b = bit set of side A (first 64 nodes)
  kHeal,            // a = partition id
  kClog,            // node -> peer clogged: a = until (us)
  kNote,            // text = what, a and b as the node chose (append, ack, checkpoint...)
  kLog,             // text = free text from a node
  kPhase,           // text = phase name (chaos, heal)
  kSyncFailure,     // text = file, a = durable size kept, b = unsynced bytes lost
};
inline constexpr std::size_t kTraceKindCount =
    static_cast<std::size_t>(TraceKind::kSyncFailure) + 1;

std::string_view to_string(TraceKind kind);

std::string_view to_string(DropReason reason);

struct TraceEntry {
  std::uint64_t step = 0;
  Micros at_us = 0;
  TraceKind kind = TraceKind::kStart;
  NodeId node = kNoNode;
  NodeId peer = kNoNode;
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::string text;

  friend bool operator==(const TraceEntry&, const TraceEntry&) = default;
};

class Trace {
 public:
  explicit Trace(bool keep_entries) : keep_entries_(keep_entries) {}

  void record(Micros at_us, TraceKind kind, NodeId node, NodeId peer, std::uint64_t a,
              std::uint64_t b, std::string_view text = {});

  std::uint64_t fingerprint() const { return fingerprint_; }
  std::uint64_t steps() const { return steps_; }
  std::uint64_t count(TraceKind kind) const { return counts_[static_cast<std::size_t>(kind)]; }
  bool keeps_entries() const { return keep_entries_; }
  // Empty unless the trace was asked to keep its entries.
  const std::vector<TraceEntry>& entries() const { return entries_; }

 private:
  bool keep_entries_;
  std::uint64_t fingerprint_ = 0x6a09e667f3bcc908ULL;
  std::uint64_t steps_ = 0;
  std::array<std::uint64_t, kTraceKindCount> counts_{};
  std::vector<TraceEntry> entries_;
};

// One line of text for an entry, e.g. `#12 1.5ms send n0 peer=n2 a=4 b=...`;
// with `node_names` (by node id), nodes by name: `send client0 peer=store`.
std::string describe(const TraceEntry& entry, const std::vector<std::string>& node_names = {});

}  // namespace essim::sim
