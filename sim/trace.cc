#include "sim/trace.h"

#include <fmt/format.h>

#include "sim/rng.h"

namespace essim::sim {

std::string_view to_string(TraceKind kind) {
  switch (kind) {
    case TraceKind::kStart:
      return "start";
    case TraceKind::kSend:
      return "send";
    case TraceKind::kDeliver:
      return "deliver";
    case TraceKind::kDrop:
      return "drop";
    case TraceKind::kDuplicate:
      return "duplicate";
    case TraceKind::kDelay:
      return "delay";
    case TraceKind::kReorder:
      return "reorder";
    case TraceKind::kTimer:
      return "timer";
    case TraceKind::kCrash:
      return "crash";
    case TraceKind::kRestart:
      return "restart";
    case TraceKind::kSync:
      return "sync";
    case TraceKind::kDiskCrash:
      return "disk-crash";
    case TraceKind::kReadCorruption:
      return "read-corruption";
    case TraceKind::kPartition:
      return "partition";
    case TraceKind::kHeal:
      return "heal";
    case TraceKind::kClog:
      return "clog";
    case TraceKind::kNote:
      return "note";
    case TraceKind::kLog:
      return "log";
    case TraceKind::kPhase:
      return "phase";
    case TraceKind::kSyncFailure:
      return "sync-failure";
  }
  return "unknown";
}

std::string_view to_string(DropReason reason) {
  switch (reason) {
    case DropReason::kRandom:
      return "random";
    case DropReason::kPartitioned:
      return "partitioned";
    case DropReason::kReceiverDown:
      return "receiver-down";
  }
  return "unknown";
}

void Trace::record(Micros at_us, TraceKind kind, NodeId node, NodeId peer, std::uint64_t a,
                   std::uint64_t b, std::string_view text) {
  const auto kind_index = static_cast<std::size_t>(kind);
  std::uint64_t h = fingerprint_;
  h = fold_hash(h, static_cast<std::uint64_t>(at_us));
  h = fold_hash(h, (std::uint64_t{kind_index} << 32) ^ node);
  h = fold_hash(h, peer);
  h = fold_hash(h, a);
  h = fold_hash(h, b);
  if (!text.empty()) h = fold_hash(h, hash_label(text));
  fingerprint_ = h;
  ++counts_[kind_index];
  if (keep_entries_) {
    entries_.push_back(TraceEntry{steps_, at_us, kind, node, peer, a, b, std::string(text)});
  }
  ++steps_;
}

std::string describe(const TraceEntry& e, const std::vector<std::string>& node_names) {
  auto node = [&](NodeId n) {
    return n < node_names.size() ? node_names[n] : fmt::format("n{}", n);
  };
  std::string line = fmt::format("#{} {} {}", e.step, format_time(e.at_us), to_string(e.kind));
  if (e.node != kNoNode) line += " " + node(e.node);
  if (e.peer != kNoNode) line += " peer=" + node(e.peer);
  if (!e.text.empty()) line += fmt::format(" '{}'", e.text);
  if (e.kind == TraceKind::kDrop) {
    line += fmt::format(" id={} reason={}", e.a, to_string(static_cast<DropReason>(e.b)));
  } else {
    line += fmt::format(" a={} b={}", e.a, e.b);
  }
  return line;
}

}  // namespace essim::sim
