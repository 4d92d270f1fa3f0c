// The whole model on the kernel: the correct system passes every property
// under every fault family, and each bug variant is caught by its property.

#include "harness/cluster.h"
#include "model/log.h"

#include <gtest/gtest.h>

#include <algorithm>

#include <fmt/format.h>

namespace essim::harness {
namespace {

using model::Bug;

ClusterSpec with_every_fault(ClusterSpec spec) {
  spec.crashes = true;
  spec.partitions = true;
  spec.clogs = true;
  spec.sim.network.latency = {sim::millis(1), sim::millis(20)};
  spec.sim.network.drop = 0.02;
  spec.sim.network.duplicate = 0.05;
  spec.sim.network.delay = 0.01;
  spec.sim.network.delay_extra = {sim::millis(50), sim::millis(200)};
  spec.sim.network.reorder = 0.1;
  spec.sim.network.reorder_jitter = {0, sim::millis(10)};
  spec.sim.disk.torn_writes = true;
  return spec;
}

ClusterSpec bank() {
  ClusterSpec spec;
  spec.domain = "bank";
  spec.snapshot_every = 5;
  spec.projections = {{"balances", "bank.balances", model::Dedup::kAtomicCheckpoint},
                      {"transfers", "bank.transfers", model::Dedup::kEventId}};
  return spec;
}

ClusterSpec inventory() {
  ClusterSpec spec;
  spec.domain = "inventory";
  spec.snapshot_every = 4;
  spec.projections = {{"available", "inventory.available", model::Dedup::kEventId}};
  return spec;
}

std::vector<properties::Violation> run(const ClusterSpec& spec, std::uint64_t seed,
                                       std::uint64_t* fingerprint = nullptr) {
  auto built = build_cluster(spec, seed, model::Registry::builtin());
  EXPECT_TRUE(built.ok()) << built.error().message;
  if (!built.ok()) return {};
  Cluster& c = *built.value();
  run_cluster(c, spec);
  if (fingerprint != nullptr) *fingerprint = c.sim->fingerprint();
  return check_cluster(c, spec).violations;
}

std::string show(const std::vector<properties::Violation>& violations) {
  std::string s;
  for (const auto& v : violations) {
    s += v.property + ": " + v.summary + "\n";
    for (const auto& e : v.evidence) s += "    " + e + "\n";
  }
  return s;
}

TEST(Cluster, CorrectSystemPassesEveryPropertyUnderEveryFault) {
  for (const ClusterSpec& spec :
       {bank(), with_every_fault(bank()), inventory(), with_every_fault(inventory())}) {
    for (std::uint64_t seed = 1; seed <= 6; ++seed) {
      const auto violations = run(spec, seed);
      EXPECT_TRUE(violations.empty()) << spec.domain << " seed " << seed << "\n"
                                      << show(violations);
    }
  }
}

TEST(Cluster, SameSeedSameFingerprint) {
  const ClusterSpec spec = with_every_fault(bank());
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint64_t other = 0;
  (void)run(spec, 9, &a);
  (void)run(spec, 9, &b);
  (void)run(spec, 10, &other);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
}

// A bug, the faults that expose it, and the property that must catch it.
struct BugCase {
  Bug bug;
  std::string property;
  std::function<ClusterSpec()> spec;
};

ClusterSpec store_crashes(ClusterSpec spec) {
  spec.crashes = true;
  spec.crash_targets = {.store = true, .bus = false, .projections = false, .clients = false};
  spec.crash_every = {sim::millis(200), sim::millis(600)};
  spec.restart_after = {sim::millis(10), sim::millis(100)};
  spec.sim.disk.torn_writes = true;
  spec.clients = 6;
  spec.client_interval_us = sim::millis(5);
  return spec;
}

ClusterSpec projection_crashes(ClusterSpec spec) {
  spec.crashes = true;
  spec.crash_targets = {.store = false, .bus = false, .projections = true, .clients = false};
  spec.crash_every = {sim::millis(100), sim::millis(300)};
  spec.restart_after = {sim::millis(5), sim::millis(50)};
  spec.sim.network.drop = 0.05;
  spec.clients = 6;
  spec.client_interval_us = sim::millis(5);
  return spec;
}

// balances rebuilt at 3 s of 5, while 4 clients append about 400 events a second.
ClusterSpec rebuild(ClusterSpec spec) {
  spec.clients = 4;
  spec.client_interval_us = sim::millis(10);
  spec.chaos_us = sim::seconds(5);
  spec.heal_max_us = sim::seconds(30);
  spec.operations = {{Operation::Kind::kRebuild, "balances", sim::seconds(3)}};
  spec.sim.network.duplicate = 0.05;
  return spec;
}

// Backups at 1, 2 and 3 s of 5 and a restore at 3.5 s, on slow disks, while
// 4 clients append about 400 events a second.
ClusterSpec backups(ClusterSpec spec) {
  spec.clients = 4;
  spec.client_interval_us = sim::millis(10);
  spec.chaos_us = sim::seconds(5);
  spec.heal_max_us = sim::seconds(30);
  spec.store.fsync_latency = {sim::millis(5), sim::millis(20)};
  spec.sim.network.latency = {sim::millis(1), sim::millis(3)};
  spec.operations = {{Operation::Kind::kBackup, "store", sim::seconds(1)},
                     {Operation::Kind::kBackup, "store", sim::seconds(2)},
                     {Operation::Kind::kBackup, "store", sim::seconds(3)},
                     {Operation::Kind::kRestore, "store", sim::millis(3500)}};
  return spec;
}

// The customers domain (personal data, a key store) with customers 0, 1
// and 2 forgotten at 1, 2 and 3 s of 4, while 3 clients register customers
// and change their email addresses.
ClusterSpec forgets() {
  ClusterSpec spec;
  spec.domain = "customers";
  spec.key_store = true;
  spec.snapshot_every = 2;
  spec.clients = 3;
  spec.client_interval_us = sim::millis(5);
  spec.chaos_us = sim::seconds(4);
  spec.heal_max_us = sim::seconds(30);
  spec.projections = {{"directory", "customers.directory", model::Dedup::kAtomicCheckpoint}};
  spec.sim.network.latency = {sim::millis(1), sim::millis(3)};
  spec.operations = {{Operation::Kind::kForget, "customer-0", sim::seconds(1)},
                     {Operation::Kind::kForget, "customer-1", sim::seconds(2)},
                     {Operation::Kind::kForget, "customer-2", sim::seconds(3)}};
  return spec;
}

ClusterSpec busy(ClusterSpec spec) {
  spec.clients = 8;
  spec.client_interval_us = sim::millis(2);
  spec.sim.network.latency = {sim::millis(1), sim::millis(5)};
  return spec;
}

std::vector<BugCase> bug_cases() {
  return {
      {Bug::kAckBeforeSync, "no_lost_acknowledged_events", [] { return store_crashes(bank()); }},
      {Bug::kNoConcurrencyCheck, "no_overdraft",
       [] {
         ClusterSpec s = busy(bank());
         s.mix = {{"open", 1}, {"deposit", 2}, {"withdraw", 6}};
         return s;
       }},
      {Bug::kRetryWithoutCommandId, "no_duplicate_commands",
       [] {
         ClusterSpec s = busy(bank());
         s.sim.network.drop = 0.2;
         return s;
       }},
      {Bug::kProjectionNoDedup, "replay_matches_projection",
       [] {
         ClusterSpec s = bank();
         s.sim.network.duplicate = 0.2;
         return s;
       }},
      {Bug::kCheckpointBeforeReadModel, "replay_matches_projection",
       [] { return projection_crashes(bank()); }},
      {Bug::kReadModelWithoutCheckpoint, "projections_converge",
       [] { return projection_crashes(bank()); }},
      {Bug::kReadAcrossCommitGaps, "projections_converge",
       [] {
         ClusterSpec s = busy(bank());
         s.store.commit_delay_max_us = sim::millis(20);
         s.bus.poll_every_us = sim::millis(1);
         return s;
       }},
      {Bug::kSnapshotOffByOne, "snapshot_equivalence", [] { return bank(); }},
      {Bug::kUpcasterDropsDefault, "upcast_equivalence", [] { return bank(); }},
      {Bug::kNoTornTailTruncation, "no_lost_acknowledged_events",
       [] { return store_crashes(bank()); }},
      {Bug::kSagaWithoutCompensation, "sagas_complete",
       [] {
         ClusterSpec s = bank();
         s.mix = {{"open", 1}, {"deposit", 2}, {"transfer", 6}};
         s.partitions = true;
         s.partition_every = {sim::millis(300), sim::millis(800)};
         s.heal_after = {sim::seconds(1), sim::seconds(2)};
         return s;
       }},
      {Bug::kBusAcksBeforeHandled, "projections_converge",
       [] {
         ClusterSpec s = bank();
         s.sim.network.drop = 0.05;
         return s;
       }},
      {Bug::kAckAfterFailedSync, "no_lost_acknowledged_events",
       [] {
         ClusterSpec s = bank();
         s.sim.disk.sync_failures = 0.05;
         return s;
       }},
      {Bug::kRebuildCutsOverEarly, "rebuild_never_goes_back", [] { return rebuild(bank()); }},
      {Bug::kRebuildSkipsLiveAppends, "rebuild_matches_live", [] { return rebuild(bank()); }},
      {Bug::kBackupCopiesTornTail, "backup_consistent", [] { return backups(bank()); }},
      {Bug::kBackupCopiesUncommitted, "backup_consistent", [] { return backups(bank()); }},
      {Bug::kPlaintextInReadModel, "forgotten_subjects_absent", [] { return forgets(); }},
      {Bug::kSnapshotKeepsPlaintext, "forgotten_subjects_absent", [] { return forgets(); }},
  };
}

// Test names and messages show the bug by name, not the struct's bytes.
void PrintTo(const BugCase& c, std::ostream* os) {
  *os << model::bug_name(c.bug);
}

class BugVariant : public ::testing::TestWithParam<BugCase> {};

TEST_P(BugVariant, IsCaughtByItsPropertyAndTheCorrectTwinPasses) {
  const BugCase& c = GetParam();
  constexpr std::uint64_t kSeeds = 10;
  std::uint64_t caught_at = 0;
  for (std::uint64_t seed = 1; seed <= kSeeds && caught_at == 0; ++seed) {
    ClusterSpec spec = c.spec();
    spec.bugs.set(c.bug);
    for (const auto& v : run(spec, seed)) {
      if (v.property == c.property) caught_at = seed;
    }
  }
  EXPECT_NE(caught_at, 0U) << model::bug_name(c.bug) << " not caught by " << c.property
                           << " within " << kSeeds << " seeds";
  // The same faults without the bug break nothing.
  const ClusterSpec twin = c.spec();
  const auto violations = run(twin, caught_at == 0 ? 1 : caught_at);
  EXPECT_TRUE(violations.empty()) << show(violations);
}

INSTANTIATE_TEST_SUITE_P(Model, BugVariant, ::testing::ValuesIn(bug_cases()),
                         [](const auto& param_info) {
                           std::string name(model::bug_name(param_info.param.bug));
                           std::erase(name, '-');
                           return name;
                         });

TEST(BugVariants, EveryBugHasACase) {
  EXPECT_EQ(bug_cases().size(), model::kBugCount);
}

}  // namespace
}  // namespace essim::harness

