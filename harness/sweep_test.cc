#include "harness/sweep.h"

#include <gtest/gtest.h>

#include <mutex>
#include <set>

namespace essim::harness {
namespace {

TEST(SweepPlan, ShardsPartitionTheSeeds) {
  std::set<std::uint64_t> all;
  std::size_t total = 0;
  for (std::uint64_t shard = 0; shard < 3; ++shard) {
    const SweepPlan plan{.first_seed = 10, .seeds = 10, .shard_index = shard, .shard_count = 3};
    for (const std::uint64_t s : plan.seed_list()) all.insert(s);
    total += plan.seed_list().size();
  }
  EXPECT_EQ(total, 10U);
  EXPECT_EQ(all.size(), 10U);
  EXPECT_EQ(*all.begin(), 10U);
  EXPECT_EQ(*all.rbegin(), 19U);
}

TEST(Sweep, EverySeedRunsOnceWhateverTheJobs) {
  for (const int jobs : {1, 2, 5}) {
    const SweepPlan plan{.first_seed = 1, .seeds = 37, .jobs = jobs};
    std::vector<std::uint64_t> results(plan.seed_list().size(), 0);
    std::size_t last_done = 0;
    sweep(
        plan, [&](std::uint64_t seed, std::size_t slot) { results[slot] = seed * seed; },
        [&](std::size_t done, std::size_t total) {
          EXPECT_EQ(done, last_done + 1);
          EXPECT_EQ(total, 37U);
          last_done = done;
        });
    for (std::size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i], (i + 1) * (i + 1));
    EXPECT_EQ(last_done, 37U);
  }
}

}  // namespace
}  // namespace essim::harness
