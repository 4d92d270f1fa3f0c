#include "harness/sweep.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <thread>

#include "sim/assert.h"

namespace essim::harness {

std::vector<std::uint64_t> SweepPlan::seed_list() const {
  ESSIM_ASSERT_MSG(shard_count > 0, "shard count must be positive");
  ESSIM_ASSERT_MSG(shard_index < shard_count, "shard index must be below the shard count");
  std::vector<std::uint64_t> list;
  for (std::uint64_t i = shard_index; i < seeds; i += shard_count) list.push_back(first_seed + i);
  return list;
}

// Threads here run whole, independent simulations, never parts of one.
void sweep(const SweepPlan& plan, const std::function<void(std::uint64_t, std::size_t)>& run_seed,
           const std::function<void(std::size_t, std::size_t)>& on_done) {
  const std::vector<std::uint64_t> seeds = plan.seed_list();
  const std::size_t total = seeds.size();
  std::atomic<std::size_t> next{0};
  std::size_t done = 0;
  std::mutex done_mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < total; i = next++) {
      run_seed(seeds[i], i);
      const std::lock_guard lock(done_mutex);
      ++done;
      if (on_done) on_done(done, total);
    }
  };
  const auto jobs = static_cast<std::size_t>(std::max(1, plan.jobs));
  std::vector<std::thread> threads;
  for (std::size_t j = 1; j < std::min(jobs, total); ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
}

}  // namespace essim::harness
