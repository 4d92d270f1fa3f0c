#include "box_office.h"

#include <memory>
#include <string>

#include <essim/codec.h>
#include <essim/typed.h>

namespace box_office {

namespace {

using essim::Bytes;
using essim::Command;
using essim::Event;
using essim::NewEvent;
using essim::Reader;
using essim::ReadModel;
using essim::Result;
using essim::Value;
using essim::Writer;

constexpr std::int64_t kSeats = 500;

// One state type serves both kinds of stream: the hall uses next_seat, a
// ticket the rest.
struct Box {
  std::int64_t next_seat = 1;
  std::int64_t seat = 0;  // a ticket's seat, 0 before it is issued
  std::int64_t price = 0;

  friend bool operator==(const Box&, const Box&) = default;
  void encode(Writer& w) const {
    w.svarint(next_seat);
    w.svarint(seat);
    w.svarint(price);
  }
  static Result<Box> decode(Reader& r) {
    Box b;
    b.next_seat = r.svarint();
    b.seat = r.svarint();
    b.price = r.svarint();
    return b;
  }
  std::string describe() const {
    if (seat != 0) return "seat " + std::to_string(seat) + " at " + std::to_string(price);
    return "next seat " + std::to_string(next_seat);
  }
};

struct Sale {
  std::int64_t seat = 0;
  std::int64_t price = 0;
};

Bytes sale_payload(const Sale& s) {
  Bytes out;
  Writer w(out);
  w.svarint(s.seat);
  w.svarint(s.price);
  return out;
}

Sale read_sale(const essim::Bytes& payload, const std::string& what) {
  Reader r(payload);
  Sale s;
  s.seat = r.svarint();
  s.price = r.svarint();
  if (!r.ok()) throw essim::BadPayload("bad " + what + " payload: " + r.error());
  return s;
}

class BoxOffice final : public essim::TypedDomain<Box> {
 public:
  std::string name() const override { return "box-office"; }
  std::string description() const override {
    return "seats taken from one hall, tickets issued by a saga planned step by step";
  }
  std::vector<std::string> work_kinds() const override { return {"sell"}; }

  essim::Work generate(std::string_view, essim::Rng& rng) const override {
    essim::Saga saga;
    saga.id = std::to_string(rng.next() % 1'000'000'000'000);
    const Sale asked{0, rng.between(20, 90)};
    saga.steps.push_back({Command{"take-seat", "hall", sale_payload(asked)}, std::nullopt});
    return saga;
  }

  // The second step needs the seat the hall gave: it is planned from what
  // the first step appended.
  std::optional<essim::SagaStep> next_step(
      const essim::Saga& saga, const std::vector<essim::StepOutcome>& done) const override {
    if (done.size() != 1 || done[0].events.empty()) return std::nullopt;
    const Sale taken = read_sale(done[0].events[0].payload, "SeatTaken");
    return essim::SagaStep{Command{"issue", "ticket-" + saga.id, sale_payload(taken)},
                           std::nullopt};
  }

  void evolve(Box& b, const Event& e) const override {
    if (e.type == "SeatTaken") b.next_seat = read_sale(e.payload, e.type).seat + 1;
    if (e.type == "TicketIssued") {
      const Sale s = read_sale(e.payload, e.type);
      b.seat = s.seat;
      b.price = s.price;
    }
  }

  Result<std::vector<NewEvent>> decide(const Box& b, const Command& c) const override {
    const Sale asked = read_sale(c.payload, c.kind);
    if (c.kind == "take-seat") {
      if (b.next_seat > kSeats) return essim::Error{"sold out"};
      return std::vector<NewEvent>{{"SeatTaken", 1, sale_payload({b.next_seat, asked.price})}};
    }
    if (c.kind == "issue") {
      if (b.seat != 0) return std::vector<NewEvent>{};  // issued already: idempotent
      return std::vector<NewEvent>{{"TicketIssued", 1, sale_payload(asked)}};
    }
    return essim::Error{"no such command: " + c.kind};
  }

  std::vector<std::string> evolve_handles() const override { return event_types(); }

  std::vector<essim::ProjectionHandler> projections() const override {
    essim::ProjectionHandler seats{
        "seats", "seat -> {ticket, price} (idempotent: a seat is written, never added to)",
        [](ReadModel& m, const Event& e) {
          if (e.type != "TicketIssued") return;
          const Sale s = read_sale(e.payload, e.type);
          Value& seat = m["seat-" + std::to_string(s.seat)];
          seat["ticket"] = e.stream;
          seat["price"] = s.price;
        }};
    essim::ProjectionHandler buggy{
        "seats-buggy", "seat -> list of tickets, appended to (a redelivery lists one twice)",
        [](ReadModel& m, const Event& e) {
          if (e.type != "TicketIssued") return;
          const Sale s = read_sale(e.payload, e.type);
          m["seat-" + std::to_string(s.seat)].push_back(e.stream);
        }};
    seats.handles = buggy.handles = {"TicketIssued"};
    seats.ignores = buggy.ignores = {"SeatTaken"};
    return {seats, buggy};
  }

  std::vector<essim::LogInvariant> log_invariants() const override {
    return {{"seats_unique",
             "no seat is sold to two tickets",
             [](Value& sold, const Event& e) -> std::string {
               if (e.type != "TicketIssued") return "";
               Value& holder = sold[std::to_string(read_sale(e.payload, e.type).seat)];
               if (!holder.is_null() && holder.as_string() != e.stream)
                 return "seat sold to " + holder.as_string() + " and to " + e.stream;
               holder = e.stream;
               return "";
             },
             {}}};
  }

  std::vector<essim::ReadModelInvariant> read_model_invariants() const override {
    const auto one_ticket_each = [](const ReadModel& m) -> std::string {
      for (const auto& [seat, holder] : m) {
        if (holder.is_list() && holder.size() > 1)
          return seat + " lists " + std::to_string(holder.size()) + " tickets: " + holder.to_json();
      }
      return "";
    };
    return {
        {"one_ticket_per_seat", "a seat shows one ticket", "seats-buggy", true, one_ticket_each}};
  }

  std::vector<std::string> event_types() const override { return {"SeatTaken", "TicketIssued"}; }

  std::string describe_payload(const Event& e) const override {
    const Sale s = read_sale(e.payload, e.type);
    return "seat " + std::to_string(s.seat) + " at " + std::to_string(s.price);
  }
};

}  // namespace

void register_domain(essim::Registry& registry) {
  registry.add(std::make_unique<BoxOffice>());
}

}  // namespace box_office
