#pragma once
// A built-in demo of the simulation kernel, until the scenario runner exists.
//
// A keeper node stores writes from a few writer nodes in a checksummed log and
// acknowledges each write only after it is synced (group commit). Writers retry
// until acknowledged. The run goes through a chaos phase (drops, duplicates,
// delays, reordering, partitions, clogs, crashes, torn writes) and a heal
// phase, then checks that every acknowledged write is in the keeper's log and
// that every write was acknowledged in the end.
//
// With `ack_before_sync` the keeper acknowledges before syncing, a real bug
// class the checks catch as lost acknowledged writes.

#include <cstdint>
#include <string>
#include <vector>

#include "sim/fault_plan.h"
#include "sim/simulation.h"
#include "sim/time.h"

namespace essim::harness {

struct DemoConfig {
  int writers = 3;
  sim::Micros chaos_us = sim::seconds(10);
  sim::Micros heal_max_us = sim::seconds(30);
  sim::Micros write_every_us = sim::millis(20);
  sim::Micros retry_after_us = sim::millis(100);
  sim::Micros group_commit_us = sim::millis(2);
  bool ack_before_sync = false;
  bool faults = true;  // off: the calm baseline
  bool keep_trace = false;
};

struct DemoResult {
  std::uint64_t seed = 0;
  std::uint64_t fingerprint = 0;
  std::uint64_t events = 0;
  std::uint64_t trace_steps = 0;
  std::uint64_t writes_acked = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_dropped = 0;
  std::uint64_t messages_duplicated = 0;
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t disk_crash_decisions = 0;
  sim::RunOutcome::Stop heal_stop = sim::RunOutcome::Stop::kQuiet;
  std::vector<std::string> violations;  // empty: the run passed
  std::vector<std::string> faults;      // the fault plan, one line each
};

// The simulation settings the demo uses for `config`.
sim::SimConfig demo_sim_config(const DemoConfig& config);
sim::FaultConfig demo_fault_config(const DemoConfig& config, sim::NodeId node_count);

DemoResult run_demo(std::uint64_t seed, const DemoConfig& config);

}  // namespace essim::harness