namespace essim::harness {
namespace {

ClusterSpec with_sync_failures(ClusterSpec spec) {
  spec = with_every_fault(std::move(spec));
  spec.sim.disk.sync_failures = 0.05;
  return spec;
}

TEST(SyncFailures, NodesFailStopAndRestartAndEveryPropertyHolds) {
  const ClusterSpec spec = with_sync_failures(bank());
  ClusterSpec kept = spec;
  kept.sim.keep_trace = true;
  auto built = build_cluster(kept, 3, model::Registry::builtin());
  ASSERT_TRUE(built.ok());
  Cluster& k = *built.value();
  run_cluster(k, spec);
  const sim::Trace& trace = k.sim->trace();
  ASSERT_GT(trace.count(sim::TraceKind::kSyncFailure), 0U);
  // Every sync failure is followed, at once, by a crash of the same node that
  // names it (fail-stop), and the node restarts later.
  std::size_t checked = 0;
  const auto& entries = trace.entries();
  for (std::size_t i = 0; i + 1 < entries.size(); ++i) {
    if (entries[i].kind != sim::TraceKind::kSyncFailure) continue;
    const sim::TraceEntry& crash = entries[i + 1];
    EXPECT_EQ(crash.kind, sim::TraceKind::kCrash);
    EXPECT_EQ(crash.node, entries[i].node);
    EXPECT_EQ(crash.b, 1U);  // a fail-stop, not a planned crash
    EXPECT_NE(crash.text.find("sync of"), std::string::npos) << crash.text;
    const auto restart =
        std::find_if(entries.begin() + static_cast<std::ptrdiff_t>(i) + 1, entries.end(),
                     [&](const sim::TraceEntry& e) {
                       return e.kind == sim::TraceKind::kRestart && e.node == crash.node;
                     });
    EXPECT_NE(restart, entries.end());
    ++checked;
  }
  EXPECT_GT(checked, 0U);
  const auto violations = check_cluster(k, spec).violations;
  EXPECT_TRUE(violations.empty()) << show(violations);
}

TEST(SyncFailures, SameSeedSameFingerprintAndTheScriptReplaysIt) {
  const ClusterSpec spec = with_sync_failures(bank());
  std::uint64_t a = 0;
  std::uint64_t b = 0;
  std::uint64_t without = 0;
  (void)run(spec, 5, &a);
  (void)run(spec, 5, &b);
  ClusterSpec off = spec;
  off.sim.disk.sync_failures = 0.0;
  (void)run(off, 5, &without);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, without);

