#include "loyalty.h"

#include <memory>
#include <optional>
#include <string>

#include <essim/codec.h>
#include <essim/typed.h>

namespace loyalty {

namespace {

using essim::Bytes;
using essim::Command;
using essim::Event;
using essim::NewEvent;
using essim::Reader;
using essim::ReadModel;
using essim::Result;
using essim::Writer;

// A member: a plain struct with ==, encode and decode (for snapshots).
struct Member {
  bool enrolled = false;
  std::int64_t points = 0;

  friend bool operator==(const Member&, const Member&) = default;
  void encode(Writer& w) const {
    w.boolean(enrolled);
    w.svarint(points);
  }
  static Result<Member> decode(Reader& r) {
    Member m;
    m.enrolled = r.boolean();
    m.points = r.svarint();
    return m;
  }
  std::string describe() const {
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

Amounts read_amounts(const Event& e) {
  Reader r(e.payload);
  Amounts a;
  a.points = r.svarint();
  a.balance = r.svarint();
  if (!r.ok()) throw essim::BadPayload("bad " + e.type + " payload: " + r.error());
  return a;
}

// A command's points; 0 when its payload does not decode (decide refuses it).
std::int64_t points_of(const Command& c) {
  Reader r(c.payload);
  const std::int64_t points = r.svarint();
  return r.ok() ? points : 0;
}

class LoyaltyDomain final : public essim::TypedDomain<Member> {
 public:
  std::string name() const override { return "loyalty"; }
  std::string description() const override { return "members earn and redeem points"; }
  std::vector<std::string> work_kinds() const override { return {"enroll", "earn", "redeem"}; }

  essim::Work generate(std::string_view kind, essim::Rng& rng) const override {
    Bytes payload;
    Writer(payload).svarint(rng.between(1, 50));
    return Command{std::string(kind), "member-" + std::to_string(rng.below(6)), payload};
  }

  void evolve(Member& m, const Event& e) const override {
    if (e.type == "MemberEnrolled") m.enrolled = true;
    if (e.type == "PointsEarned" || e.type == "PointsRedeemed") m.points = read_amounts(e).balance;
  }

  Result<std::vector<NewEvent>> decide(const Member& m, const Command& c) const override {
    Reader r(c.payload);
    const std::int64_t points = r.svarint();
    if (!r.ok() || points <= 0) return essim::Error{"points must be a positive number"};
    if (c.kind == "enroll") {
      if (m.enrolled) return essim::Error{"already enrolled"};
      return std::vector<NewEvent>{{"MemberEnrolled", 1, {}}};
    }
    if (!m.enrolled) return essim::Error{"not a member"};
    if (c.kind == "earn") {
      return std::vector<NewEvent>{{"PointsEarned", 1, amounts(points, m.points + points)}};
    }
    if (c.kind == "redeem") {
      if (m.points < points) return essim::Error{"not enough points"};
      return std::vector<NewEvent>{{"PointsRedeemed", 1, amounts(points, m.points - points)}};
    }
    return essim::Error{"no such command: " + c.kind};
  }

  std::vector<std::string> evolve_handles() const override { return event_types(); }

  // The rules again, apart from decide and evolve (which keep the balance
  // the events carry): a member is {"points": N}, null before enrolling.
  std::optional<essim::DecisionModel> decision_model() const override {
    essim::DecisionModel m;
    m.accepts = [](const essim::Value& member, const Command& c) {
      const std::int64_t points = points_of(c);
      if (points <= 0) return false;
      if (c.kind == "enroll") return member.is_null();
      if (member.is_null()) return false;
      return c.kind == "earn" || points <= member.find("points")->as_int();
    };
    m.apply = [](essim::Value& member, const Command& c) {
      if (c.kind == "enroll") member = essim::Value::Map{{"points", 0}};
      if (c.kind == "earn") member["points"] += points_of(c);
      if (c.kind == "redeem") member["points"] -= points_of(c);
    };
    return m;
  }

  std::vector<essim::ProjectionHandler> projections() const override {
    essim::ProjectionHandler buggy{"points-buggy",
                                   "member -> points, by adding and subtracting (not idempotent)",
                                   [](ReadModel& model, const Event& e) {
                                     if (e.type == "PointsEarned")
                                       model[e.stream] += read_amounts(e).points;
                                     if (e.type == "PointsRedeemed")
                                       model[e.stream] -= read_amounts(e).points;
                                   }};
    // The read model holds a map per member: {"points": N, "version": V}.
    essim::ProjectionHandler fixed{
        "points", "member -> {points, version}, from the newest balance seen (idempotent)",
        [](ReadModel& model, const Event& e) {
          if (e.type != "PointsEarned" && e.type != "PointsRedeemed") return;
          essim::Value& member = model[e.stream];
          if (static_cast<std::int64_t>(e.version) <= member["version"].int_or(0)) return;
          member["version"] = e.version;
          member["points"] = read_amounts(e).balance;
        }};
    // The reference: each member's points summed from the amounts earned and
    // redeemed (the handler copies the balance the event carries instead).
    fixed.reference = [](const std::vector<Event>& log) {
      ReadModel model;
      for (const Event& e : log) {
        if (e.type != "PointsEarned" && e.type != "PointsRedeemed") continue;
        const std::int64_t points = read_amounts(e).points;
        essim::Value& member = model[e.stream];
        member["points"] += e.type == "PointsEarned" ? points : -points;
        member["version"] = e.version;
      }
      return model;
    };
    buggy.handles = fixed.handles = {"PointsEarned", "PointsRedeemed"};
    buggy.ignores = fixed.ignores = {"MemberEnrolled"};
    return {buggy, fixed};
  }

  std::vector<std::string> event_types() const override {
    return {"MemberEnrolled", "PointsEarned", "PointsRedeemed"};
  }

  std::vector<essim::Invariant> invariants() const override {
    return {invariant("points_never_negative", "a member's points never go below zero", "member-",
                      [](const Member& m) { return m.points >= 0; })};
  }

  std::string describe_payload(const Event& e) const override {
    if (e.type == "MemberEnrolled") return {};
    const Amounts a = read_amounts(e);
    return std::to_string(a.points) + " points, balance " + std::to_string(a.balance);
  }
};

}  // namespace

void register_domain(essim::Registry& registry) {
  registry.add(std::make_unique<LoyaltyDomain>());
}

}  // namespace loyalty
