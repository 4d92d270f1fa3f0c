#include "harness/swarm.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>

#include "harness/runner.h"
#include "harness/scenario.h"

namespace essim::harness {
namespace {

sim::Result<Scenario> parse(const std::string& text) {
  return parse_scenario(text, "s.yaml", model::Registry::builtin());
}

// Every fault kind on, so that each can be drawn.
constexpr const char* kAllFaults = R"(
faults:
  network: {drop: 0.2, duplicate: 0.2, delay: 0.2, delay_extra: 1ms..5ms, reorder: 0.2, jitter: 0..2ms}
  crashes: {every: 100ms..300ms, targets: [store, balances]}
  disk: {torn_writes: true, read_corruption: 0.01, sync_failures: 0.1}
  partitions: {every: 200ms..400ms}
  clogs: {every: 100ms..200ms}
)";

Scenario swarm_scenario(const std::string& extra = "") {
  auto s =
      parse(std::string("name: s\ndomain: bank\nduration: 300ms\nswarm: true\n") +
            "topology: {clients: 2, projections: [{name: balances, handler: bank.balances}]}\n" +
            kAllFaults + extra);
  EXPECT_TRUE(s.ok()) << s.error().message;
  return s.value();
}

TEST(Swarm, DrawsEachKindTheScenarioTurnsOn) {
  const Scenario s = swarm_scenario();
  ASSERT_EQ(swarm_kinds(s.spec).size(), std::size(kSwarmKinds));
  std::map<std::string, std::map<double, int>> seen;
  for (std::uint64_t seed = 0; seed < 2000; ++seed) {
    const SwarmDraw d = draw_swarm(s.spec, seed);
    EXPECT_EQ(d, draw_swarm(s.spec, seed));  // the seed decides
    ASSERT_EQ(d.kinds.size(), std::size(kSwarmKinds));
    for (const SwarmKind& k : d.kinds) ++seen[k.kind][k.strength];
  }
  // Off half the time, each strength an eighth: within a few standard deviations.
  for (const auto& [kind, strengths] : seen) {
    if (kind == "torn_writes") {  // on or off
      ASSERT_EQ(strengths.size(), 2U);
      EXPECT_NEAR(strengths.at(0.0), 1000, 100);
      continue;
    }
    ASSERT_EQ(strengths.size(), 5U) << kind;
    EXPECT_NEAR(strengths.at(0.0), 1000, 100) << kind;
    for (const double q : {0.25, 0.5, 0.75, 1.0}) EXPECT_NEAR(strengths.at(q), 250, 70) << kind;
  }
}

TEST(Swarm, AKindTheFileLeavesOffIsNeverDrawnAndLeavesTheOthersAlone) {
  const Scenario all = swarm_scenario();
  ClusterSpec fewer = all.spec;
  fewer.crashes = false;
  fewer.sim.network.drop = 0.0;
  for (std::uint64_t seed = 1; seed < 200; ++seed) {
    SwarmDraw expected = draw_swarm(all.spec, seed);
    std::erase_if(expected.kinds,
                  [](const SwarmKind& k) { return k.kind == "crashes" || k.kind == "drop"; });
    EXPECT_EQ(draw_swarm(fewer, seed), expected);
  }
}

RC_GTEST_PROP(SwarmProperty, NeverStrongerThanTheFile, ()) {
  const Scenario s = swarm_scenario();
  SwarmDraw draw;
  for (const schema::Key& kind : kSwarmKinds) {
    if (*rc::gen::arbitrary<bool>()) continue;  // left out: as the file says
    const double strength = *rc::gen::element(0.0, 1e-9, 0.25, 0.5, 0.75, 1.0, 0.3);
    draw.kinds.push_back({std::string(kind.name), strength});
  }
  const ClusterSpec a = apply_swarm(s.spec, draw);
  const ClusterSpec& f = s.spec;
  RC_ASSERT(a.sim.network.drop <= f.sim.network.drop);
  RC_ASSERT(a.sim.network.duplicate <= f.sim.network.duplicate);
  RC_ASSERT(a.sim.network.delay <= f.sim.network.delay);
  RC_ASSERT(a.sim.network.reorder <= f.sim.network.reorder);
  RC_ASSERT(a.sim.disk.read_corruption <= f.sim.disk.read_corruption);
  RC_ASSERT(a.sim.disk.sync_failures <= f.sim.disk.sync_failures);
  RC_ASSERT(!a.sim.disk.torn_writes || f.sim.disk.torn_writes);
  for (const auto& [on, every, file_every] :
       {std::tuple{a.crashes, a.crash_every, f.crash_every},
        std::tuple{a.partitions, a.partition_every, f.partition_every},
        std::tuple{a.clogs, a.clog_every, f.clog_every}}) {
    if (!on) continue;
    RC_ASSERT(every.min_us >= file_every.min_us);
    RC_ASSERT(every.max_us >= every.min_us);
  }
  // What the draw says, the spec does: off is off, full is the file.
  for (const SwarmKind& k : draw.kinds) {
    const bool off = k.strength == 0.0;
    if (k.kind == "crashes") RC_ASSERT(a.crashes == !off);
    if (k.kind == "drop" && k.strength == 1.0) RC_ASSERT(a.sim.network.drop == f.sim.network.drop);
    if (k.kind == "clogs" && k.strength == 1.0) RC_ASSERT(a.clog_every == f.clog_every);
  }
  // Whatever the mix, the scenario still builds.
  RC_ASSERT(check_spec(a, *s.registry).ok());
}

TEST(Swarm, AFullMixRunsExactlyAsWithoutSwarm) {
  const Scenario swarm = swarm_scenario();
  Scenario plain = swarm;
  plain.swarm = false;
  int compared = 0;
  for (std::uint64_t seed = 1; seed < 400 && compared < 2; ++seed) {
    const SwarmDraw d = draw_swarm(swarm.spec, seed);
    const bool full = std::all_of(d.kinds.begin(), d.kinds.end(),
                                  [](const SwarmKind& k) { return k.strength == 1.0; });
    if (!full) continue;
    ++compared;
    // The draw has a stream of its own: no other draw of the run moves.
    EXPECT_EQ(run_seed(swarm, seed).fingerprint, run_seed(plain, seed).fingerprint) << seed;
  }
  // 10 kinds at 1/8 each: about 1 seed in 10^9 is full; use fewer kinds.
  if (compared == 0) {
    Scenario two = swarm;
    two.spec.sim.network = {};
    two.spec.sim.disk = {};
    two.spec.clogs = false;
    Scenario two_plain = two;
    two_plain.swarm = false;
    for (std::uint64_t seed = 1; seed < 400 && compared < 2; ++seed) {
      const SwarmDraw d = draw_swarm(two.spec, seed);
      if (std::any_of(d.kinds.begin(), d.kinds.end(),
                      [](const SwarmKind& k) { return k.strength != 1.0; }))
        continue;
      ++compared;
      const SeedResult r = run_seed(two, seed);
      EXPECT_GT(r.faults, 0U);
      EXPECT_EQ(r.fingerprint, run_seed(two_plain, seed).fingerprint) << seed;
    }
  }
  EXPECT_EQ(compared, 2);
}

TEST(Swarm, ASeedRunsItsMixAndReplaysIt) {
  const Scenario s = swarm_scenario();
  std::set<std::uint64_t> fingerprints;
  for (std::uint64_t seed = 1; seed <= 4; ++seed) {
    const SeedResult r = run_seed(s, seed);
    ASSERT_TRUE(r.swarm.has_value());
    EXPECT_EQ(*r.swarm, draw_swarm(s.spec, seed));
    EXPECT_EQ(run_seed(s, seed).fingerprint, r.fingerprint);
    const bool planned = std::any_of(r.swarm->kinds.begin(), r.swarm->kinds.end(), [](auto& k) {
      return (k.kind == "crashes" || k.kind == "partitions" || k.kind == "clogs") &&
             k.strength > 0.0;
    });
    if (!planned) {
      EXPECT_EQ(r.faults, 0U) << seed << ": " << describe(*r.swarm);
    }
  }
}

TEST(Swarm, AReproRunsTheMixItRecords) {
  // Every planned fault off, whatever seed 7 would draw.
  const Scenario s =
      swarm_scenario("repro: {seed: 7, swarm: {crashes: 0, partitions: 0, clogs: 0, drop: 0.5}}\n");
  ASSERT_TRUE(s.swarm_draw.has_value());
  const SeedResult r = run_seed(s, 7);
  ASSERT_TRUE(r.swarm.has_value());
  EXPECT_EQ(r.swarm->kinds.size(), 4U);
  EXPECT_EQ(r.faults, 0U);
  EXPECT_EQ(describe(*r.swarm), "crashes off, partitions off, clogs off, drop 1/2");
  EXPECT_DOUBLE_EQ(seed_spec(s, 7).sim.network.drop, 0.1);
  EXPECT_DOUBLE_EQ(seed_spec(s, 7).sim.network.duplicate, 0.2);  // left out: as the file says
}

TEST(Swarm, BadSwarmKeysAreLocated) {
  const auto error = [](const std::string& text) {
    const auto s = parse(text);
    return s.ok() ? std::string("accepted") : s.error().message;
  };
  EXPECT_EQ(error("name: s\ndomain: bank\nswarm: true\n"),
            "s.yaml:3:8: swarm: true draws each seed's mix of the scenario's faults, but it turns "
            "none on; add faults (crashes, partitions, clogs, network or disk faults) or remove "
            "swarm");
  EXPECT_EQ(error("name: s\ndomain: bank\nswarm: 3\n"),
            "s.yaml:3:8: swarm must be true or false, found '3'");
  EXPECT_EQ(error("name: s\ndomain: bank\nswarm: false\n"), "accepted");
  const std::string base = "name: s\ndomain: bank\nfaults: {network: {drop: 0.1}}\n";
  EXPECT_EQ(error(base + "repro: {seed: 1, swarm: {drop: 1}}\n"),
            "s.yaml:4:25: repro.swarm is the fault mix of a swarm scenario, and this one has no "
            "'swarm: true'; add it or remove repro.swarm");
  EXPECT_EQ(error(base + "swarm: true\nrepro: {seed: 1, swarm: {drops: 1}}\n"),
            "s.yaml:5:26: unknown key 'drops' in repro.swarm; did you mean 'drop'?");
  EXPECT_EQ(error(base + "swarm: true\nrepro: {seed: 1, swarm: {crashes: 1}}\n"),
            "s.yaml:5:26: repro.swarm sets crashes, which this scenario's faults leave off");
  EXPECT_EQ(error(base + "swarm: true\nrepro: {seed: 1, swarm: {drop: 1.5}}\n"),
            "s.yaml:5:32: repro.swarm.drop must be a probability from 0 to 1, not 1.5");
  EXPECT_EQ(error(base + "swarm: true\nrepro: {seed: 1, swarm: {drop: [1]}}\n"),
            "s.yaml:5:32: repro.swarm.drop must be a probability (a number from 0 to 1), found a "
            "list");
  EXPECT_EQ(error(base + "swarm: true\nrepro: {seed: 1, swarm: [drop]}\n"),
            "s.yaml:5:25: repro.swarm must be a mapping of keys, found a list");
  EXPECT_EQ(error(base + "swarm: true\nrepro: {seed: 1, swarm: {drop: 0.25}}\n"), "accepted");
}

}  // namespace
}  // namespace essim::harness