  auto first = build_cluster(spec, 5, model::Registry::builtin());
  ASSERT_TRUE(first.ok());
  run_cluster(*first.value(), spec);
  const Decisions recorded = first.value()->decisions();
  ASSERT_TRUE(recorded.sync_failures.has_value());
  EXPECT_EQ(*recorded.sync_failures, 0.05);
  ClusterSpec scripted = spec;
  scripted.sim.disk.sync_failures = 0.0;  // the script's value wins
  scripted.script = std::make_shared<Decisions>(recorded);
  auto second = build_cluster(scripted, 5, model::Registry::builtin());
  ASSERT_TRUE(second.ok());
  run_cluster(*second.value(), scripted);
  EXPECT_EQ(second.value()->sim->fingerprint(), a);
}

// A run given its own decisions as a script is the same run, bit for bit;
// given none, it has no faults at all.
TEST(Decisions, ARecordedRunReplaysFromItsScriptAlone) {
  ClusterSpec spec = with_every_fault(bank());
  auto first = build_cluster(spec, 11, model::Registry::builtin());
  ASSERT_TRUE(first.ok());
  run_cluster(*first.value(), spec);
  const Decisions recorded = first.value()->decisions();
  EXPECT_FALSE(recorded.faults.empty());
  EXPECT_FALSE(recorded.messages.empty());
  EXPECT_FALSE(recorded.work.empty());

  ClusterSpec scripted = spec;
  scripted.script = std::make_shared<Decisions>(recorded);
  auto second = build_cluster(scripted, 11, model::Registry::builtin());
  ASSERT_TRUE(second.ok());
  run_cluster(*second.value(), scripted);
  EXPECT_EQ(second.value()->sim->fingerprint(), first.value()->sim->fingerprint());
  EXPECT_EQ(second.value()->decisions().messages, recorded.messages);

  Decisions none;
  none.chaos_us = recorded.chaos_us;
  ClusterSpec calm = spec;
  calm.script = std::make_shared<Decisions>(none);
  auto third = build_cluster(calm, 11, model::Registry::builtin());
  ASSERT_TRUE(third.ok());
  run_cluster(*third.value(), calm);
  EXPECT_TRUE(third.value()->decisions().messages.empty());
  EXPECT_TRUE(third.value()->decisions().work.empty());
  EXPECT_EQ(third.value()->sim->trace().count(sim::TraceKind::kCrash), 0U);
}

}  // namespace
}  // namespace essim::harness

