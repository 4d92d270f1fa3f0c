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
            "s.yaml:2:9: no domain 'bnak' (did you mean 'bank'?); registered: bank, customers, "
            "inventory");
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
  for (const std::string& domain : model::Registry::builtin().domain_names()) {
    for (const std::string& name :
         properties::property_names(*model::Registry::builtin().domain(domain))) {
      if (std::find(properties.begin(), properties.end(), name) == properties.end())
        properties.push_back(name);
    }
  }
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

// ---- issue 12: the schema declared once, files that are not scenarios, and
// any mutation of a valid scenario either fails located or builds and runs.

#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <filesystem>
#include <set>

#include <rapidcheck/gtest.h>

#include "harness/scenario_schema.h"

namespace essim::harness {
namespace {

// The schema.json object that describes `path` ("topology.projections[]").
nlohmann::json schema_object(const nlohmann::json& root, std::string_view path) {
  nlohmann::json node = root;
  std::size_t start = 0;
  while (start < path.size()) {
    std::size_t end = path.find('.', start);
    if (end == std::string_view::npos) end = path.size();
    std::string part(path.substr(start, end - start));
    const bool item = part.ends_with("[]");
    if (item) part.resize(part.size() - 2);
    node = node["properties"][part];
    if (node.contains("oneOf")) {  // expect: 'pass' or a mapping
      nlohmann::json mapping;
      for (const nlohmann::json& choice : node["oneOf"]) {
        if (choice.value("type", "") == "object") mapping = choice;
      }
      node = mapping;
    }
    if (item) node = node["items"];
    start = end + 1;
  }
  return node;
}

TEST(Scenario, OperationsAreReadAndTheirErrorsLocated) {
  const std::string base =
      "name: r\ndomain: bank\nduration: 2s\ntopology: {projections: [{name: balances, handler: "
      "bank.balances}]}\n";
  const auto s = parse(base + "operations:\n  - {at: 1s, rebuild: balances}\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  ASSERT_EQ(s.value().spec.operations.size(), 1U);
  EXPECT_EQ(describe(s.value().spec.operations[0]), "rebuild balances at 1s");
  EXPECT_EQ(node_count(s.value().spec), 2U + 1U + 3U + 3U);  // store, bus, 1, 3 clients, 3
  const auto error = [&](const std::string& tail) {
    const auto r = parse(base + tail);
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  EXPECT_EQ(error("operations:\n  - {at: 1s, rebuild: balance}\n"),
            "s.yaml:6:23: rebuild names no projection of the topology: 'balance' (did you mean "
            "'balances'?)");
  EXPECT_EQ(error("operations:\n  - {at: 2s, rebuild: balances}\n"),
            "s.yaml:6:10: a rebuild at 2s never starts: the chaos phase ends at 2s");
  EXPECT_EQ(error("operations:\n  - {at: 1s, rebuild: balances}\n  - {at: 1.5s, rebuild: "
                  "balances}\n"),
            "s.yaml:7:5: the projection 'balances' is rebuilt twice; rebuild it once");
  EXPECT_EQ(error("operations:\n  - {at: 1s}\n"),
            "s.yaml:6:5: an operation is exactly one of rebuild: PROJECTION, audit: store, "
            "backup: store, restore: store or forget: SUBJECT");
  EXPECT_EQ(error("operations:\n  - {at: 1s, audit: store, rebuild: balances}\n"),
            "s.yaml:6:5: an operation is exactly one of rebuild: PROJECTION, audit: store, "
            "backup: store, restore: store or forget: SUBJECT, not rebuild and audit");
  EXPECT_EQ(error("operations:\n  - {at: 1s, audit: bus}\n"),
            "s.yaml:6:21: audit acts on the store's log: write 'audit: store', not 'bus'");
  EXPECT_EQ(error("operations:\n  - {at: 3s, audit: store}\n"),
            "s.yaml:6:10: an audit at 3s never starts: the chaos phase ends at 2s");
  const auto audits =
      parse(base + "operations: [{at: 1s, audit: store}, {at: 1.5s, audit: store}]\n");
  ASSERT_TRUE(audits.ok()) << audits.error().message;
  EXPECT_EQ(node_count(audits.value().spec), 2U + 1U + 3U);  // an audit adds no node
  EXPECT_EQ(error("operations: [{at: 1s, audit: store}]\nrepro: {seed: 1, operations: [{at: 1s, "
                  "audit: store}, {at: 1s, audit: store}]}\n"),
            "s.yaml:6:55: the audit at 1s is listed twice");
  EXPECT_EQ(error("operations:\n  - {at: 1s, rebuild: balances, auditt: store}\n"),
            "s.yaml:6:33: unknown key 'auditt' in an operation; did you mean 'audit'?");
  EXPECT_EQ(error("operations: {at: 1s}\n"),
            "s.yaml:5:13: operations must be a list such as [a, b], found a mapping");
  // A projection that takes a rebuild's node name.
  EXPECT_EQ(parse("name: r\ndomain: bank\nduration: 2s\ntopology: {projections: [{name: a, "
                  "handler: bank.balances}, {name: a-v2, handler: bank.balances}]}\noperations: "
                  "[{at: 1s, rebuild: a}]\n")
                .error()
                .message,
            "s.yaml:5:14: rebuild a at 1s needs a node named 'a-v2', which is taken");
  // A repro runs only the scenario's operations, each once.
  const std::string with_op = base + "operations: [{at: 1s, rebuild: balances}]\n";
  EXPECT_EQ(error("operations: [{at: 1s, rebuild: balances}]\nrepro: {seed: 1, operations: []}\n"),
            "accepted");
  const auto repro =
      parse(with_op + "repro: {seed: 1, operations: [{at: 0.5s, rebuild: balances}]}\n");
  ASSERT_TRUE(repro.ok()) << repro.error().message;
  ASSERT_EQ(repro.value().spec.script->operations.size(), 1U);
  EXPECT_EQ(repro.value().spec.script->operations[0].at_us, sim::millis(500));
  EXPECT_EQ(error("repro: {seed: 1, operations: [{at: 0.5s, rebuild: balances}]}\n"),
            "s.yaml:5:31: the scenario's operations have no rebuild of 'balances'; a repro runs "
            "only the scenario's");
}

TEST(Scenario, BackupAndRestoreOperationsAreReadAndTheirErrorsLocated) {
  const std::string base =
      "name: r\ndomain: bank\nduration: 3s\ntopology: {projections: [{name: balances, handler: "
      "bank.balances}, {name: transfers, handler: bank.transfers}]}\n";
  const auto error = [&](const std::string& tail) {
    const auto r = parse(base + tail);
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  const auto s = parse(base +
                       "operations: [{at: 1s, backup: store}, {at: 1.5s, backup: store}, "
                       "{at: 2s, restore: store}]\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  // store, bus, 2 projections, 3 clients; the agent; the restored store, bus,
  // a worker per projection and a client.
  EXPECT_EQ(node_count(s.value().spec), 2U + 2U + 3U + 1U + 2U + 2U + 1U);
  EXPECT_EQ(
      operation_node_names(s.value().spec),
      (std::vector<std::string>{"store-backup", "store-restored", "store-restored-bus",
                                "balances-restored", "transfers-restored", "restored-client"}));
  const auto backup_only = parse(base + "operations: [{at: 1s, backup: store}]\n");
  ASSERT_TRUE(backup_only.ok()) << backup_only.error().message;
  EXPECT_EQ(node_count(backup_only.value().spec), 2U + 2U + 3U + 1U);
  EXPECT_EQ(error("operations: [{at: 1s, backup: bus}]\n"),
            "s.yaml:5:31: backup acts on the store's log: write 'backup: store', not 'bus'");
  EXPECT_EQ(error("operations: [{at: 1s, restore: [store]}]\n"),
            "s.yaml:5:32: restore must be a string, found a list");
  EXPECT_EQ(error("operations: [{at: 2s, restore: store}]\n"),
            "s.yaml:5:14: the restore at 2s has no backup to restore: add a backup operation "
            "with an earlier at (e.g. {at: 1s, backup: store})");
  EXPECT_EQ(error("operations: [{at: 2s, backup: store}, {at: 1s, restore: store}]\n"),
            "s.yaml:5:39: the restore at 1s has no backup to restore: add a backup operation "
            "with an earlier at (e.g. {at: 1s, backup: store})");
  // The file's order does not matter, the times do.
  EXPECT_EQ(error("operations: [{at: 2s, restore: store}, {at: 1s, backup: store}]\n"), "accepted");
  EXPECT_EQ(error("operations: [{at: 1s, backup: store}, {at: 1s, restore: store}]\n"),
            "s.yaml:5:39: the restore at 1s has no backup to restore: add a backup operation "
            "with an earlier at (e.g. {at: 1s, backup: store})");
  // The restored client's work is client 3 (after the topology's 0..2) in a repro.
  EXPECT_EQ(error("operations: [{at: 1s, backup: store}, {at: 2s, restore: store}]\nrepro: "
                  "{seed: 1, work: [{client: 3, at: 2.5s, kind: deposit, seed: 4}]}\n"),
            "accepted");
  EXPECT_EQ(error("operations: [{at: 1s, backup: store}]\nrepro: {seed: 1, work: [{client: 3, "
                  "at: 2.5s, kind: deposit, seed: 4}]}\n"),
            "s.yaml:6:34: there is no client 3");
  EXPECT_EQ(error("operations: [{at: 1s, backup: store}, {at: 1s, backup: store}]\n"),
            "s.yaml:5:39: backup store at 1s is listed twice");
  EXPECT_EQ(error("operations: [{at: 1s, backup: store}, {at: 2s, restore: store}, {at: 2.5s, "
                  "restore: store}]\n"),
            "s.yaml:5:65: a second restore (at 2500ms); a run restores once");
  EXPECT_EQ(error("operations: [{at: 1s, backup: store, restore: store}]\n"),
            "s.yaml:5:14: an operation is exactly one of rebuild: PROJECTION, audit: store, "
            "backup: store, restore: store or forget: SUBJECT, not backup and restore");
  EXPECT_EQ(error("operations: [{at: 3s, backup: store}]\n"),
            "s.yaml:5:19: a backup at 3s never starts: the chaos phase ends at 3s");
  // A projection whose name a restore's worker needs.
  EXPECT_EQ(parse("name: r\ndomain: bank\nduration: 2s\ntopology: {projections: [{name: a, "
                  "handler: bank.balances}, {name: a-restored, handler: bank.balances}]}\n"
                  "operations: [{at: 0.5s, backup: store}, {at: 1s, restore: store}]\n")
                .error()
                .message,
            "s.yaml:5:41: restore store at 1s needs a node named 'a-restored', which is taken");
  // A repro runs the scenario's backups and restore exactly as the scenario has them.
  const std::string with_ops =
      base + "operations: [{at: 1s, backup: store}, {at: 2s, restore: store}]\n";
  const auto repro = parse(with_ops + "repro: {seed: 1, operations: [{at: 1s, backup: store}]}\n");
  ASSERT_TRUE(repro.ok()) << repro.error().message;
  EXPECT_EQ(repro.value().spec.script->operations.size(), 1U);
  const auto moved =
      parse(with_ops + "repro: {seed: 1, operations: [{at: 1.5s, backup: store}]}\n");
  ASSERT_FALSE(moved.ok());
  EXPECT_EQ(
      moved.error().message,
      "s.yaml:6:31: the scenario's operations have no backup store at 1500ms; a repro runs only "
      "the scenario's");
}

TEST(Scenario, ForgetOperationsAreReadAndTheirErrorsLocated) {
  const std::string base =
      "name: f\ndomain: customers\nduration: 3s\ntopology: {projections: [{name: directory, "
      "handler: customers.directory}]}\n";
  const auto error = [&](const std::string& text) {
    const auto r = parse(text);
    return r.ok() ? std::string("accepted") : r.error().message;
  };
  const auto s =
      parse(base + "operations: [{at: 1s, forget: customer-1}, {at: 2s, forget: customer-2}]\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  // A domain with personal data runs with its key store, last, forgets or not.
  EXPECT_TRUE(s.value().spec.key_store);
  EXPECT_EQ(operation_node_names(s.value().spec), (std::vector<std::string>{"keys"}));
  EXPECT_EQ(node_count(s.value().spec), 2U + 1U + 3U + 1U);
  EXPECT_EQ(s.value().spec.operations[1].target, "customer-2");
  const auto plain = parse(base);
  ASSERT_TRUE(plain.ok());
  EXPECT_TRUE(plain.value().spec.key_store);
  // A domain without personal data has nothing to forget.
  EXPECT_EQ(error("name: f\ndomain: bank\nduration: 3s\noperations: [{at: 1s, forget: acct-1}]\n"),
            "s.yaml:4:31: forget: the bank domain declares no personal data "
            "(Domain::personal_data), so there is nothing to forget");
  EXPECT_EQ(
      error(base + "operations: [{at: 1s, forget: customer-1}, {at: 2s, forget: customer-1}]\n"),
      "s.yaml:5:44: 'customer-1' is forgotten twice (at 1s and at 2s); forget a subject once");
  EXPECT_EQ(error(base + "operations: [{at: 1s, forget: [customer-1]}]\n"),
            "s.yaml:5:31: forget must be a string, found a list");
  EXPECT_EQ(error(base + "operations: [{at: 1s, forget: ''}]\n").find("s.yaml:5:31: forget "), 0U);
  EXPECT_EQ(error(base + "operations: [{at: 1s, forget: customer-1, audit: store}]\n"),
            "s.yaml:5:14: an operation is exactly one of rebuild: PROJECTION, audit: store, "
            "backup: store, restore: store or forget: SUBJECT, not audit and forget");
  EXPECT_EQ(error(base + "operations: [{at: 4s, forget: customer-1}]\n"),
            "s.yaml:5:19: a forget at 4s never starts: the chaos phase ends at 3s");
  // The key store's name is taken by a projection.
  EXPECT_EQ(error("name: f\ndomain: customers\nduration: 3s\ntopology: {projections: [{name: "
                  "keys, handler: customers.directory}]}\n"),
            "s.yaml:4:33: 'keys' is the key store's node (the customers domain declares personal "
            "data); name the projection differently");
  // The key store crashes with the store.
  const std::string keys_target =
      error(base + "faults: {crashes: {every: 1s..2s, targets: [keys]}}\n");
  EXPECT_NE(keys_target.find("the key store 'keys' is a crash target with 'store'"),
            std::string::npos)
      << keys_target;
  // At most kOperationsMax operations.
  std::string many = base + "operations: [";
  for (std::size_t i = 0; i <= kOperationsMax; ++i)
    many += (i == 0 ? "{at: 1s, forget: c-" : ", {at: 1s, forget: c-") + std::to_string(i) + "}";
  EXPECT_EQ(error(many + "]\n"), "s.yaml:5:13: at most 256 operations, not 257");
  // A repro runs the scenario's forgets exactly as the scenario has them.
  const std::string with_ops = base + "operations: [{at: 1s, forget: customer-1}]\n";
  EXPECT_EQ(error(with_ops + "repro: {seed: 1, operations: []}\n"), "accepted");
  EXPECT_EQ(error(with_ops + "repro: {seed: 1, operations: [{at: 1s, forget: customer-2}]}\n"),
            "s.yaml:6:31: the scenario's operations have no forget customer-2 at 1s; a repro runs "
            "only the "
            "scenario's");
}

TEST(Scenario, KeyTablesMatchTheJsonSchema) {
  std::ifstream in(ESSIM_SOURCE_DIR "/scenarios/schema.json");
  ASSERT_TRUE(in);
  const nlohmann::json root = nlohmann::json::parse(in);
  for (const schema::Section& section : schema::kSections) {
    SCOPED_TRACE(std::string(section.path));
    const nlohmann::json object = schema_object(root, section.path);
    ASSERT_TRUE(object.contains("properties")) << "'" << section.path << "' not in schema.json";
    EXPECT_EQ(object["additionalProperties"], false) << section.path;
    std::set<std::string> json_keys, json_required, table_keys, table_required;
    for (auto it = object["properties"].begin(); it != object["properties"].end(); ++it)
      json_keys.insert(it.key());
    if (object.contains("required")) {
      for (const auto& key : object["required"]) json_required.insert(key.get<std::string>());
    }
    for (const schema::Key& key : section.keys) {
      table_keys.emplace(key.name);
      if (key.required) table_required.emplace(key.name);
    }
    EXPECT_EQ(table_keys, json_keys) << "keys of '" << section.path << "'";
    EXPECT_EQ(table_required, json_required) << "required keys of '" << section.path << "'";
  }
}

// Every mapping of schema.json that lists its keys has a table.
TEST(Scenario, EveryJsonSchemaSectionHasATable) {
  std::ifstream in(ESSIM_SOURCE_DIR "/scenarios/schema.json");
  const nlohmann::json root = nlohmann::json::parse(in);
  std::set<std::string> tables;
  for (const schema::Section& section : schema::kSections) tables.emplace(section.path);
  std::function<void(const nlohmann::json&, const std::string&)> walk =
      [&](const nlohmann::json& node, const std::string& path) {
        if (!node.is_object()) return;
        if (node.contains("properties") && node.value("additionalProperties", true) == false) {
          EXPECT_EQ(tables.count(path), 1U) << "schema.json section '" << path << "' has no table";
          for (const auto& [key, value] : node["properties"].items()) {
            walk(value, path.empty() ? key : path + "." + key);
          }
        }
        if (node.contains("items")) walk(node["items"], path + "[]");
        if (node.contains("oneOf")) {
          for (const nlohmann::json& choice : node["oneOf"]) walk(choice, path);
        }
      };
  walk(root, "");
}

class TempDir {
 public:
  TempDir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "essim-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data()) != nullptr ? pattern : "";
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(Scenario, RefusesWhatIsNotARegularFileWithoutBlocking) {
  TempDir dir;
  ASSERT_FALSE(dir.path().empty());
  const std::string fifo = dir.path() + "/fifo.yaml";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const auto& registry = model::Registry::builtin();
  EXPECT_EQ(load_scenario(fifo, registry).error().message,
            fifo + ":1:1: this is a FIFO (named pipe), not a scenario file; give a .yaml file");
  EXPECT_EQ(load_scenario(dir.path(), registry).error().message,
            dir.path() + ":1:1: this is a directory, not a scenario file; give a .yaml file");
  EXPECT_EQ(load_scenario("/dev/zero", registry).error().message,
            "/dev/zero:1:1: this is a device, not a scenario file; give a .yaml file");
  EXPECT_EQ(load_scenario(dir.path() + "/none.yaml", registry).error().message,
            dir.path() + "/none.yaml:1:1: cannot open the file: No such file or directory");
}

TEST(Scenario, KeepsItsSourceText) {
  const std::string text = "name: a\ndomain: bank\n";
  EXPECT_EQ(parse(text).value().source, text);
}

TEST(Scenario, NamedCrashTargetIsThatProjectionOnly) {
  const auto s = parse(
      "name: a\ndomain: bank\ntopology:\n  clients: 1\n  projections:\n"
      "    - {name: balances, handler: bank.balances}\n"
      "    - {name: transfers, handler: bank.transfers}\n"
      "faults: {crashes: {every: 10ms, targets: [transfers]}}\n");
  ASSERT_TRUE(s.ok()) << s.error().message;
  const sim::FaultConfig faults = fault_config(s.value().spec);
  EXPECT_EQ(faults.crashes.targets, std::vector<sim::NodeId>{3});  // store 0, bus 1, balances 2
}

// A small valid scenario that runs in milliseconds, with every section.
constexpr std::string_view kValid = R"(name: mutant
description: a scenario to mutate
domain: bank
seeds: 3
duration: 100ms
heal_max: 2s
topology:
  clients: 2
  snapshot_every: 5
  store: {group_commit: 1ms, fsync: 500us..2ms, commit_delay_max: 1ms, pending_max: 64}
  bus: {poll_every: 5ms, redelivery_after: 50ms, window: 16}
  projections:
    - {name: balances, handler: bank.balances, dedup: atomic-checkpoint}
    - {name: transfers, handler: bank.transfers, dedup: event-id}
workload: {rate: 100/s, mix: {open: 1, deposit: 4, withdraw: 3, transfer: 2}}
faults:
  network: {latency: 1ms..5ms, drop: 0.02, duplicate: 0.05, delay: 0.01, delay_extra: 5ms..20ms, reorder: 0.1, jitter: 0..3ms}
  crashes: {every: 20ms..50ms, targets: [store, balances, clients], restart_after: 1ms..20ms}
  disk: {torn_writes: true, read_corruption: 0.001}
  partitions: {every: 30ms..60ms, heal_after: 5ms..20ms}
  clogs: {every: 30ms..60ms, duration: 1ms..10ms}
properties: [money_conserved, no_lost_acknowledged_events]
expect: pass
repro:
  seed: 5
  chaos: 80ms
  faults:
    - {at: 10ms, crash: store}
    - {at: 20ms, restart: store}
    - {at: 30ms, partition: 1, side_a: [store], side_b: [bus, client1]}
    - {at: 40ms, heal: 1}
    - {at: 50ms, clog: [client0, store], for: 5ms}
  messages:
    - {from: client0, to: store, message: 2, fate: delay, by: 4ms}
    - {from: store, to: client0, message: 1, fate: drop}
  work:
    - {client: 1, at: 12ms, kind: deposit, seed: 7}
)";

// Changes a number: the values most likely to stay well-formed YAML and
// still reach the loader's range checks.
std::string mutate_digits(std::string text) {
  std::vector<std::size_t> digits;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] >= '0' && text[i] <= '9') digits.push_back(i);
  }
  const std::size_t at = digits[*rc::gen::inRange<std::size_t>(0, digits.size())];
  switch (*rc::gen::inRange(0, 3)) {
    case 0:
      text[at] = static_cast<char>('0' + *rc::gen::inRange(0, 10));
      break;
    case 1:
      text.insert(at, std::string(static_cast<std::size_t>(*rc::gen::inRange(1, 25)), '9'));
      break;
    default:
      text.erase(at, 1);
  }
  return text;
}

std::string mutate_bytes(std::string text) {
  const auto edits = *rc::gen::inRange(1, 4);
  for (int i = 0; i < edits && !text.empty(); ++i) {
    const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
    const auto byte = static_cast<char>(*rc::gen::elementOf(
        std::vector<int>{'0', '9', '.',  ':',  '-',  '[',  ']',
                         '{', '}', ',',  ' ',  '\n', '#',  '&',
                         '*', '!', '"',  '\'', '\t', 'h',  'm',
                         's', 'u', 0x00, 0x07, 0xC3, 0xFF, *rc::gen::inRange(0, 256)}));
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        text[at] = byte;
        break;
      case 1:
        text.insert(at, 1, byte);
        break;
      default:
        text.erase(at, 1);
    }
  }
  return text;
}

// Swaps two words or values of the text: keys trade places with values,
// durations with names, numbers with lists.
std::string swap_tokens(const std::string& text) {
  // Words: runs of [A-Za-z0-9_.] (no <regex>: GCC 12 warns inside it under ASan).
  const auto in_word = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == '.';
  };
  std::vector<std::pair<std::size_t, std::size_t>> tokens;
  for (std::size_t i = 0; i < text.size();) {
    if (!in_word(text[i])) {
      ++i;
      continue;
    }
    std::size_t end = i;
    while (end < text.size() && in_word(text[end])) ++end;
    tokens.emplace_back(i, end - i);
    i = end;
  }
  auto a = *rc::gen::inRange<std::size_t>(0, tokens.size());
  auto b = *rc::gen::inRange<std::size_t>(0, tokens.size());
  if (a > b) std::swap(a, b);
  if (a == b) return text;
  const auto [a_at, a_length] = tokens[a];
  const auto [b_at, b_length] = tokens[b];
  return text.substr(0, a_at) + text.substr(b_at, b_length) +
         text.substr(a_at + a_length, b_at - a_at - a_length) + text.substr(a_at, a_length) +
         text.substr(b_at + b_length);
}

RC_GTEST_PROP(ScenarioProperty, AnyMutationFailsLocatedOrBuildsAndRuns, ()) {
  const int how = *rc::gen::inRange(0, 3);
  const std::string valid(kValid);
  const std::string text = how == 0   ? mutate_bytes(valid)
                           : how == 1 ? mutate_digits(valid)
                                      : swap_tokens(valid);
  const auto loaded = parse(text);
  RC_TAG(loaded.ok() ? "loaded" : "refused");
  if (!loaded.ok()) {
    // "s.yaml:LINE:COLUMN: what", one line, LINE and COLUMN at least 1.
    const std::string& message = loaded.error().message;
    RC_ASSERT(message.rfind("s.yaml:", 0) == 0U);
    RC_ASSERT(message.find('\n') == std::string::npos);
    std::size_t at = 7;
    for (int field = 0; field < 2; ++field) {
      const std::size_t digits = message.find_first_not_of("0123456789", at);
      RC_ASSERT(digits != std::string::npos);
      RC_ASSERT(digits > at);
      RC_ASSERT(message[digits] == ':');
      RC_ASSERT(std::stoi(message.substr(at, digits - at)) >= 1);
      at = digits + 1;
    }
    RC_ASSERT(message.size() > at + 1);
    RC_ASSERT(message[at] == ' ');
    return;
  }
  // Short: a mutation may lengthen the run, not the test. Shortening the
  // phases keeps the spec valid (fewer faults, no later times).
  ClusterSpec spec = loaded.value().spec;
  spec.chaos_us = std::min<sim::Micros>(spec.chaos_us, sim::millis(100));
  spec.heal_max_us = std::min<sim::Micros>(spec.heal_max_us, sim::seconds(2));
  spec.client_interval_us = std::max<sim::Micros>(spec.client_interval_us, 1'000);
  auto built = build_cluster(spec, 1, model::Registry::builtin());
  RC_ASSERT(built.ok());
  run_cluster(*built.value(), spec);
  (void)check_cluster(*built.value(), spec, loaded.value().properties);
}

TEST(Scenario, TheMutationBaseIsValid) {
  const auto s = parse(std::string(kValid));
  ASSERT_TRUE(s.ok()) << s.error().message;
}

}  // namespace
}  // namespace essim::harness
