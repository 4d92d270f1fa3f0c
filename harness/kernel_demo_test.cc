#include "harness/kernel_demo.h"

#include <gtest/gtest.h>

namespace essim::harness {
namespace {

TEST(KernelDemo, CorrectKeeperPassesUnderEveryFault) {
  const DemoConfig config;
  std::uint64_t crashes = 0;
  std::uint64_t partitions = 0;
  std::uint64_t dropped = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const DemoResult r = run_demo(seed, config);
    EXPECT_TRUE(r.violations.empty()) << "seed " << seed << ": " << r.violations.front();
    EXPECT_GT(r.writes_acked, 0U);
    crashes += r.crashes;
    partitions += r.partitions;
    dropped += r.messages_dropped;
  }
  // The sweep really injected faults.
  EXPECT_GT(crashes, 20U);
  EXPECT_GT(partitions, 10U);
  EXPECT_GT(dropped, 1000U);
}

TEST(KernelDemo, AckBeforeSyncIsCaught) {
  DemoConfig config;
  config.ack_before_sync = true;
  int caught = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const DemoResult r = run_demo(seed, config);
    if (!r.violations.empty()) {
      ++caught;
      EXPECT_NE(r.violations.front().find("no_lost_acknowledged_writes"), std::string::npos);
    }
  }
  EXPECT_GT(caught, 0);
}

TEST(KernelDemo, SameSeedSameFingerprintAndCalmRunsHaveNoFaults) {
  const DemoConfig config;
  EXPECT_EQ(run_demo(7, config).fingerprint, run_demo(7, config).fingerprint);
  EXPECT_NE(run_demo(7, config).fingerprint, run_demo(8, config).fingerprint);
  DemoConfig calm;
  calm.faults = false;
  const DemoResult r = run_demo(7, calm);
  EXPECT_TRUE(r.violations.empty());
  EXPECT_EQ(r.crashes, 0U);
  EXPECT_EQ(r.messages_dropped, 0U);
  EXPECT_EQ(r.messages_duplicated, 0U);
  EXPECT_TRUE(r.faults.empty());
}

}  // namespace
}  // namespace essim::harness