namespace essim::harness {
namespace {

// Every reason to refuse a spec is found by check_spec, before anything is
// built, and build_cluster gives the same answer.
// The drill runs as it says: every backup completes, holds whole records
// only, and the restored store begins with the latest one complete at the
// restore and takes appends of its own; its workers catch up.
TEST(Cluster, BackupsCompleteAndTheRestoredStoreServes) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    ClusterSpec spec = backups(bank());
    spec.crashes = true;
    spec.crash_targets = {.store = true, .bus = true, .projections = true, .clients = false};
    spec.sim.disk.torn_writes = true;
    auto built = build_cluster(spec, seed, model::Registry::builtin());
    ASSERT_TRUE(built.ok()) << built.error().message;
    Cluster& c = *built.value();
    run_cluster(c, spec);
    const CheckedRun checked = check_cluster(c, spec);
    EXPECT_TRUE(checked.violations.empty()) << show(checked.violations);
    ASSERT_EQ(c.backups->backups.size(), 3U);
    std::size_t previous = 0;
    for (const model::Backup& b : c.backups->backups) {
      ASSERT_TRUE(b.done_at_us.has_value());
      EXPECT_FALSE(b.file_copy);
      EXPECT_GE(b.began_at_us, b.requested_at_us);
      const model::LogScan scan = model::scan_log(b.bytes);
      EXPECT_EQ(scan.status, model::LogScan::Status::kClean);
      EXPECT_GT(scan.bodies.size(), previous);  // appends went on between backups
      previous = scan.bodies.size();
    }
    ASSERT_TRUE(c.restore && c.restore->restored_at_us.has_value());
    EXPECT_GE(*c.restore->restored_at_us, sim::millis(3500));
    EXPECT_EQ(c.restore->backup, 2U);
    auto restored = c.sim->disk(c.restore->store).current_content(model::kEventsFile);
    ASSERT_TRUE(restored.ok());
    const model::StoreLog log = model::read_store_log(restored.value());
    const model::StoreLog backup = model::read_store_log(c.backups->backups[2].bytes);
    ASSERT_GE(log.commits.size(), backup.commits.size());
    EXPECT_GT(log.commits.size(), backup.commits.size());  // its client appended
    for (std::size_t i = 0; i < backup.commits.size(); ++i)
      EXPECT_EQ(log.commits[i].events, backup.commits[i].events);
    EXPECT_GT(c.restore->history.entries().size(), 0U);
    for (const sim::NodeId worker : c.restore->workers) {
      auto* p = dynamic_cast<model::ProjectionNode*>(c.sim->node(worker));
      ASSERT_NE(p, nullptr);
      EXPECT_GT(p->state().events_applied, backup.commits.size());
    }
  }
}

