#include "model/projection.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "model/codec.h"
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
  explicit Fixture(Dedup dedup, Bugs bugs = {}, bool keep_trace = false)
      : sim(1, sim::SimConfig{.keep_trace = keep_trace}) {
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
    sim.add_node("projection", [config] { return std::make_unique<ProjectionNode>(config); });
    sim.start();
  }
  void deliver(const Event& e) {
    sim::SimEnv env(sim, 0);
    env.send(1, encode(Deliver{e}));
    (void)sim.run_until_quiet(sim::seconds(1));
  }
  const ProjectionState& state() { return dynamic_cast<ProjectionNode*>(sim.node(1))->state(); }
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
  s.seen = {EventId{1, 2}};
  s.events_applied = 9;
  Bytes out;
  encode_projection_state(s, out);
  EXPECT_EQ(decode_projection_state(out).value(), s);
  out.push_back(1);
  EXPECT_FALSE(decode_projection_state(out).ok());
  EXPECT_FALSE(decode_projection_state(Bytes{0xff}).ok());
}

}  // namespace
}  // namespace essim::model
