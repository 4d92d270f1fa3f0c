// The store against a simple in-memory model (rc::state): appends, conflicts,
// idempotent retries, reads, crashes with recovery, and crashes in the middle
// of an append (which may or may not survive, but must answer its retry the
// same way either way).

#include "model/store.h"
#include "model/trace_notes.h"

#include <gtest/gtest.h>

#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>
#include <algorithm>

#include <fmt/format.h>

#include "model/codec.h"
#include "sim/simulation.h"

namespace essim::model {
namespace {

// Sends what the test says and keeps every reply.
class Driver final : public sim::Node {
 public:
  void on_start(sim::Env&) override {}
  void on_message(sim::Env&, const sim::Message& m) override {
    auto decoded = decode(m.bytes);
    if (decoded.ok()) replies.push_back(std::move(decoded).value());
  }
  std::vector<Message> replies;
};

struct StoreModel {
  std::map<std::string, std::vector<std::uint64_t>> streams;  // event tags by version
  std::vector<std::pair<CommandId, std::string>> commands;    // appended, with their stream
  std::uint64_t next_tag = 1;
  std::uint64_t version(const std::string& s) const {
    const auto it = streams.find(s);
    return it == streams.end() ? 0 : it->second.size();
  }
};

struct StoreSut {
  sim::Simulation sim;
  Driver* driver = nullptr;
  std::map<CommandId, AppendReply> answers;  // the first ok answer per command
  std::uint64_t next_request = 1;

