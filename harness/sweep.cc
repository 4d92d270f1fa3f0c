#include "harness/sweep.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "sim/assert.h"

namespace essim::harness {

std::optional<std::string> SweepPlan::invalid() const {
  if (seeds == 0) return "a sweep needs at least one seed";
  if (shard_count == 0) return "the shard count must be at least 1";
  if (shard_index >= shard_count)
    return fmt::format("shard {} of {}: the index must be below the count", shard_index,
                       shard_count);
  if (seeds - 1 > std::numeric_limits<std::uint64_t>::max() - first_seed)
    return fmt::format("seeds {} to {} + {} - 1 go past the largest seed, 2^64 - 1", first_seed,
                       first_seed, seeds);
  return std::nullopt;
}

std::uint64_t SweepPlan::count() const {
  ESSIM_ASSERT(!invalid());
  return seeds / shard_count + (shard_index < seeds % shard_count ? 1 : 0);
}

std::uint64_t SweepPlan::seed(std::uint64_t index) const {
  ESSIM_ASSERT(index < count());
  return first_seed + shard_index + index * shard_count;
}

// Threads here run whole, independent simulations, never parts of one.
void sweep(const SweepPlan& plan,
           const std::function<bool(std::uint64_t seed, std::uint64_t index)>& run_seed,
           const std::function<void(std::uint64_t done, std::uint64_t total)>& on_done) {
  const std::uint64_t total = plan.count();
  std::atomic<std::uint64_t> next{0};
  std::atomic<std::uint64_t> end{total};  // lowered when a call says stop
  std::uint64_t done = 0;
  std::mutex done_mutex;
  std::exception_ptr failed;  // the first exception a seed threw; the sweep stops
  auto worker = [&] {
    for (std::uint64_t i = next++; i < end.load(); i = next++) {
      bool go_on = true;
      try {
        go_on = run_seed(plan.seed(i), i);
      } catch (...) {
        const std::lock_guard lock(done_mutex);
        if (!failed) failed = std::current_exception();
        end = 0;
        return;
      }
      if (!go_on) {
        std::uint64_t seen = end.load();
        while (i + 1 < seen && !end.compare_exchange_weak(seen, i + 1)) {
        }
      }
      const std::lock_guard lock(done_mutex);
      ++done;
      if (on_done) on_done(done, total);
    }
  };
  const auto jobs = static_cast<std::uint64_t>(std::max(1, plan.jobs));
  std::vector<std::thread> threads;
  for (std::uint64_t j = 1; j < std::min(jobs, total); ++j) threads.emplace_back(worker);
  worker();
  for (std::thread& t : threads) t.join();
  if (failed) std::rethrow_exception(failed);
}

}  // namespace essim::harness
