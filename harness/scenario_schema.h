#pragma once
// The keys of a scenario file, declared once: the loader checks files
// against these tables, the repro writer writes with them, and a test holds
// them equal to scenarios/schema.json. Adding a key means adding it here,
// there, and in scenarios/README.md.

#include <span>
#include <string_view>

namespace essim::harness::schema {

struct Key {
  std::string_view name;
  bool required = false;
};

// One mapping of a scenario file. `path` is how schema.json and messages
// name it: "" for the top level, "topology.store", "repro.faults[]" for each
// item of a list.
struct Section {
  std::string_view path;
  std::span<const Key> keys;

  constexpr bool has(std::string_view key) const {
    for (const Key& k : keys) {
      if (k.name == key) return true;
    }
    return false;
  }
};

inline constexpr Key kTop[] = {
    {"name", true}, {"description"}, {"domain", true},   {"seeds"}, {"duration"},   {"heal_max"},
    {"topology"},   {"workload"},    {"faults"},         {"bugs"},  {"properties"}, {"expect"},
    {"repro"},      {"external"},    {"require_probes"}, {"swarm"}, {"operations"}};
inline constexpr Key kExternal[] = {{"command"}, {"connect"}, {"cwd"}, {"env"}, {"timeout"}};
inline constexpr Key kTopology[] = {
    {"store"}, {"bus"}, {"projections"}, {"clients"}, {"snapshot_every"}};
inline constexpr Key kStore[] = {
    {"group_commit"}, {"fsync"}, {"commit_delay_max"}, {"pending_max"}};
inline constexpr Key kBus[] = {{"poll_every"}, {"redelivery_after"}, {"window"}};
inline constexpr Key kProjection[] = {{"name", true}, {"handler", true}, {"dedup"}};
// workload.mix is keyed by the domain's work kinds, so it has no table.
inline constexpr Key kWorkload[] = {{"rate"}, {"mix"}};
inline constexpr Key kFaults[] = {{"network"}, {"crashes"}, {"disk"}, {"partitions"}, {"clogs"}};
inline constexpr Key kNetwork[] = {{"latency"},     {"drop"},    {"duplicate"}, {"delay"},
                                   {"delay_extra"}, {"reorder"}, {"jitter"}};
inline constexpr Key kCrashes[] = {{"every", true}, {"targets"}, {"restart_after"}};
inline constexpr Key kDisk[] = {{"torn_writes"}, {"read_corruption"}, {"sync_failures"}};
inline constexpr Key kPartitions[] = {{"every", true}, {"heal_after"}};
inline constexpr Key kClogs[] = {{"every", true}, {"duration"}};
inline constexpr Key kExpect[] = {{"violation", true}, {"within_seeds", true}};
inline constexpr Key kRepro[] = {{"seed", true}, {"chaos"}, {"torn_writes"}, {"faults"},
                                 {"messages"},   {"work"},  {"swarm"},       {"operations"}};
// An operation: `at` and exactly one of rebuild (a projection) or audit (store).
inline constexpr Key kOperation[] = {
    {"at", true}, {"rebuild"}, {"audit"}, {"backup"}, {"restore"}, {"forget"}};
// A repro fault has `at` and exactly one of crash, restart, partition (with
// side_a and side_b), heal or clog (with an optional `for`).
inline constexpr Key kReproFault[] = {{"at", true},  {"crash"},  {"restart"},
                                      {"partition"}, {"side_a"}, {"side_b"},
                                      {"heal"},      {"clog"},   {"for"}};
// `by` is for delay and reorder only, and required there.
inline constexpr Key kReproMessage[] = {
    {"from", true}, {"to", true}, {"message", true}, {"fate", true}, {"by"}};
// repro.swarm: a strength per fault kind (harness/swarm.h, kSwarmKinds).
inline constexpr Key kReproSwarm[] = {
    {"crashes"}, {"partitions"},  {"clogs"},           {"drop"},         {"duplicate"}, {"delay"},
    {"reorder"}, {"torn_writes"}, {"read_corruption"}, {"sync_failures"}};
inline constexpr Key kReproWork[] = {
    {"client", true}, {"at", true}, {"kind", true}, {"seed", true}};

inline constexpr Section kTopSection{"", kTop};
inline constexpr Section kExternalSection{"external", kExternal};
inline constexpr Section kTopologySection{"topology", kTopology};
inline constexpr Section kStoreSection{"topology.store", kStore};
inline constexpr Section kBusSection{"topology.bus", kBus};
inline constexpr Section kProjectionSection{"topology.projections[]", kProjection};
inline constexpr Section kWorkloadSection{"workload", kWorkload};
inline constexpr Section kFaultsSection{"faults", kFaults};
inline constexpr Section kNetworkSection{"faults.network", kNetwork};
inline constexpr Section kCrashesSection{"faults.crashes", kCrashes};
inline constexpr Section kDiskSection{"faults.disk", kDisk};
inline constexpr Section kPartitionsSection{"faults.partitions", kPartitions};
inline constexpr Section kClogsSection{"faults.clogs", kClogs};
inline constexpr Section kExpectSection{"expect", kExpect};
inline constexpr Section kReproSection{"repro", kRepro};
inline constexpr Section kReproFaultSection{"repro.faults[]", kReproFault};
inline constexpr Section kReproMessageSection{"repro.messages[]", kReproMessage};
inline constexpr Section kReproWorkSection{"repro.work[]", kReproWork};
inline constexpr Section kReproSwarmSection{"repro.swarm", kReproSwarm};
inline constexpr Section kOperationSection{"operations[]", kOperation};
inline constexpr Section kReproOperationSection{"repro.operations[]", kOperation};

inline constexpr Section kSections[] = {
    kTopSection,           kTopologySection, kStoreSection,      kBusSection,
    kProjectionSection,    kWorkloadSection, kFaultsSection,     kNetworkSection,
    kCrashesSection,       kDiskSection,     kPartitionsSection, kClogsSection,
    kExpectSection,        kReproSection,    kReproFaultSection, kReproMessageSection,
    kReproWorkSection,     kExternalSection, kReproSwarmSection, kOperationSection,
    kReproOperationSection};

// `key` of `section`, checked at compile time where it can be: the writer
// and the loader name keys through this, so a key missing from its table
// does not compile (in a constant expression) or asserts.
consteval std::string_view key(const Section& section, std::string_view name) {
  if (!section.has(name)) throw "no such key in this section of the scenario schema";
  return name;
}

}  // namespace essim::harness::schema
