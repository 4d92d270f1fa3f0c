#pragma once
// Runs independent seeds on worker threads. Each simulation stays on one
// thread; results come back in seed order whatever the thread count, so a
// sweep's summary is the same with --jobs 1 and --jobs 8.

#include <cstdint>
#include <functional>
#include <vector>

namespace essim::harness {

struct SweepPlan {
  std::uint64_t first_seed = 1;
  std::uint64_t seeds = 1;  // how many seeds, before sharding
  int jobs = 1;
  // Shard `shard_index` of `shard_count` takes every shard_count-th seed.
  std::uint64_t shard_index = 0;
  std::uint64_t shard_count = 1;

  // The seeds this shard runs, in order.
  std::vector<std::uint64_t> seed_list() const;
};

// Calls `run_seed(seed, slot)` for every seed of the plan, `plan.jobs` at a
// time; slot is the seed's index in seed_list(), so each call writes its own
// result. `on_done(done, total)` runs after each seed, on one thread at a time.
void sweep(const SweepPlan& plan, const std::function<void(std::uint64_t, std::size_t)>& run_seed,
           const std::function<void(std::size_t, std::size_t)>& on_done = {});

}  // namespace essim::harness
