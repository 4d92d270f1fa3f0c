#pragma once
// Runs independent seeds on worker threads. Each simulation stays on one
// thread. Nothing is allocated per seed of the plan: a sweep of 10^8 seeds
// costs what the seeds it actually runs cost.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace essim::harness {

struct SweepPlan {
  std::uint64_t first_seed = 1;
  std::uint64_t seeds = 1;  // how many seeds, before sharding
  int jobs = 1;
  // Shard `shard_index` of `shard_count` takes every shard_count-th seed.
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;

  // An error message when the plan cannot run (a seed range past 2^64 - 1, a
  // shard index not below the count), else nullopt.
  std::optional<std::string> invalid() const;
  // How many seeds this shard runs.
  std::uint64_t count() const;
  // This shard's `index`-th seed. REQUIRES: index < count().
  std::uint64_t seed(std::uint64_t index) const;
};

// Calls `run_seed(seed, index)` for seeds of the plan, `plan.jobs` at a time,
// taking indices in increasing order; `index` is the seed's place in this
// shard (0 .. count()-1). When a call returns false, no seed with a higher
// index starts any more (calls already running finish). `on_done(done,
// total)` runs after each seed, on one thread at a time.
// REQUIRES: !plan.invalid().
void sweep(const SweepPlan& plan,
           const std::function<bool(std::uint64_t seed, std::uint64_t index)>& run_seed,
           const std::function<void(std::uint64_t done, std::uint64_t total)>& on_done = {});

}  // namespace essim::harness