  explicit StoreSut(std::uint64_t seed) : sim(seed, config()) {
    sim.add_node("store", [] { return std::make_unique<StoreNode>(StoreConfig{}); });
    sim.add_node("driver", [this] {
      auto node = std::make_unique<Driver>();
      driver = node.get();
      return node;
    });
    sim.start();
  }
  static sim::SimConfig config() {
    sim::SimConfig c;
    c.disk.torn_writes = true;
    return c;
  }
  void send(const Message& m) {
    sim::SimEnv env(sim, 1);
    env.send(0, encode(m));
  }
  // Sends and runs until the reply arrives.
  Message ask(Message m) {
    const std::size_t before = driver->replies.size();
    send(m);
    const auto outcome =
        sim.run_until_quiet(sim::seconds(5), [&] { return driver->replies.size() > before; });
    RC_ASSERT(outcome.stop == sim::RunOutcome::Stop::kQuiet);
    RC_ASSERT(driver->replies.size() == before + 1);
    return driver->replies.back();
  }
  void crash_and_restart() {
    sim.crash(0);
    sim.restart(0);
    (void)sim.run_until_quiet(sim::seconds(5));
  }
};

using StoreCommand = rc::state::Command<StoreModel, StoreSut>;

std::string any_stream() {
  return *rc::gen::element<std::string>("a", "b", "c");
}

AppendRequest request(const StoreModel& m, const std::string& stream, std::int64_t expected,
                      const CommandId& id, int n, std::uint64_t request_id) {
  AppendRequest r;
  r.request_id = request_id;
  r.stream = stream;
  r.expected_version = expected;
  r.command_id = id;
  for (int i = 0; i < n; ++i) {
    Event e;
    e.id = EventId{0xe, m.next_tag + static_cast<std::uint64_t>(i)};
    e.type = "Tagged";
    Writer(e.payload).varint(m.next_tag + static_cast<std::uint64_t>(i));
    r.events.push_back(std::move(e));
  }
  return r;
}

void add(StoreModel& m, const std::string& stream, const CommandId& id, int n) {
  for (int i = 0; i < n; ++i) m.streams[stream].push_back(m.next_tag++);
  m.commands.emplace_back(id, stream);
}

void expect_ok(StoreSut& sut, const Message& reply, const CommandId& id, std::uint64_t version) {
  const auto* r = std::get_if<AppendReply>(&reply);
  RC_ASSERT(r != nullptr);
  RC_ASSERT(r->status == AppendStatus::kOk);
  RC_ASSERT(r->stream_version == version);
  const auto [it, fresh] = sut.answers.emplace(id, *r);
  if (!fresh) {
    RC_ASSERT(r->first_position == it->second.first_position);
    RC_ASSERT(r->stream_version == it->second.stream_version);
  }
}

struct Append : StoreCommand {
  std::string stream = any_stream();
  int n = *rc::gen::inRange(1, 4);
  bool any_version = *rc::gen::arbitrary<bool>();
  CommandId id{*rc::gen::inRange<std::uint64_t>(1, UINT64_MAX), 1};
  void apply(StoreModel& m) const override { add(m, stream, id, n); }
  void run(const StoreModel& m, StoreSut& sut) const override {
    const std::int64_t expected =
        any_version ? kAnyVersion : static_cast<std::int64_t>(m.version(stream));
    const Message reply = sut.ask(request(m, stream, expected, id, n, sut.next_request++));
    expect_ok(sut, reply, id, m.version(stream) + static_cast<std::uint64_t>(n));
    RC_ASSERT(!std::get<AppendReply>(reply).replayed);
  }
  void show(std::ostream& os) const override {
    os << "Append(" << stream << ", " << n << (any_version ? ", any" : "") << ")";
  }
};

struct AppendStale : StoreCommand {
  std::string stream = any_stream();
  std::uint64_t wrong = *rc::gen::inRange<std::uint64_t>(1, 5);
  void apply(StoreModel&) const override {}
  void run(const StoreModel& m, StoreSut& sut) const override {
    const std::uint64_t current = m.version(stream);
    const auto expected = static_cast<std::int64_t>(current + wrong);
    const Message reply = sut.ask(
        request(m, stream, expected, CommandId{9, sut.next_request}, 1, sut.next_request++));
    const auto& r = std::get<AppendReply>(reply);
    RC_ASSERT(r.status == AppendStatus::kConflict);
    RC_ASSERT(r.stream_version == current);
  }
  void show(std::ostream& os) const override {
    os << "AppendStale(" << stream << ", +" << wrong << ")";
  }
};

struct RetryDone : StoreCommand {
  explicit RetryDone(const StoreModel& m) {
    if (!m.commands.empty()) index = *rc::gen::inRange<std::size_t>(0, m.commands.size());
  }
  std::size_t index = SIZE_MAX;
  void checkPreconditions(const StoreModel& m) const override { RC_PRE(index < m.commands.size()); }
  void apply(StoreModel&) const override {}
  void run(const StoreModel& m, StoreSut& sut) const override {
    const auto& [id, stream] = m.commands[index];
    // A stale expected version: the command id must win over the check.
    const Message reply = sut.ask(request(m, stream, 0, id, 1, sut.next_request++));
    const auto& r = std::get<AppendReply>(reply);
    RC_ASSERT(r.status == AppendStatus::kOk);
    RC_ASSERT(r.replayed);
    RC_ASSERT(r.first_position == sut.answers.at(id).first_position);
  }
  void show(std::ostream& os) const override { os << "RetryDone(#" << index << ")"; }
};

void check_stream(const StoreModel& m, StoreSut& sut, const std::string& stream,
                  std::uint64_t from) {
  const Message reply = sut.ask(ReadStreamRequest{sut.next_request++, stream, from, 0});
  const auto& r = std::get<ReadStreamReply>(reply);
  RC_ASSERT(r.stream_version == m.version(stream));
  const auto it = m.streams.find(stream);
  const std::vector<std::uint64_t> none;
  const auto& tags = it == m.streams.end() ? none : it->second;
  const std::size_t skip = std::min<std::size_t>(from == 0 ? 0 : from - 1, tags.size());
  RC_ASSERT(r.events.size() == tags.size() - skip);
  for (std::size_t i = 0; i < r.events.size(); ++i) {
    Reader payload(r.events[i].payload);
    RC_ASSERT(payload.varint() == tags[skip + i]);
    RC_ASSERT(r.events[i].version == skip + i + 1);
    RC_ASSERT(r.events[i].stream == stream);
  }
}

struct ReadStream : StoreCommand {
  std::string stream = any_stream();
  std::uint64_t from = *rc::gen::inRange<std::uint64_t>(0, 6);
  void apply(StoreModel&) const override {}
  void run(const StoreModel& m, StoreSut& sut) const override {
    check_stream(m, sut, stream, from);
  }
  void show(std::ostream& os) const override {
    os << "ReadStream(" << stream << ", " << from << ")";
  }
};

struct ReadAll : StoreCommand {
  void apply(StoreModel&) const override {}
  void run(const StoreModel& m, StoreSut& sut) const override {
    const Message reply = sut.ask(ReadAllRequest{sut.next_request++, 1, 0});
    const auto& r = std::get<ReadAllReply>(reply);
    std::size_t total = 0;
    for (const auto& [s, tags] : m.streams) total += tags.size();
    RC_ASSERT(r.events.size() == std::min<std::size_t>(total, 256));
    for (std::size_t i = 1; i < r.events.size(); ++i) {
      RC_ASSERT(r.events[i].position > r.events[i - 1].position);
    }
  }
  void show(std::ostream& os) const override { os << "ReadAll"; }
};

struct CrashRestart : StoreCommand {
  void apply(StoreModel&) const override {}
  void run(const StoreModel& m, StoreSut& sut) const override {
    sut.crash_and_restart();
    for (const auto& [stream, tags] : m.streams) check_stream(m, sut, stream, 1);
  }
  void show(std::ostream& os) const override { os << "CrashRestart"; }
};

// An append cut short by a crash at a random moment: it may survive or not;
// its retry (same command id) must then leave exactly one copy, and if the
// first attempt was acknowledged, answer with the same positions.
struct AppendThenCrash : StoreCommand {
  std::string stream = any_stream();
  int n = *rc::gen::inRange(1, 4);
  sim::Micros crash_after_us = *rc::gen::inRange<sim::Micros>(0, 8'000);
  CommandId id{*rc::gen::inRange<std::uint64_t>(1, UINT64_MAX), 2};
  void apply(StoreModel& m) const override { add(m, stream, id, n); }
  void run(const StoreModel& m, StoreSut& sut) const override {
    const auto expected = static_cast<std::int64_t>(m.version(stream));
    const std::size_t before = sut.driver->replies.size();
    sut.send(request(m, stream, expected, id, n, sut.next_request++));
    (void)sut.sim.run_until(sut.sim.now() + crash_after_us);
    const bool acknowledged = sut.driver->replies.size() > before;
    if (acknowledged) expect_ok(sut, sut.driver->replies.back(), id, m.version(stream) + n);
    sut.crash_and_restart();
    const Message retry = sut.ask(request(m, stream, expected, id, n, sut.next_request++));
    expect_ok(sut, retry, id, m.version(stream) + static_cast<std::uint64_t>(n));
    if (acknowledged) RC_ASSERT(std::get<AppendReply>(retry).replayed);
  }
  void show(std::ostream& os) const override {
    os << "AppendThenCrash(" << stream << ", " << n << ", after " << crash_after_us << "us)";
  }
};

RC_GTEST_PROP(StoreModelTest, BehavesLikeTheModel, ()) {
  StoreSut sut(*rc::gen::arbitrary<std::uint64_t>());
  rc::state::check(StoreModel{}, sut,
                   rc::state::gen::execOneOfWithArgs<Append, AppendStale, RetryDone, ReadStream,
                                                     ReadAll, CrashRestart, AppendThenCrash>());
}

TEST(Store, RecoveryTruncatesATornTailAndReportsCorruption) {
  sim::Simulation sim(3, sim::SimConfig{.keep_trace = true});
  sim.add_node("store", [] { return std::make_unique<StoreNode>(StoreConfig{}); });
  sim.start();
  // A log with one good commit, then garbage: a torn tail.
  Bytes log;
  Bytes body;
  Event e;
  e.stream = "s";
  e.version = 1;
  e.position = 1;
  e.type = "T";
  encode_commit(CommitRecord{CommandId{1, 1}, {e}}, body);
  const std::uint64_t h = append_record(log, 0, body);
  Bytes torn = log;
  torn.insert(torn.end(), {0x10, 0, 0, 0, 1, 2, 3});
  sim.crash(0);
  ASSERT_TRUE(sim.disk(0).replace(kEventsFile, torn).is_ok());
  ASSERT_TRUE(sim.disk(0).sync(kEventsFile).is_ok());
  sim.restart(0);
  EXPECT_EQ(sim.disk(0).current_content(kEventsFile).value(), log);
  auto* store = dynamic_cast<StoreNode*>(sim.node(0));
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(store->corrupt());
  EXPECT_EQ(store->durable_events().size(), 1U);

  // A damaged first record followed by a good one: corruption, nothing served past it.
  Bytes corrupt = log;
  (void)append_record(corrupt, h, body);
  corrupt[20] ^= 0xff;
  sim.crash(0);
  ASSERT_TRUE(sim.disk(0).replace(kEventsFile, corrupt).is_ok());
  ASSERT_TRUE(sim.disk(0).sync(kEventsFile).is_ok());
  sim.restart(0);
  store = dynamic_cast<StoreNode*>(sim.node(0));
  EXPECT_TRUE(store->corrupt());
  EXPECT_TRUE(store->durable_events().empty());
  bool reported = false;
  for (const sim::TraceEntry& t : sim.trace().entries()) reported |= t.text == notes::kLogCorrupt;
  EXPECT_TRUE(reported);
}

}  // namespace
}  // namespace essim::model

namespace essim::model {
namespace {

// A failed sync: the store does not acknowledge what it covered, stops (the
// trace shows a crash that names the sync), and after its restart answers the
// client's retry from what is really on disk.
TEST(Store, AFailedSyncIsNotAcknowledgedAndFailStops) {
  sim::SimConfig config{.keep_trace = true};
  config.fail_stop_restart_after = {sim::millis(50), sim::millis(50)};
  sim::Simulation sim(5, config);
  sim.add_node("store", [] { return std::make_unique<StoreNode>(StoreConfig{}); });
  Driver* driver = nullptr;
  sim.add_node("driver", [&driver] {
    auto node = std::make_unique<Driver>();
    driver = node.get();
    return node;
  });
  sim.start();
  sim.disk(0).set_faults({.sync_failures = 1.0});
  AppendRequest r = request(StoreModel{}, "a", 0, CommandId{7, 7}, 2, 1);
  sim::SimEnv(sim, 1).send(0, encode(Message{r}));
  (void)sim.run_until(sim::millis(20));

  EXPECT_TRUE(driver->replies.empty());  // nothing acknowledged
  EXPECT_FALSE(sim.is_up(0));
  EXPECT_EQ(sim.trace().count(sim::TraceKind::kSyncFailure), 1U);
  const auto& entries = sim.trace().entries();
  const auto crash = std::find_if(entries.begin(), entries.end(), [](const sim::TraceEntry& e) {
    return e.kind == sim::TraceKind::kCrash;
  });
  ASSERT_NE(crash, entries.end());
  EXPECT_EQ(crash->b, 1U);
  EXPECT_NE(crash->text.find("events.log"), std::string::npos);
  for (const sim::TraceEntry& e : entries) {
    EXPECT_FALSE(e.kind == sim::TraceKind::kNote && e.text == "ack") << sim::describe(e);
  }
  // Never synced, the log is gone with the crash.
  EXPECT_FALSE(sim.disk(0).exists(kEventsFile));

  // Restarted with a healthy disk, the same command is appended afresh.
  sim.disk(0).set_faults({});
  (void)sim.run_until(sim::millis(60));
  ASSERT_TRUE(sim.is_up(0));
  r.request_id = 2;
  sim::SimEnv(sim, 1).send(0, encode(Message{r}));
  (void)sim.run_until(sim::millis(100));
  ASSERT_EQ(driver->replies.size(), 1U);
  const auto* reply = std::get_if<AppendReply>(&driver->replies.back());
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->status, AppendStatus::kOk);
  EXPECT_EQ(reply->first_position, 1U);
  EXPECT_FALSE(reply->replayed);
}

// The bug keeps going after the failed sync and acknowledges on the next,
// successful one, though the records are gone.
TEST(Store, TheBugAcknowledgesWhatAFailedSyncLost) {
  sim::Simulation sim(5, sim::SimConfig{.keep_trace = true});
  StoreConfig store;
  store.bugs.set(Bug::kAckAfterFailedSync);
  sim.add_node("store", [store] { return std::make_unique<StoreNode>(store); });
  Driver* driver = nullptr;
  sim.add_node("driver", [&driver] {
    auto node = std::make_unique<Driver>();
    driver = node.get();
    return node;
  });
  sim.start();
  sim.disk(0).set_faults({.sync_failures = 1.0});
  const AppendRequest r = request(StoreModel{}, "a", 0, CommandId{7, 7}, 2, 1);
  sim::SimEnv(sim, 1).send(0, encode(Message{r}));
  // Every sync fails, but the retry has nothing left to lose, so it succeeds.
  (void)sim.run_until(sim::millis(20));
  EXPECT_TRUE(sim.is_up(0));
  EXPECT_EQ(sim.trace().count(sim::TraceKind::kSyncFailure), 1U);
  ASSERT_EQ(driver->replies.size(), 1U);
  const auto* reply = std::get_if<AppendReply>(&driver->replies.back());
  ASSERT_NE(reply, nullptr);
  EXPECT_EQ(reply->status, AppendStatus::kOk);
  EXPECT_TRUE(read_store_log(sim.disk(0).current_content(kEventsFile).value()).commits.empty());
}

}  // namespace
}  // namespace essim::model

