#include "harness/scenario.h"

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "model/bugs.h"
#include "properties/properties.h"

namespace essim::harness {
namespace {

sim::Result<Scenario> parse(const std::string& text) {
  return parse_scenario(text, "s.yaml", model::Registry::builtin());
}

TEST(Scenario, ReadsEveryKey) {
  const auto s = parse(R"(
name: full
description: every key
domain: bank
seeds: 7
duration: 2s
heal_max: 30s
topology:
  clients: 5
  snapshot_every: 3
  store: {group_commit: 2ms, fsync: 1ms..4ms, commit_delay_max: 3ms, pending_max: 99}
  bus: {poll_every: 2ms, redelivery_after: 40ms, window: 8}
  projections:
    - {name: balances, handler: bank.balances, dedup: none}
workload: {rate: 500/s, mix: {deposit: 3, withdraw: 1}}
faults:
  network: {latency: 1ms..5ms, drop: 0.1, duplicate: 0.2, delay: 0.05, delay_extra: 10ms..20ms, reorder: 0.3, jitter: 0..4ms}
  crashes: {every: 100ms..200ms, targets: [store, balances], restart_after: 5ms}
  disk: {torn_writes: true, read_corruption: 0.01}
  partitions: {every: 1s, heal_after: 100ms}
  clogs: {every: 2s, duration: 30ms}
bugs: [ack-before-sync]
properties: [no_lost_acknowledged_events]
expect: {violation: no_lost_acknowledged_events, within_seeds: 9}
)");
  ASSERT_TRUE(s.ok()) << s.error().message;
  const Scenario& x = s.value();
  EXPECT_EQ(x.seeds, 7U);
  EXPECT_EQ(x.spec.chaos_us, sim::seconds(2));
  EXPECT_EQ(x.spec.clients, 5);
  EXPECT_EQ(x.spec.client_interval_us, 10'000);  // 500/s over 5 clients
  EXPECT_EQ(x.spec.store.fsync_latency, (sim::DurationRange{1'000, 4'000}));
  EXPECT_EQ(x.spec.bus.window, 8U);
  ASSERT_EQ(x.spec.projections.size(), 1U);
  EXPECT_EQ(x.spec.projections[0].dedup, model::Dedup::kNone);
  EXPECT_EQ(x.spec.mix.size(), 2U);
  EXPECT_DOUBLE_EQ(x.spec.sim.network.reorder, 0.3);
  EXPECT_TRUE(x.spec.crashes);
  EXPECT_TRUE(x.spec.crash_targets.store);
  EXPECT_FALSE(x.spec.crash_targets.bus);
  EXPECT_FALSE(x.spec.crash_targets.projections);  // not every projection...
  EXPECT_EQ(x.spec.crash_targets.named, std::vector<std::string>{"balances"});  // ...this one
  EXPECT_TRUE(x.spec.sim.disk.torn_writes);
  EXPECT_TRUE(x.spec.partitions);
  EXPECT_TRUE(x.spec.clogs);
  EXPECT_TRUE(x.spec.bugs.has(model::Bug::kAckBeforeSync));
  EXPECT_FALSE(x.expect.pass);
  EXPECT_EQ(x.expect.within_seeds, 9U);
}

TEST(Scenario, ErrorsNameLineAndColumn) {
  EXPECT_EQ(parse("name: a\ndomain: bank\nseedz: 3\n").error().message,
            "s.yaml:3:1: unknown key 'seedz' in the scenario; did you mean 'seeds'?");
  EXPECT_EQ(parse("name: a\ndomain: bank\nduration: 5 s\n").error().message,
            "s.yaml:3:12: duration: unknown unit ' s': use us, ms, s, m or h");
  EXPECT_EQ(parse("name: a\ndomain: bnak\n").error().message,
            "s.yaml:2:9: no domain 'bnak' (did you mean 'bank'?); registered: bank, inventory");
  EXPECT_EQ(parse("name: a\n").error().message, "s.yaml:1:1: the scenario needs the key 'domain'");
  EXPECT_EQ(parse("- a\n- b\n").error().message,
            "s.yaml:1:1: a scenario file must be a mapping of keys (name:, domain:, ...)");
  EXPECT_EQ(parse("name: a\ndomain: bank\nexpect: {violation: no_overdraft}\n").error().message,
            "s.yaml:3:9: expect needs the key 'within_seeds'");
  EXPECT_EQ(parse("name: a\ndomain: inventory\nproperties: [no_oversel]\n").error().message,
            "s.yaml:3:14: no property 'no_oversel' for the inventory domain; did you mean "
            "'no_oversell'?");
  EXPECT_EQ(parse("name: a\ndomain: inventory\nproperties: [no_overdraft]\n").error().message,
            "s.yaml:3:14: no property 'no_overdraft' for the inventory domain");
  EXPECT_NE(parse("name: a\ndomain: bank\nworkload: {rate: fast}\n").error().message.find("200/s"),
            std::string::npos);
  EXPECT_NE(parse("name: a\ndomain: bank\nfaults: {crashes: {every: 0}}\n")
                .error()
                .message.find("positive"),
            std::string::npos);
}

TEST(Scenario, NearestKey) {
  EXPECT_EQ(nearest("heal_maks", {"heal_max", "seeds"}), "heal_max");
  EXPECT_EQ(nearest("zzzzzzzz", {"heal_max", "seeds"}), "");
}

// schema.json must name exactly what essim knows.
TEST(Scenario, JsonSchemaMatchesTheRegistry) {
  std::ifstream in(ESSIM_SOURCE_DIR "/scenarios/schema.json");
  ASSERT_TRUE(in) << "scenarios/schema.json is missing";
  const nlohmann::json schema = nlohmann::json::parse(in);
  std::vector<std::string> bugs;
  for (const model::BugInfo& b : model::all_bugs()) bugs.emplace_back(b.name);
  EXPECT_EQ(schema["properties"]["bugs"]["items"]["enum"].get<std::vector<std::string>>(), bugs);
  std::vector<std::string> properties;
  for (const properties::Property& p : properties::all_properties()) properties.push_back(p.name);
  EXPECT_EQ(schema["definitions"]["property"]["enum"].get<std::vector<std::string>>(), properties);
  EXPECT_EQ(schema["properties"]["topology"]["properties"]["projections"]["items"]["properties"]
                  ["handler"]["enum"]
                      .get<std::vector<std::string>>(),
            model::Registry::builtin().handler_names());
  EXPECT_EQ(schema["properties"]["domain"]["enum"].get<std::vector<std::string>>(),
            model::Registry::builtin().domain_names());
}

}  // namespace
}  // namespace essim::harness

namespace essim::harness {
namespace {

TEST(Scenario, ReadsAReproSection) {
  const auto s = parse(R"(
name: r
domain: bank
topology:
  clients: 2
  projections: [{name: balances, handler: bank.balances}]
repro:
  seed: 42
  chaos: 1500ms
  torn_writes: false
  faults:
    - {at: 1s, crash: store}
    - {at: 1.2s, restart: store}
    - {at: 1.3s, partition: 1, side_a: [store], side_b: [bus, client1]}
    - {at: 1.4s, clog: [client0, store], for: 20ms}
  messages:
    - {from: client0, to: store, message: 3, fate: delay, by: 40ms}
  work:
    - {client: 1, at: 120ms, kind: deposit, seed: 7}
)");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_TRUE(s.value().repro_seed.has_value());
  EXPECT_EQ(*s.value().repro_seed, 42U);
  const Decisions& d = *s.value().spec.script;
  EXPECT_EQ(d.chaos_us, sim::millis(1500));
  ASSERT_EQ(d.faults.size(), 4U);
  EXPECT_EQ(d.faults[2].side_b, (std::vector<sim::NodeId>{1, 4}));  // bus, client1
  EXPECT_EQ(d.faults[3].peer, 0U);
  ASSERT_EQ(d.messages.size(), 1U);
  EXPECT_EQ(d.messages[0].from, 3U);  // client0 after store, bus, balances
  EXPECT_EQ(d.messages[0].amount_us, sim::millis(40));
  ASSERT_EQ(d.work.size(), 1U);
  EXPECT_EQ(d.work[0].kind, "deposit");
}

TEST(Scenario, ReproErrorsNameTheNode) {
  EXPECT_EQ(
      parse("name: r\ndomain: bank\nrepro:\n  seed: 1\n  faults:\n    - {at: 1s, crash: stor}\n")
          .error()
          .message,
      "s.yaml:6:23: no node 'stor' in this topology (did you mean 'store'?)");
  EXPECT_NE(parse("name: r\ndomain: bank\nrepro:\n  seed: 1\n  work:\n    - {client: 9, at: 1s, "
                  "kind: deposit, seed: 1}\n")
                .error()
                .message.find("there is no client 9"),
            std::string::npos);
}

}  // namespace
}  // namespace essim::harness