bool holds_text(const model::Bytes& bytes, const std::string& text) {
  const model::Bytes needle(text.begin(), text.end());
  return std::search(bytes.begin(), bytes.end(), needle.begin(), needle.end()) != bytes.end();
}

TEST(Cluster, PersonalDataIsSealedAndForgettingDeletesTheKeys) {
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    SCOPED_TRACE(seed);
    ClusterSpec spec = with_every_fault(forgets());
    auto built = build_cluster(spec, seed, model::Registry::builtin());
    ASSERT_TRUE(built.ok()) << built.error().message;
    Cluster& c = *built.value();
    run_cluster(c, spec);
    const CheckedRun checked = check_cluster(c, spec);
    EXPECT_TRUE(checked.violations.empty()) << show(checked.violations);
    ASSERT_NE(c.keys, sim::kNoNode);
    EXPECT_EQ(c.sim->name(c.keys), "keys");
    // Every forget done, after its time; each of those customers had a key.
    ASSERT_EQ(c.ledger->forgotten.size(), 3U);
    for (std::size_t i = 0; i < 3; ++i) {
      EXPECT_EQ(c.ledger->forgotten[i].subject, fmt::format("customer-{}", i));
      EXPECT_GE(c.ledger->forgotten[i].at_us, sim::seconds(static_cast<std::int64_t>(i + 1)));
    }
    // No plaintext of anyone in the log or the snapshots, forgotten or not:
    // the clients sealed every value they wrote.
    const auto log = c.sim->disk(c.store).current_content(model::kEventsFile);
    const auto snapshots = c.sim->disk(c.store).current_content(model::kSnapshotsFile);
    ASSERT_TRUE(log.ok() && snapshots.ok());
    std::size_t values = 0;
    for (const auto& [subject, sealed] : c.ledger->sealed) {
      for (const std::string& value : sealed) {
        ++values;
        EXPECT_FALSE(holds_text(log.value(), value)) << subject;
        EXPECT_FALSE(holds_text(snapshots.value(), value)) << subject;
      }
    }
    EXPECT_GT(values, 20U);
    EXPECT_TRUE(holds_text(log.value(), std::string(model::kTokenPrefix)));
  }
}

