#include "harness/sweep.h"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <set>

namespace essim::harness {
namespace {

TEST(SweepPlan, ShardsPartitionTheSeeds) {
  std::set<std::uint64_t> all;
  std::size_t total = 0;
  for (std::uint64_t shard = 0; shard < 3; ++shard) {
    const SweepPlan plan{.first_seed = 10, .seeds = 10, .shard_index = shard, .shard_count = 3};
    for (std::uint64_t i = 0; i < plan.count(); ++i) all.insert(plan.seed(i));
    total += plan.count();
  }
  EXPECT_EQ(total, 10U);
  EXPECT_EQ(all.size(), 10U);
  EXPECT_EQ(*all.begin(), 10U);
  EXPECT_EQ(*all.rbegin(), 19U);
}

TEST(Sweep, EverySeedRunsOnceWhateverTheJobs) {
  for (const int jobs : {1, 2, 5}) {
    const SweepPlan plan{.first_seed = 1, .seeds = 37, .jobs = jobs};
    std::vector<std::uint64_t> results(plan.count(), 0);
    std::size_t last_done = 0;
    sweep(
        plan,
        [&](std::uint64_t seed, std::uint64_t slot) {
          results[slot] = seed * seed;
          return true;
        },
        [&](std::uint64_t done, std::uint64_t total) {
          EXPECT_EQ(done, last_done + 1);
          EXPECT_EQ(total, 37U);
          last_done = done;
        });
    for (std::size_t i = 0; i < results.size(); ++i) EXPECT_EQ(results[i], (i + 1) * (i + 1));
    EXPECT_EQ(last_done, 37U);
  }
}

TEST(SweepPlan, UnevenShardsCoverEverySeedOnce) {
  for (std::uint64_t seeds = 1; seeds < 12; ++seeds) {
    std::set<std::uint64_t> all;
    for (std::uint64_t shard = 0; shard < 4; ++shard) {
      const SweepPlan plan{.first_seed = 5, .seeds = seeds, .shard_index = shard, .shard_count = 4};
      ASSERT_FALSE(plan.invalid());
      for (std::uint64_t i = 0; i < plan.count(); ++i) {
        EXPECT_TRUE(all.insert(plan.seed(i)).second);
        EXPECT_LT(plan.seed(i), 5 + seeds);
      }
    }
    EXPECT_EQ(all.size(), seeds);
  }
}

TEST(SweepPlan, RangesPastTheLargestSeedAreRefused) {
  const std::uint64_t max = UINT64_MAX;
  EXPECT_FALSE((SweepPlan{.first_seed = max, .seeds = 1}.invalid()));
  EXPECT_TRUE((SweepPlan{.first_seed = max, .seeds = 2}.invalid()));
  EXPECT_FALSE((SweepPlan{.first_seed = 0, .seeds = max}.invalid()));
  EXPECT_TRUE((SweepPlan{.first_seed = 1, .seeds = 0}.invalid()));
  EXPECT_TRUE(
      (SweepPlan{.first_seed = 1, .seeds = 3, .shard_index = 2, .shard_count = 2}.invalid()));
  const SweepPlan last{.first_seed = max - 9, .seeds = 10, .shard_index = 1, .shard_count = 3};
  EXPECT_EQ(last.seed(last.count() - 1), max - 9 + 1 + 3 * (last.count() - 1));
}

TEST(Sweep, AStopEndsTheSweepAfterTheSeedsAlreadyTaken) {
  for (const int jobs : {1, 2, 4}) {
    const SweepPlan plan{.first_seed = 1, .seeds = 1'000'000'000'000ULL, .jobs = jobs};
    std::atomic<std::uint64_t> ran{0};
    std::atomic<std::uint64_t> highest{0};
    sweep(plan, [&](std::uint64_t seed, std::uint64_t index) {
      ++ran;
      std::uint64_t seen = highest.load();
      while (seed > seen && !highest.compare_exchange_weak(seen, seed)) {
      }
      return index < 9;  // index 9 (seed 10) says stop
    });
    EXPECT_GE(ran.load(), 10U);
    EXPECT_LE(highest.load(), 10U + static_cast<std::uint64_t>(jobs));
  }
}

TEST(SweepPlan, AHugePlanCostsNothingUpFront) {
  const SweepPlan plan{.first_seed = 1, .seeds = 100'000'000'000ULL, .shard_count = 7};
  EXPECT_EQ(plan.count(), 100'000'000'000ULL / 7 + 1);
}

}  // namespace
}  // namespace essim::harness