namespace essim::model {
namespace {

// A store with slow syncs, and a driver that talks to it.
struct BackupRig {
  sim::Simulation sim;
  Driver* driver = nullptr;
  std::uint64_t next_request = 1;

  explicit BackupRig(bool bug, double read_corruption = 0.0) : sim(3, sim::SimConfig{}) {
    StoreConfig config;
    config.fsync_latency = {sim::millis(50), sim::millis(50)};
    config.backup_chunk_max = 40;  // less than a record: each chunk reads one whole
    config.bugs.set(Bug::kBackupCopiesUncommitted, bug);
    sim.add_node("store", [config] { return std::make_unique<StoreNode>(config); });
    sim.add_node("driver", [this] {
      auto node = std::make_unique<Driver>();
      driver = node.get();
      return node;
    });
    sim.start();
    sim.disk(0).set_faults({.read_corruption = read_corruption});
  }
  void append(const std::string& stream, std::uint64_t tag) {
    StoreModel m;
    m.next_tag = tag;
    sim::SimEnv(sim, 1).send(
        0, encode(Message{request(m, stream, kAnyVersion, CommandId{5, tag}, 1, next_request++)}));
  }
  BackupChunk ask(std::uint64_t offset, std::uint64_t until, std::uint64_t previous_hash) {
    const std::size_t before = driver->replies.size();
    sim::SimEnv(sim, 1).send(
        0, encode(Message{BackupRequest{next_request++, offset, until, previous_hash}}));
    (void)sim.run_until_quiet(sim::seconds(1), [&] { return driver->replies.size() > before; });
    EXPECT_EQ(driver->replies.size(), before + 1);
    const auto* chunk = std::get_if<BackupChunk>(&driver->replies.back());
    return chunk == nullptr ? BackupChunk{} : *chunk;
  }
  // A whole backup, chunk by chunk, as the agent reads it.
  Bytes backup() {
    Bytes out;
    std::uint64_t hash = 0;
    BackupChunk chunk = ask(0, 0, 0);
    const std::uint64_t until = chunk.until;
    for (int i = 0; i < 100 && chunk.refused.empty(); ++i) {
      const LogScan scan = scan_log(chunk.bytes, hash);
      EXPECT_EQ(scan.status, LogScan::Status::kClean);
      EXPECT_FALSE(chunk.bytes.empty() && out.size() < until);
      out.insert(out.end(), chunk.bytes.begin(), chunk.bytes.end());
      hash = scan.last_hash;
      if (out.size() >= until) break;
      chunk = ask(out.size(), until, hash);
    }
    EXPECT_TRUE(chunk.refused.empty()) << chunk.refused;
    EXPECT_EQ(out.size(), until);
    return out;
  }
};

TEST(StoreBackup, ServesTheCommittedRecordsOnlyChunkByChunk) {
  BackupRig rig(/*bug=*/false, /*read_corruption=*/0.2);
  for (std::uint64_t tag = 1; tag <= 4; ++tag) rig.append("s", tag);
  (void)rig.sim.run_until(sim::millis(200));  // appended and synced
  rig.append("s", 5);                         // written, its sync 50 ms away
  (void)rig.sim.run_until(sim::millis(210));
  const Bytes durable = rig.sim.disk(0).durable_content(kEventsFile).value();
  ASSERT_LT(durable.size(), rig.sim.disk(0).current_content(kEventsFile).value().size());
  // Read corruption makes the store read again; what it serves checks out.
  const Bytes backup = rig.backup();
  EXPECT_EQ(backup, durable);
  EXPECT_EQ(read_store_log(backup).commits.size(), 4U);
}

TEST(StoreBackup, TheBugServesAppendsNotYetCommitted) {
  BackupRig rig(/*bug=*/true);
  for (std::uint64_t tag = 1; tag <= 4; ++tag) rig.append("s", tag);
  (void)rig.sim.run_until(sim::millis(200));
  rig.append("s", 5);
  (void)rig.sim.run_until(sim::millis(210));
  const Bytes backup = rig.backup();
  EXPECT_EQ(read_store_log(backup).commits.size(), 5U);
  EXPECT_GT(backup.size(), rig.sim.disk(0).durable_content(kEventsFile).value().size());
}

TEST(StoreBackup, AnEndPastTheLogBeginsAgainAndACorruptLogRefuses) {
  BackupRig rig(/*bug=*/false);
  rig.append("s", 1);
  (void)rig.sim.run_until(sim::millis(200));
  const BackupChunk past = rig.ask(0, 1'000'000, 0);
  EXPECT_TRUE(past.restart);
  EXPECT_NE(past.refused.find("begin again"), std::string::npos) << past.refused;
  // A log corrupt in the middle: recovery serves what comes before and
  // refuses backups.
  rig.append("s", 2);
  (void)rig.sim.run_until(sim::millis(400));
  Bytes log = rig.sim.disk(0).current_content(kEventsFile).value();
  log[kRecordHeaderBytes + 2] ^= 0x40U;  // in the first record's body
  rig.sim.disk(0).install(kEventsFile, log);
  rig.sim.crash(0);
  rig.sim.restart(0);
  (void)rig.sim.run_until(sim::millis(500));
  const BackupChunk refused = rig.ask(0, 0, 0);
  EXPECT_FALSE(refused.restart);
  EXPECT_EQ(refused.refused, "the log is corrupt; backups refused");
}

}  // namespace
}  // namespace essim::model
