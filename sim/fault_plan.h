#pragma once
// The fault plan: process and network faults as an explicit, timed list.
// Random injection draws the whole list up front from the fault stream, so a
// run's faults are data: a report can print them, a repro file can hold them,
// and shrinking can remove them one by one.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/result.h"
#include "sim/rng.h"
#include "sim/time.h"
#include "sim/types.h"

namespace essim::sim {

enum class FaultKind : std::uint8_t {
  kCrash,      // node crashes
  kRestart,    // node restarts (no-op when it is up)
  kPartition,  // side_a | side_b cut, named by `partition`
  kHeal,       // the partition named by `partition` heals
  kClog,       // link node -> peer holds its messages for duration_us
};
std::string_view to_string(FaultKind kind);

struct FaultAction {
  Micros at_us = 0;
  FaultKind kind = FaultKind::kCrash;
  NodeId node = kNoNode;         // crash, restart, clog (sender)
  NodeId peer = kNoNode;         // clog (receiver)
  std::uint32_t partition = 0;   // partition, heal: which partition of this plan
  std::vector<NodeId> side_a{};  // partition
  std::vector<NodeId> side_b{};  // partition
  Micros duration_us = 0;        // clog

  friend bool operator==(const FaultAction&, const FaultAction&) = default;
};

struct FaultPlan {
  std::vector<FaultAction> actions;  // sorted by at_us, ties in list order
};

struct CrashFaults {
  bool enabled = false;
  DurationRange every{};          // time between crashes
  std::vector<NodeId> targets{};  // which nodes may crash
  DurationRange restart_after{};  // down time
};

struct PartitionFaults {
  bool enabled = false;
  DurationRange every{};
  DurationRange heal_after{};
  std::vector<NodeId> nodes{};  // the nodes a partition splits
};

struct ClogFaults {
  bool enabled = false;
  DurationRange every{};
  DurationRange duration{};
  std::vector<NodeId> nodes{};
};

struct FaultConfig {
  CrashFaults crashes;
  PartitionFaults partitions;
  ClogFaults clogs;

  // Ranges positive where they space faults out, targets known.
  Result<bool> validate(NodeId node_count) const;
};

// A plan is drawn whole before a run starts, so its size is bounded: at most
// this many entries, counting each action once and each node a partition
// names once more.
inline constexpr std::uint64_t kFaultPlanEntriesMax = 1'000'000;

// The most entries each family can add to a plan of `chaos_us`, whatever the
// seed (each family draws at most ceil(chaos / every.min) times).
struct FaultPlanBound {
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t clogs = 0;
  std::uint64_t total() const { return crashes + partitions + clogs; }
};
// REQUIRES: config.validate() passed; 0 <= chaos_us <= kTimeMax.
FaultPlanBound fault_plan_bound(const FaultConfig& config, Micros chaos_us);
std::uint64_t entries(const FaultPlan& plan);

// Draws a plan for a chaos phase of `chaos_us` from `rng`.
// REQUIRES: fault_plan_bound(config, chaos_us).total() <= kFaultPlanEntriesMax. Each fault family
// draws from its own sub-stream, so turning one on leaves the others alone.
// Every crash has its restart and every partition its heal in the plan, even
// when they fall after the chaos phase (the heal phase ends them anyway).
FaultPlan plan_faults(const FaultConfig& config, const Rng& rng, Micros chaos_us);

std::string describe(const FaultAction& action);

}  // namespace essim::sim