TEST(Cluster, ForgettingNeedsPersonalDataAndEachSubjectOnce) {
  const auto& registry = model::Registry::builtin();
  ClusterSpec spec = forgets();
  spec.key_store = false;
  EXPECT_NE(check_spec(spec, registry).error().message.find("needs the key store"),
            std::string::npos);
  ClusterSpec bank_spec = bank();
  bank_spec.operations = {{Operation::Kind::kForget, "acct-1", sim::seconds(1)}};
  EXPECT_NE(check_spec(bank_spec, registry).error().message.find("no personal data"),
            std::string::npos);
  spec = forgets();
  spec.operations.push_back({Operation::Kind::kForget, "customer-0", sim::millis(3500)});
  EXPECT_EQ(check_spec(spec, registry).error().message,
            "the subject 'customer-0' is forgotten twice");
  spec = forgets();
  spec.projections[0].name = "keys";
  EXPECT_NE(check_spec(spec, registry).error().message.find("'keys'"), std::string::npos);
  // The key store counts as the store for crashes.
  spec = forgets();
  EXPECT_EQ(node_count(spec), 2U + 1U + 3U + 1U);
}

TEST(Cluster, CheckSpecRefusesWhatCannotRun) {
  const auto& registry = model::Registry::builtin();
  const auto refused = [&](ClusterSpec spec, const std::string& fragment) {
    const auto checked = check_spec(spec, registry);
    EXPECT_FALSE(checked.ok()) << fragment;
    if (checked.ok()) return;
    EXPECT_NE(checked.error().message.find(fragment), std::string::npos) << checked.error().message;
    EXPECT_FALSE(build_cluster(spec, 1, registry).ok());
  };
  ClusterSpec spec;
  spec.projections = {{"balances", "bank.balances"}};
  ASSERT_TRUE(check_spec(spec, registry).ok());
  ClusterSpec s = spec;
  s.projections[0].name = "";
  refused(s, "must not be empty");
  s = spec;
  s.projections[0].handler = "inventory.available";
  refused(s, "another domain");
  s = spec;
  s.crashes = true;
  s.crash_targets = {.store = false, .bus = false, .projections = false, .clients = true};
  s.clients = 0;
  refused(s, "faults.crashes.targets needs at least 1 node");
  s = spec;
  s.store.group_commit_us = sim::kTimeMax;
  refused(s, "topology.store.group_commit must be from 0s to 86400s");
  s = spec;
  s.sim.network.latency = {0, sim::kDurationMax + 1};
  refused(s, "faults.network.latency must be a range");
  s = spec;
  s.crashes = true;
  s.crash_every = {1, 1};
  s.chaos_us = sim::seconds(3600);
  refused(s, "the fault plan could hold");
  s = spec;
  s.mix = {{"deposit", 0}};
  refused(s, "no positive weight");
}

// The most projections a scenario may have build quickly: the network is
// sized once, not once per node.
TEST(Cluster, BuildsTheMostProjections) {
  ClusterSpec spec;
  for (std::size_t i = 0; i < kProjectionsMax; ++i)
    spec.projections.push_back({fmt::format("p{}", i), "bank.balances"});
  spec.chaos_us = sim::millis(20);
  auto built = build_cluster(spec, 1, model::Registry::builtin());
  ASSERT_TRUE(built.ok()) << built.error().message;
  EXPECT_EQ(built.value()->projections.size(), kProjectionsMax);
  EXPECT_EQ(built.value()->sim->node_count(), node_count(spec));
  spec.projections.push_back({"one-more", "bank.balances"});
  EXPECT_FALSE(check_spec(spec, model::Registry::builtin()).ok());
}

}  // namespace
}  // namespace essim::harness
