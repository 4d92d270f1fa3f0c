#pragma once
// Builds and runs a cluster of the model's nodes on the simulation kernel:
// one event store, one bus, projection workers and clients, for one seed.
// A run is a chaos phase (workload and faults) and then a heal phase (faults
// off, crashed nodes restarted, no new work) until the cluster is quiet: every
// client idle and every projection caught up with the store.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/backup.h"
#include "model/bus.h"
#include "model/client.h"
#include "model/domain.h"
#include "model/history.h"
#include "model/personal.h"
#include "model/projection.h"
#include "model/router.h"
#include "model/store.h"
#include "properties/properties.h"
#include "sim/fault_plan.h"
#include "sim/simulation.h"

namespace essim::harness {

struct ProjectionSpec {
  std::string name;     // node name
  std::string handler;  // "bank.balances"
  model::Dedup dedup = model::Dedup::kAtomicCheckpoint;
};

// The limits of one cluster (scenarios/README.md, "Limits"). The network
// holds a link per ordered pair of nodes, so nodes cost quadratic memory.
inline constexpr std::size_t kProjectionsMax = 256;
inline constexpr int kClientsMax = 64;

// Which nodes a fault family may hit, by role, plus projections by name.
struct FaultTargets {
  bool store = true;
  bool bus = true;
  bool projections = true;  // every projection
  bool clients = true;
  std::vector<std::string> named{};  // these projections (when not every one)
};

// An operation run during the chaos phase (scenario key `operations:`).
//   rebuild: a second worker of the projection `target` rebuilds its read
//     model from position 0 through a bus of its own, under the same faults,
//     while the projection serves; a router (model/router.h) cuts queries over
//     once the rebuild has caught up. Its nodes are `<target>-v2`,
//     `<target>-v2-bus` and `<target>-router`, after the clients.
//   audit: the store's log as it is on disk at that moment (`target` is
//     "store") is audited (model/audit.h): every length, CRC and the hash
//     chain; the result is in the trace and for the property audits_pass.
//   backup: an online backup of the store's log, taken through the store by
//     an agent (model/backup.h, node `store-backup`) while appends go on.
//   restore: the latest backup complete by then (waiting for one if none is)
//     is put on a fresh store node `store-restored`, which recovers from it
//     and serves from then on: a bus `store-restored-bus` feeds a worker
//     `<P>-restored` of every projection, and a client `restored-client`
//     appends to it until the chaos phase ends.
//   forget: the key store (node `keys`, present when the domain declares
//     personal data) deletes the key of the subject `target`, durably
//     (model/personal.h); if it is down then, as soon as it is up.
struct Operation {
  enum class Kind : std::uint8_t { kRebuild, kAudit, kBackup, kRestore, kForget };
  Kind kind = Kind::kRebuild;
  std::string target;
  sim::Micros at_us = 0;
  friend bool operator==(const Operation&, const Operation&) = default;
};
std::string_view to_string(Operation::Kind kind);
std::string describe(const Operation& operation);
inline constexpr std::size_t kNodesPerRebuild = 3;
// The most operations a scenario may list (each is checked against the others).
inline constexpr std::size_t kOperationsMax = 256;
// The rebuilds of `operations`, in order (each adds its nodes).
std::vector<Operation> rebuilds_of(const std::vector<Operation>& operations);
// The operations of `kind`, in order.
std::vector<Operation> operations_of(const std::vector<Operation>& operations,
                                     Operation::Kind kind);
inline constexpr std::string_view kBackupAgentName = "store-backup";
inline constexpr std::string_view kRestoredStoreName = "store-restored";
inline constexpr std::string_view kRestoredBusName = "store-restored-bus";
inline constexpr std::string_view kRestoredClientName = "restored-client";
std::string restored_worker_name(std::string_view projection);

// What a run decided, made explicit: every planned fault, every message's
// fault, every piece of work started. A run given these as its script makes
// exactly these decisions and no others (its other draws, such as latencies,
// still come from the seed).
struct Decisions {
  std::vector<sim::FaultAction> faults;
  std::vector<sim::MessageFate> messages;
  std::vector<model::PlannedWork> work;
  // The operations that ran (a shrink can remove one: its nodes stay idle).
  std::vector<Operation> operations;
  bool torn_writes = false;
  // The per-sync chance of a sync failure; unset: the scenario's. Failures are
  // drawn from the disks' own streams, so the seed decides which syncs fail.
  std::optional<double> sync_failures;
  sim::Micros chaos_us = 0;
  std::size_t size() const {
    return faults.size() + messages.size() + work.size() + operations.size();
  }
};

struct ClusterSpec {
  std::string domain = "bank";
  int clients = 3;
  sim::Micros client_interval_us = 20'000;
  std::vector<model::WorkWeight> mix;  // empty: every work kind of the domain, weight 1
  std::uint64_t snapshot_every = 0;
  std::vector<ProjectionSpec> projections;
  model::Bugs bugs;
  model::StoreConfig store;
  model::BusConfig bus;
  sim::SimConfig sim;
  // Process and network faults of the plan; nodes are chosen by `targets`.
  bool crashes = false;
  sim::DurationRange crash_every{sim::seconds(1), sim::seconds(3)};
  sim::DurationRange restart_after{sim::millis(10), sim::millis(500)};
  FaultTargets crash_targets;
  bool partitions = false;
  sim::DurationRange partition_every{sim::seconds(2), sim::seconds(5)};
  sim::DurationRange heal_after{sim::millis(100), sim::seconds(1)};
  bool clogs = false;
  sim::DurationRange clog_every{sim::seconds(1), sim::seconds(2)};
  sim::DurationRange clog_duration{sim::millis(10), sim::millis(100)};
  sim::Micros chaos_us = sim::seconds(5);
  sim::Micros heal_max_us = sim::seconds(60);
  std::vector<Operation> operations;  // each rebuild adds its nodes after the clients
  // The domain declares personal data: a key store node `keys` comes last
  // (set by the scenario loader; check_spec holds it to the domain). It
  // counts as the store for crash targets.
  bool key_store = false;
  // When set, the run makes exactly these decisions (see Decisions).
  std::shared_ptr<const Decisions> script;
};

struct Cluster {
  const model::Domain* domain = nullptr;
  std::unique_ptr<sim::Simulation> sim;
  model::History history;
  model::UserFailures user_failures;  // what user code threw in the nodes
  sim::NodeId store = sim::kNoNode;
  sim::NodeId bus = sim::kNoNode;
  std::vector<sim::NodeId> projections;
  std::vector<const model::ProjectionHandler*> handlers;  // by projection
  // By projection: what its read-model rules found at checkpoints.
  std::vector<std::vector<model::ReadModelFinding>> checkpoint_findings;
  std::vector<sim::NodeId> clients;
  // One per rebuild of spec.operations (rebuilds_of), in their order.
  struct Rebuild {
    std::size_t live = 0;  // the index of the projection it rebuilds
    sim::NodeId worker = sim::kNoNode;
    sim::NodeId bus = sim::kNoNode;
    sim::NodeId router = sim::kNoNode;
    const model::ProjectionHandler* handler = nullptr;
    std::optional<sim::Micros> started_at_us;  // nullopt: the operation does not run
    std::unique_ptr<model::RebuildLog> log = std::make_unique<model::RebuildLog>();
  };
  std::vector<Rebuild> rebuilds;
  std::vector<Operation> operations;            // the ones that run
  std::vector<properties::AuditRecord> audits;  // what each audit that ran found
  // Backups (when the spec has any): the agent, and the archive it fills.
  sim::NodeId backup_agent = sim::kNoNode;
  std::unique_ptr<model::BackupLog> backups = std::make_unique<model::BackupLog>();
  // The restore drill (when the spec has one): a fresh store and what serves from it.
  struct Restore {
    sim::NodeId store = sim::kNoNode;
    sim::NodeId bus = sim::kNoNode;
    std::vector<sim::NodeId> workers;  // by projection
    sim::NodeId client = sim::kNoNode;
    bool runs = false;  // the operation is among the ones that run
    std::optional<sim::Micros> restored_at_us;
    std::size_t backup = 0;  // which backup it restored
    std::string gave_up;     // why it never ran (no backup completed)
    model::History history;  // the restored client's (its work is in the cluster's work log)
  };
  std::unique_ptr<Restore> restore;
  // The key store (when the spec has one), and the oracle's ledger of what
  // was sealed and forgotten.
  sim::NodeId keys = sim::kNoNode;
  std::unique_ptr<model::PersonalLedger> ledger = std::make_unique<model::PersonalLedger>();
  std::size_t forgets = 0;        // forget operations that run
  std::size_t backups_asked = 0;  // backup operations that run
  sim::FaultPlan plan;
  model::WorkLog work_log;
  sim::RunOutcome heal;  // how the heal phase ended
  sim::Micros chaos_us = 0;
  bool torn_writes = false;
  double sync_failures = 0.0;

