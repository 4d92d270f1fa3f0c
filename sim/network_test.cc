// The network's guarantees, observed through whole simulations.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <set>

#include "sim/simulation.h"
#include "sim/test_nodes.h"

namespace essim::sim {
namespace {

using testing::add_script_node;
using testing::payload;
using testing::payload_value;
using testing::Received;

// Each of `nodes` nodes sends `per_node` numbered messages at start, to peers
// chosen by its rng. Message value = sender * 1'000'000 + index.
struct Burst {
  std::vector<Received> inbox;
  std::uint64_t sent = 0;
  std::map<std::pair<NodeId, NodeId>, std::vector<std::uint64_t>> sent_on_link;
};

void add_burst_nodes(Simulation& sim, Burst& burst, NodeId nodes, int per_node) {
  for (NodeId n = 0; n < nodes; ++n) {
    add_script_node(sim, "n" + std::to_string(n), burst.inbox,
                    [&burst, nodes, per_node](Env& env, std::uint32_t incarnation) {
                      if (incarnation != 1) return;
                      for (int i = 0; i < per_node; ++i) {
                        const auto to = static_cast<NodeId>(env.rng().below(nodes));
                        const std::uint64_t value = env.self() * 1'000'000ULL + i;
                        env.send(to, payload(value));
                        burst.sent_on_link[{env.self(), to}].push_back(value);
                        ++burst.sent;
                      }
                    });
  }
}

std::map<std::uint64_t, int> arrivals(const Burst& burst) {
  std::map<std::uint64_t, int> count;
  for (const Received& r : burst.inbox) ++count[payload_value(r.bytes)];
  return count;
}

RC_GTEST_PROP(NetworkProperty, WithFaultsOffEveryMessageArrivesExactlyOnceInOrder,
              (std::uint64_t seed)) {
  const auto nodes = *rc::gen::inRange<NodeId>(1, 6);
  const auto per_node = *rc::gen::inRange(0, 40);
  const Micros lo = *rc::gen::inRange<Micros>(0, 10'000);
  const Micros hi = lo + *rc::gen::inRange<Micros>(0, 50'000);
  SimConfig config;
  config.network.latency = {lo, hi};
  Simulation sim(seed, config);
  Burst burst;
  add_burst_nodes(sim, burst, nodes, per_node);
  sim.start();
  RC_ASSERT(sim.run_until_quiet(seconds(10)).stop == RunOutcome::Stop::kQuiet);
  const auto count = arrivals(burst);
  RC_ASSERT(burst.inbox.size() == burst.sent);
  for (const auto& [value, n] : count) RC_ASSERT(n == 1);
  // FIFO per link: receipt order on each link equals send order.
  std::map<std::pair<NodeId, NodeId>, std::vector<std::uint64_t>> received_on_link;
  for (const Received& r : burst.inbox) {
    received_on_link[{r.from, r.to}].push_back(payload_value(r.bytes));
    const Micros latency_floor = lo;
    RC_ASSERT(r.at_us >= latency_floor);
  }
  RC_ASSERT(received_on_link == burst.sent_on_link);
}

RC_GTEST_PROP(NetworkProperty, WithDuplicationOnlyEveryMessageArrivesAtLeastOnce,
              (std::uint64_t seed)) {
  SimConfig config;
  config.network.latency = {100, 20'000};
  config.network.duplicate = *rc::gen::inRange(1, 100) / 100.0;
  Simulation sim(seed, config);
  Burst burst;
  add_burst_nodes(sim, burst, 3, 30);
  sim.start();
  RC_ASSERT(sim.run_until_quiet(seconds(10)).stop == RunOutcome::Stop::kQuiet);
  const auto count = arrivals(burst);
  RC_ASSERT(count.size() == burst.sent);
  for (const auto& [value, n] : count) {
    RC_ASSERT(n >= 1);
    RC_ASSERT(n <= 2);
  }
  RC_ASSERT(burst.inbox.size() == burst.sent + sim.trace().count(TraceKind::kDuplicate));
}

TEST(Network, DropRateFollowsTheProbability) {
  SimConfig config;
  config.network.drop = 0.25;
  Simulation sim(11, config);
  Burst burst;
  add_burst_nodes(sim, burst, 2, 4'000);
  sim.start();
  (void)sim.run_until_quiet(seconds(10));
  const double delivered =
      static_cast<double>(burst.inbox.size()) / static_cast<double>(burst.sent);
  EXPECT_NEAR(delivered, 0.75, 0.02);
  EXPECT_EQ(sim.trace().count(TraceKind::kDrop) + burst.inbox.size(), burst.sent);
}

TEST(Network, ReorderLetsMessagesOvertake) {
  SimConfig config;
  config.network.latency = {1'000, 1'000};
  config.network.reorder = 0.5;
  config.network.reorder_jitter = {0, 10'000};
  Simulation sim(3, config);
  Burst burst;
  add_burst_nodes(sim, burst, 2, 200);
  sim.start();
  (void)sim.run_until_quiet(seconds(10));
  ASSERT_EQ(burst.inbox.size(), burst.sent);
  bool overtaken = false;
  std::map<std::pair<NodeId, NodeId>, std::uint64_t> last;
  for (const Received& r : burst.inbox) {
    const std::uint64_t v = payload_value(r.bytes);
    auto [it, fresh] = last.try_emplace({r.from, r.to}, v);
    if (!fresh && v < it->second) overtaken = true;
    it->second = std::max(it->second, v);
  }
  EXPECT_TRUE(overtaken);
}

// A sends to B every millisecond; a partition from 100ms to 300ms.
TEST(Network, APartitionDeliversNothingAcrossItUntilHealed) {
  Simulation sim(5, SimConfig{});
  std::vector<Received> inbox;
  const NodeId a = add_script_node(sim, "a", inbox, [](Env& env, std::uint32_t) {
    struct Tick {
      static void arm(Env& e, int n) {
        if (n == 0) return;
        e.send(1, payload(static_cast<std::uint64_t>(e.now())));
        e.set_timer(1'000, [n](Env& e2) { arm(e2, n - 1); });
      }
    };
    Tick::arm(env, 500);
  });
  const NodeId b = add_script_node(sim, "b", inbox);
  std::uint64_t partition_id = 0;
  sim.at(millis(100), [&](Simulation& s) { partition_id = s.partition({a}, {b}); });
  sim.at(millis(300), [&](Simulation& s) { EXPECT_TRUE(s.heal(partition_id)); });
  sim.start();
  (void)sim.run_until_quiet(seconds(5));
  bool before = false;
  bool after = false;
  for (const Received& r : inbox) {
    EXPECT_FALSE(r.at_us >= millis(100) && r.at_us < millis(300)) << "delivered at " << r.at_us;
    before |= r.at_us < millis(100);
    after |= r.at_us >= millis(300);
  }
  EXPECT_TRUE(before);
  EXPECT_TRUE(after);
  EXPECT_GT(sim.trace().count(TraceKind::kDrop), 150U);
}

TEST(Network, AClogHoldsMessagesBackUntilItEnds) {
  Simulation sim(5, SimConfig{});
  std::vector<Received> inbox;
  add_script_node(sim, "a", inbox, [](Env& env, std::uint32_t) {
    env.set_timer(10'000, [](Env& e) { e.send(1, payload(1)); });
  });
  add_script_node(sim, "b", inbox);
  sim.at(0, [](Simulation& s) { s.clog(0, 1, millis(50)); });
  sim.start();
  (void)sim.run_until_quiet(seconds(1));
  ASSERT_EQ(inbox.size(), 1U);
  EXPECT_GE(inbox[0].at_us, millis(50));
}

TEST(NetworkFaults, ValidateRejectsBadProbabilitiesAndRanges) {
  NetworkFaults f;
  EXPECT_TRUE(f.validate().ok());
  f.drop = 1.5;
  auto r = f.validate();
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("network.drop"), std::string::npos);
  f = NetworkFaults{};
  f.latency = {5, 1};
  EXPECT_FALSE(f.validate().ok());
}

}  // namespace
}  // namespace essim::sim
