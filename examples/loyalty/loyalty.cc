#include "loyalty.h"

#include <memory>
#include <string>
#include <typeinfo>

#include "model/codec.h"
#include "sim/assert.h"

namespace loyalty {

namespace {

using essim::model::AggregateState;
using essim::model::Bytes;
using essim::model::ByteView;
using essim::model::Command;
using essim::model::Event;
using essim::model::NewEvent;
using essim::model::Reader;
using essim::model::ReadModel;
using essim::model::Writer;

struct Member final : AggregateState {
  bool enrolled = false;
  std::int64_t points = 0;

  std::unique_ptr<AggregateState> clone() const override { return std::make_unique<Member>(*this); }
  void encode(Bytes& out) const override {
    Writer w(out);
    w.boolean(enrolled);
    w.svarint(points);
  }
  bool equals(const AggregateState& other) const override {
    const auto* o = dynamic_cast<const Member*>(&other);
    return o != nullptr && o->enrolled == enrolled && o->points == points;
  }
  std::string describe() const override {
    return (enrolled ? "enrolled, " : "not enrolled, ") + std::to_string(points) + " points";
  }
};

Bytes amounts(std::int64_t points, std::int64_t balance) {
  Bytes out;
  Writer w(out);
  w.svarint(points);
  w.svarint(balance);
  return out;
}

struct Amounts {
  std::int64_t points = 0;
  std::int64_t balance = 0;
};

Amounts read_amounts(ByteView payload) {
  Reader r(payload);
  Amounts a;
  a.points = r.svarint();
  a.balance = r.svarint();
  return a;
}

class LoyaltyDomain final : public essim::model::Domain {
 public:
  std::string name() const override { return "loyalty"; }
  std::string description() const override { return "members earn and redeem points"; }
  std::vector<std::string> work_kinds() const override { return {"enroll", "earn", "redeem"}; }

  essim::model::Work generate(std::string_view kind, essim::sim::Rng& rng) const override {
    Bytes payload;
    Writer(payload).svarint(rng.between(1, 50));
    return Command{std::string(kind), "member-" + std::to_string(rng.below(6)), payload};
  }

  std::unique_ptr<AggregateState> initial() const override { return std::make_unique<Member>(); }

  void evolve(AggregateState& state, const Event& e) const override {
    auto& m = dynamic_cast<Member&>(state);
    if (e.type == "MemberEnrolled") m.enrolled = true;
    if (e.type == "PointsEarned" || e.type == "PointsRedeemed")
      m.points = read_amounts(e.payload).balance;
  }

  essim::sim::Result<std::vector<NewEvent>> decide(const AggregateState& state,
                                                   const Command& c) const override {
    const auto& m = dynamic_cast<const Member&>(state);
    Reader r(c.payload);
    const std::int64_t points = r.svarint();
    if (!r.ok() || points <= 0) return essim::sim::Error{"points must be a positive number"};
    if (c.kind == "enroll") {
      if (m.enrolled) return essim::sim::Error{"already enrolled"};
      return std::vector<NewEvent>{{"MemberEnrolled", 1, {}}};
    }
    if (!m.enrolled) return essim::sim::Error{"not a member"};
    if (c.kind == "earn") {
      return std::vector<NewEvent>{{"PointsEarned", 1, amounts(points, m.points + points)}};
    }
    if (c.kind == "redeem") {
      if (m.points < points) return essim::sim::Error{"not enough points"};
      return std::vector<NewEvent>{{"PointsRedeemed", 1, amounts(points, m.points - points)}};
    }
    return essim::sim::Error{"no such command: " + c.kind};
  }

  essim::sim::Result<std::unique_ptr<AggregateState>> decode_state(ByteView bytes) const override {
    Reader r(bytes);
    auto m = std::make_unique<Member>();
    m->enrolled = r.boolean();
    m->points = r.svarint();
    if (!r.ok() || !r.at_end()) return essim::sim::Error{"bad member snapshot"};
    return std::unique_ptr<AggregateState>(std::move(m));
  }

  std::vector<essim::model::ProjectionHandler> projections() const override {
    essim::model::ProjectionHandler buggy{
        "points-buggy", "member -> points, by adding and subtracting (not idempotent)",
        [](ReadModel& model, const Event& e) {
          if (e.type == "PointsEarned") model[e.stream] += read_amounts(e.payload).points;
          if (e.type == "PointsRedeemed") model[e.stream] -= read_amounts(e.payload).points;
        }};
    essim::model::ProjectionHandler fixed{
        "points", "member -> points, from the newest balance seen (idempotent)",
        [](ReadModel& model, const Event& e) {
          if (e.type != "PointsEarned" && e.type != "PointsRedeemed") return;
          auto& version = model[e.stream + "#version"];
          if (static_cast<std::int64_t>(e.version) <= version) return;  // seen, or older
          version = static_cast<std::int64_t>(e.version);
          model[e.stream] = read_amounts(e.payload).balance;
        }};
    return {buggy, fixed};
  }

  std::vector<std::string> event_types() const override {
    return {"MemberEnrolled", "PointsEarned", "PointsRedeemed"};
  }

  std::vector<essim::model::Invariant> invariants() const override {
    return {{"points_never_negative", "a member's points never go below zero", "member-",
             [](const AggregateState& s) { return dynamic_cast<const Member&>(s).points >= 0; }}};
  }

  std::string describe_payload(const Event& e) const override {
    if (e.type == "MemberEnrolled") return {};
    const Amounts a = read_amounts(e.payload);
    return std::to_string(a.points) + " points, balance " + std::to_string(a.balance);
  }
};

}  // namespace

void register_domain(essim::model::Registry& registry) {
  registry.add(std::make_unique<LoyaltyDomain>());
}

}  // namespace loyalty