  // The decisions this run made (after run_cluster).
  Decisions decisions() const;

  // Quiet: every client idle and every projection caught up with the store.
  bool quiet();
  // The store's log as it is on disk now (what survived), decoded.
  model::StoreLog store_log();
  // The projection's persisted state, or the one in memory if it is up.
  const model::ProjectionState* projection_state(std::size_t index);
  // The rebuilt projection's state (nullptr while its worker is down).
  const model::ProjectionState* rebuild_state(std::size_t index);
  // The restore drill: puts the latest complete backup on the fresh store,
  // or tries again shortly while one may still come.
  void try_restore(sim::Simulation& sim);
  // Records, for the oracle, how much the store's log held durably when the
  // backup's end was fixed, and how much of `backup` it held when it completed.
  void record_durable_at_fix(model::Backup& backup);
  void record_durable(model::Backup& backup);
};

// The properties' verdict on a finished run, with what they looked at.
struct CheckedRun {
  model::StoreLog log;
  std::vector<model::SnapshotSave> snapshots;
  std::vector<properties::Violation> violations;
};
// Checks the named properties (every one that applies when empty).
CheckedRun check_cluster(Cluster& cluster, const ClusterSpec& spec,
                         const std::vector<std::string>& property_names = {});

// One part of a finished run's final state, hashed: a projection's state
// (read model and checkpoint, as encode_projection_state writes them) or a
// stream's aggregate replayed from the store's log (AggregateState::encode).
struct FinalState {
  std::string name;  // "projection balances", "stream acct-1"
  std::uint64_t hash = 0;
  friend bool operator==(const FinalState&, const FinalState&) = default;
};
// Every projection in node order, then every stream of `log` by name. User
// code that throws while a stream is replayed hashes what it threw (the
// properties report it).
std::vector<FinalState> final_states(Cluster& cluster, const model::StoreLog& log);
// A seed's fingerprint: the trace's, with every final state folded in, so
// that two runs whose messages agree but whose read models or aggregates
// differ still differ.
std::uint64_t seed_fingerprint(std::uint64_t trace_fingerprint,
                               const std::vector<FinalState>& states);

// Node ids are fixed by the spec: store 0, bus 1, projections, clients, then
// each rebuild's nodes (rebuild_node_names: worker, bus, router), the backup
// agent when there are backups, the restore's nodes when there is one
// (store, bus, a worker per projection, client), and the key store last
// when the spec has one.
std::size_t node_count(const ClusterSpec& spec);
// The clients whose work a run records and a repro scripts: the topology's,
// numbered from 0, then the restored client (numbered `clients`) when there
// is a restore.
int work_clients(const ClusterSpec& spec);
// The names of the nodes the operations add, in node order.
std::vector<std::string> operation_node_names(const ClusterSpec& spec);
std::vector<std::string> rebuild_node_names(std::string_view projection);
// The fault families of `spec` as the fault plan sees them (node ids as above).
sim::FaultConfig fault_config(const ClusterSpec& spec);
// Every reason build_cluster could refuse `spec`, found before anything is
// built; the scenario loader runs it too (after its own located checks), so
// a scenario it accepted always builds.
sim::Result<bool> check_spec(const ClusterSpec& spec, const model::Registry& registry);

// Builds the cluster for `seed`. The error (from check_spec) names what is
// wrong with `spec`.
sim::Result<std::unique_ptr<Cluster>> build_cluster(const ClusterSpec& spec, std::uint64_t seed,
                                                    const model::Registry& registry);
// Runs the chaos phase, then the heal phase until quiet or `heal_max_us`.
void run_cluster(Cluster& cluster, const ClusterSpec& spec);

}  // namespace essim::harness
