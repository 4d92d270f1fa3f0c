#include "model/projection.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include <fmt/format.h>

#include "model/codec.h"
#include "model/log.h"
#include "sim/simulation.h"

namespace essim::model {
namespace {

// Stands in for the bus: delivers what the test says, records acks.
class FakeBus final : public sim::Node {
 public:
  void on_start(sim::Env&) override {}
  void on_message(sim::Env&, const sim::Message& m) override {
    auto decoded = decode(m.bytes);
    if (decoded.ok()) {
      if (const auto* ack = std::get_if<DeliverAck>(&decoded.value())) {
        acks.push_back(ack->position);
      }
      if (const auto* q = std::get_if<QueryReply>(&decoded.value())) queries.push_back(*q);
    }
  }
  std::vector<std::uint64_t> acks;
  std::vector<QueryReply> queries;
};

// A counting handler: not idempotent, so duplicates show.
const ProjectionHandler kCount{"count", "counts events per stream",
                               [](ReadModel& m, const Event& e) { m[e.stream] += 1; }};

Event event(const std::string& stream, std::uint64_t version, std::uint64_t position) {
  Event e;
  e.id = EventId{7, position};
  e.stream = stream;
  e.version = version;
  e.position = position;
  e.type = "Counted";
  return e;
}

struct Fixture {
  sim::Simulation sim;
  FakeBus* bus = nullptr;
  explicit Fixture(Dedup dedup, Bugs bugs = {}, bool keep_trace = false,
                   sim::SimConfig sim_config = {}, std::uint64_t journal_compact_bytes = 64 << 10,
                   std::uint64_t seed = 1)
      : sim(seed, [&] {
          sim_config.keep_trace = sim_config.keep_trace || keep_trace;
          return sim_config;
        }()) {
    sim.add_node("bus", [this] {
      auto node = std::make_unique<FakeBus>();
      bus = node.get();
      return node;
    });
    ProjectionConfig config;
    config.domain = Registry::builtin().domain("bank");
    config.handler = &kCount;
    config.dedup = dedup;
    config.bus = 0;
    config.bugs = bugs;
    config.journal_compact_bytes = journal_compact_bytes;
    sim.add_node("projection", [config] { return std::make_unique<ProjectionNode>(config); });
    sim.start();
  }
  void deliver(const Event& e) {
    sim::SimEnv env(sim, 0);
    env.send(1, encode(Deliver{e}));
    (void)sim.run_until_quiet(sim::seconds(1));
  }
  const ProjectionState& state() { return dynamic_cast<ProjectionNode*>(sim.node(1))->state(); }
  sim::SimDisk& disk() { return sim.disk(1); }
};

TEST(Projection, WaitsForPredecessorsAndAcksOnlyWhatItApplied) {
  Fixture f(Dedup::kAtomicCheckpoint);
  f.deliver(event("s", 2, 5));
  EXPECT_EQ(f.state().events_applied, 0U);
  EXPECT_TRUE(f.bus->acks.empty());
  f.deliver(event("s", 1, 3));
  EXPECT_EQ(f.state().events_applied, 2U);
  EXPECT_EQ(f.state().model.at("s"), 2);
  std::sort(f.bus->acks.begin(), f.bus->acks.end());
  EXPECT_EQ(f.bus->acks, (std::vector<std::uint64_t>{3, 5}));
}

TEST(Projection, DedupStrategiesTreatARedeliveryDifferently) {
  for (const auto& [dedup, expected] : {std::pair{Dedup::kNone, 2}, std::pair{Dedup::kEventId, 1},
                                        std::pair{Dedup::kAtomicCheckpoint, 1}}) {
    Fixture f(dedup);
    f.deliver(event("s", 1, 1));
    f.deliver(event("s", 1, 1));
    EXPECT_EQ(f.state().model.at("s"), expected) << to_string(dedup);
    EXPECT_EQ(f.bus->acks.size(), 2U) << "a redelivery is acknowledged again";
  }
}

TEST(Projection, StateSurvivesACrashAfterItsAck) {
  Fixture f(Dedup::kAtomicCheckpoint);
  f.deliver(event("s", 1, 1));
  f.deliver(event("s", 2, 2));
  ASSERT_EQ(f.bus->acks.size(), 2U);
  f.sim.crash(1);
  f.sim.restart(1);
  EXPECT_EQ(f.state().model.at("s"), 2);
  f.deliver(event("s", 2, 2));  // the bus redelivers after the crash
  EXPECT_EQ(f.state().model.at("s"), 2);
}

TEST(Projection, AnswersQueriesWithItsReadModel) {
  Fixture f(Dedup::kAtomicCheckpoint);
  f.deliver(event("s", 1, 1));
  f.deliver(event("s", 2, 2));
  sim::SimEnv env(f.sim, 0);
  env.send(1, encode(QueryRequest{42}));
  (void)f.sim.run_until_quiet(sim::seconds(1));
  ASSERT_EQ(f.bus->queries.size(), 1U);
  EXPECT_EQ(f.bus->queries[0].request_id, 42U);
  EXPECT_EQ(f.bus->queries[0].model, (ReadModel{{"s", 2}}));
  EXPECT_EQ(f.bus->queries[0].events_applied, 2U);
}

TEST(Projection, ReportsAnUnknownEventTypeAndGoesOn) {
  Fixture f(Dedup::kAtomicCheckpoint, {}, /*keep_trace=*/true);
  Event e = event("s", 1, 1);
  e.type = "MysteryHappened";
  f.deliver(e);
  bool reported = false;
  for (const sim::TraceEntry& t : f.sim.trace().entries())
    reported |= t.text == "unknown-event-type";
  EXPECT_TRUE(reported);
  EXPECT_EQ(f.bus->acks, (std::vector<std::uint64_t>{1}));  // acknowledged: nothing is lost
}

TEST(Projection, StateEncodingRoundTripsAndRejectsGarbage) {
  ProjectionState s;
  s.model = {{"a", -5}, {"b", 7}};
  s.applied = {{"a", 3}};
  s.seen["a"].add(EventId{1, 2});
  for (std::uint64_t i = 0; i < kSeenIdsPerStream + 3; ++i) s.seen["b"].add(EventId{2, i});
  s.events_applied = 9;
  Bytes out;
  encode_projection_state(s, out);
  EXPECT_EQ(decode_projection_state(out).value(), s);
  out.push_back(1);
  EXPECT_FALSE(decode_projection_state(out).ok());
  EXPECT_FALSE(decode_projection_state(Bytes{0xff}).ok());
  // A ring position past the ring, or one in a ring not yet full.
  for (const std::uint32_t next : {std::uint32_t{kSeenIdsPerStream}, std::uint32_t{1}}) {
    ProjectionState bad = s;
    bad.seen["b"].next = next;
    if (next == 1) bad.seen["b"].ids.resize(2);
    Bytes bytes;
    encode_projection_state(bad, bytes);
    EXPECT_FALSE(decode_projection_state(bytes).ok()) << next;
  }
  ProjectionState too_many = s;
  too_many.seen["b"].ids.push_back(EventId{3, 3});
  Bytes bytes;
  encode_projection_state(too_many, bytes);
  EXPECT_FALSE(decode_projection_state(bytes).ok());
}

TEST(Projection, SeenIdsKeepTheLatestOfEachStream) {
  SeenIds seen;
  for (std::uint64_t i = 0; i < kSeenIdsPerStream * 2 + 1; ++i) seen.add(EventId{0, i});
  EXPECT_EQ(seen.ids.size(), kSeenIdsPerStream);
  EXPECT_FALSE(seen.contains(EventId{0, kSeenIdsPerStream}));
  for (std::uint64_t i = kSeenIdsPerStream + 1; i <= kSeenIdsPerStream * 2; ++i)
    EXPECT_TRUE(seen.contains(EventId{0, i})) << i;
}

TEST(Projection, EventIdDedupKnowsAnOldRedeliveryByItsPosition) {
  ProjectionState state;
  for (std::uint64_t v = 1; v <= kSeenIdsPerStream + 5; ++v)
    ASSERT_TRUE(apply_event(state, kCount, Dedup::kEventId, event("s", v, v)));
  // Version 1's id has left the ring; its position still says it was seen.
  EXPECT_FALSE(apply_event(state, kCount, Dedup::kEventId, event("s", 1, 1)));
  // A recent version with an id never seen is another event: applied.
  Event other = event("s", kSeenIdsPerStream + 5, 999);
  EXPECT_TRUE(apply_event(state, kCount, Dedup::kEventId, other));
  EXPECT_FALSE(apply_event(state, kCount, Dedup::kEventId,
                           event("s", kSeenIdsPerStream, kSeenIdsPerStream)));
}

TEST(Projection, AFlushWritesWhatChangedNotTheWholeState) {
  // A small compaction threshold would fold the journal in; a large one
  // shows each flush appending only its own events.
  Fixture f(Dedup::kEventId, {}, false, {}, /*journal_compact_bytes=*/1 << 30);
  std::vector<std::uint64_t> appended;
  std::uint64_t before = 0;
  for (std::uint64_t v = 1; v <= 200; ++v) {
    f.deliver(event(fmt::format("s{:02}", (v - 1) % 50), (v - 1) / 50 + 1, v));
    const std::uint64_t now = f.disk().size(kProjectionJournalFile).value();
    appended.push_back(now - before);
    before = now;
  }
  EXPECT_FALSE(f.disk().exists(kProjectionStateFile));
  // The 200th flush costs what the 1st did, one event (its position takes a
  // byte more), however large the state has grown.
  EXPECT_LE(appended.back(), appended.front() + 2);
  f.sim.crash(1);
  f.sim.restart(1);
  EXPECT_EQ(f.state().events_applied, 200U);
  EXPECT_EQ(f.state().model.size(), 50U);
}

TEST(Projection, TheJournalIsFoldedIntoTheStateFileAndRecoveryUsesBoth) {
  Fixture f(Dedup::kEventId, {}, false, {}, /*journal_compact_bytes=*/256);
  for (std::uint64_t v = 1; v <= 100; ++v) f.deliver(event("s", v, v));
  ASSERT_TRUE(f.disk().exists(kProjectionStateFile));
  const ProjectionState before = f.state();
  // The journal never holds more than the threshold or the state file.
  EXPECT_LT(f.disk().size(kProjectionJournalFile).value(),
            std::max<std::uint64_t>(256, f.disk().size(kProjectionStateFile).value()) + 200);
  f.sim.crash(1);
  f.sim.restart(1);
  EXPECT_EQ(f.state(), before);
}

TEST(Projection, ARecordOfAnOlderGenerationIsNeverAppliedAgain) {
  // A crash between writing the state file and emptying the journal leaves
  // records the state file already holds.
  Fixture f(Dedup::kNone, {}, false, {}, /*journal_compact_bytes=*/1 << 30);
  for (std::uint64_t v = 1; v <= 3; ++v) f.deliver(event("s", v, v));
  const Bytes journal = f.disk().read_all(kProjectionJournalFile).value();
  ProjectionState state = f.state();
  Bytes body;
  Writer(body).varint(1);
  encode_projection_state(state, body);
  Bytes file;
  (void)append_record(file, 0, body);
  ASSERT_TRUE(f.disk().replace(kProjectionStateFile, file).is_ok());
  ASSERT_TRUE(f.disk().sync(kProjectionStateFile).is_ok());
  f.sim.crash(1);
  f.sim.restart(1);
  EXPECT_EQ(f.state(), state);  // not counted twice by the non-idempotent handler
  EXPECT_EQ(f.disk().size(kProjectionJournalFile).value(), 0U);
}

TEST(Projection, AnUnreadableStateFileIsReportedAndStartedOver) {
  Fixture f(Dedup::kAtomicCheckpoint, {}, /*keep_trace=*/true);
  f.deliver(event("s", 1, 1));
  ASSERT_TRUE(f.disk().replace(kProjectionStateFile, Bytes{0x00, 0xff}).is_ok());
  ASSERT_TRUE(f.disk().sync(kProjectionStateFile).is_ok());
  f.sim.crash(1);
  f.sim.restart(1);
  EXPECT_TRUE(f.state().model.empty());
  bool reported = false;
  for (const sim::TraceEntry& t : f.sim.trace().entries())
    reported |= t.text == "projection-state-unreadable";
  EXPECT_TRUE(reported);
  // The journal of the lost state is gone too, so the next crash cannot
  // apply it to the new one.
  f.deliver(event("s", 1, 1));
  f.sim.crash(1);
  f.sim.restart(1);
  EXPECT_EQ(f.state().model, (ReadModel{{"s", 1}}));
}

std::string describe(const ProjectionState& s) {
  std::string out = fmt::format("{} applied:", Value(s.model).to_json());
  for (const auto& [stream, version] : s.applied) out += fmt::format(" {}@{}", stream, version);
  return out + fmt::format(" events_applied={}", s.events_applied);
}

// Deliveries, redeliveries, crashes between and inside flushes, torn writes,
// failed syncs and corrupted reads: whatever happens, a recovered worker
// holds the state it had after some applied event no earlier than the last
// one acknowledged, and a worker that did not crash holds exactly the fold
// of what it applied.
RC_GTEST_PROP(ProjectionProperty, RecoveryReturnsADurableStateNoOlderThanTheAcks,
              (std::uint64_t seed)) {
  const Dedup dedup = *rc::gen::element(Dedup::kNone, Dedup::kEventId, Dedup::kAtomicCheckpoint);
  RC_TAG(to_string(dedup));
  sim::SimConfig config;
  config.disk.torn_writes = *rc::gen::arbitrary<bool>();
  config.disk.read_corruption = *rc::gen::element(0.0, 0.2);
  config.disk.sync_failures = *rc::gen::element(0.0, 0.1);
  const std::uint64_t compact = *rc::gen::element<std::uint64_t>(0, 100, 1000, 1 << 30);
  Fixture f(dedup, {}, /*keep_trace=*/true, config, compact, seed);

  std::vector<ProjectionState> history{f.state()};  // after each applied event
  std::size_t acked = 0;                            // history index known durable
  std::map<std::string, std::uint64_t> versions;    // delivered so far, per stream
  const auto steps = *rc::gen::inRange(1, 60);
  for (int step = 0; step < steps; ++step) {
    const int what = *rc::gen::inRange(0, 10);
    if (what == 0) {
      f.sim.crash(1);
      f.sim.restart(1);
      (void)f.sim.run_until_quiet(f.sim.now() + sim::seconds(1));
    } else {
      const std::string stream = *rc::gen::element<std::string>("a", "b", "c");
      std::uint64_t& top = versions[stream];
      const bool again = top > 0 && *rc::gen::inRange(0, 4) == 0;
      const std::uint64_t version = again ? *rc::gen::inRange<std::uint64_t>(1, top + 1) : top + 1;
      top = std::max(top, version);
      Event e = event(stream, version, 0);
      e.id = EventId{std::hash<std::string>{}(stream), version};
      const std::size_t acks_before = f.bus->acks.size();
      ProjectionState next = history.back();
      if (apply_event(next, kCount, dedup, e)) history.push_back(next);
      sim::SimEnv env(f.sim, 0);
      env.send(1, encode(Deliver{e}));
      if (what == 1) {
        // Crash while the event is applied but not yet flushed.
        (void)f.sim.run_until(f.sim.now() + 1'100);
        f.sim.crash(1);
        f.sim.restart(1);
      }
      (void)f.sim.run_until_quiet(f.sim.now() + sim::seconds(1));
      if (f.sim.is_up(1) && f.state() == history.back() && f.bus->acks.size() > acks_before)
        acked = history.size() - 1;
    }
    // A recovery that could not trust its reads stops again and retries.
    for (int round = 0; round < 20 && !f.sim.is_up(1); ++round)
      (void)f.sim.run_until_quiet(f.sim.now() + sim::seconds(1));
    RC_ASSERT(f.sim.is_up(1));
    if (f.state() == history.back()) continue;
    // A crash (ours, or a fail-stop on a failed sync) took the worker back.
    const auto it =
        std::find(history.begin() + static_cast<std::ptrdiff_t>(acked), history.end(), f.state());
    if (it == history.end()) {
      RC_LOG() << "recovered " << describe(f.state()) << "\nacknowledged up to history entry "
               << acked << " of:\n";
      for (const ProjectionState& h : history) RC_LOG() << "  " << describe(h) << "\n";
      for (const sim::TraceEntry& t : f.sim.trace().entries()) {
        if (t.node == 1 && t.kind != sim::TraceKind::kSend && t.kind != sim::TraceKind::kDeliver)
          RC_LOG() << t.at_us << " " << sim::to_string(t.kind) << " " << t.a << " " << t.b << " "
                   << t.text << "\n";
      }
    }
    RC_ASSERT(it != history.end());
    history = {f.state()};
    acked = 0;
    // The stream versions the worker lost come again, as the bus would.
    versions = f.state().applied;
  }
}

}  // namespace
}  // namespace essim::model
