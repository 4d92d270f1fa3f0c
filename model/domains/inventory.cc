#include "model/domains/inventory.h"

#include <fmt/format.h>

#include "model/codec.h"
#include "sim/assert.h"

namespace essim::model::domains {

namespace {

// Command and event payloads alike: an order (may be empty) and a quantity.
Bytes order_payload(std::string_view order, std::int64_t quantity) {
  Bytes out;
  Writer w(out);
  w.string(order);
  w.svarint(quantity);
  return out;
}

struct OrderQuantity {
  std::string order;
  std::int64_t quantity = 0;
};

// Every event type of the domain: each carries an order and a quantity.
bool is_order_event(std::string_view type) {
  return type == "StockAdded" || type == "StockReserved" || type == "ReservationReleased";
}

sim::Result<OrderQuantity> read_order(ByteView bytes) {
  Reader r(bytes);
  OrderQuantity o;
  o.order = r.string();
  o.quantity = r.svarint();
  if (!r.ok()) return sim::Error{"bad inventory payload: " + r.error()};
  return o;
}

}  // namespace

std::int64_t Sku::available() const {
  std::int64_t reserved = 0;
  for (const auto& [order, quantity] : reservations) reserved += quantity;
  return stock - reserved;
}

std::unique_ptr<AggregateState> Sku::clone() const {
  return std::make_unique<Sku>(*this);
}

void Sku::encode(Bytes& out) const {
  Writer w(out);
  w.svarint(stock);
  w.varint(reservations.size());
  for (const auto& [order, quantity] : reservations) {
    w.string(order);
    w.svarint(quantity);
  }
}

bool Sku::equals(const AggregateState& other) const {
  const auto* o = dynamic_cast<const Sku*>(&other);
  return o != nullptr && *o == *this;
}

std::string Sku::describe() const {
  return fmt::format("stock {}, {} reservation(s), available {}", stock, reservations.size(),
                     available());
}

sim::Result<std::unique_ptr<AggregateState>> InventoryDomain::decode_state(ByteView bytes) const {
  Reader r(bytes);
  auto s = std::make_unique<Sku>();
  s->stock = r.svarint();
  const std::size_t n = r.count(2);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string order = r.string();
    s->reservations[order] = r.svarint();
  }
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return sim::Error{"bad inventory snapshot: " + r.error()};
  return std::unique_ptr<AggregateState>(std::move(s));
}

void InventoryDomain::evolve(AggregateState& state, const Event& e) const {
  auto& s = dynamic_cast<Sku&>(state);
  if (!is_order_event(e.type)) return;  // not ours (a newer writer): skipped
  auto o = read_order(e.payload);
  if (!o.ok()) throw BadPayload(o.error().message);
  if (e.type == "StockAdded") {
    s.stock += o.value().quantity;
  } else if (e.type == "StockReserved") {
    s.reservations[o.value().order] = o.value().quantity;
  } else if (e.type == "ReservationReleased") {
    s.reservations.erase(o.value().order);
  }
}

sim::Result<std::vector<NewEvent>> InventoryDomain::decide(const AggregateState& state,
                                                           const Command& c) const {
  const auto& s = dynamic_cast<const Sku&>(state);
  auto parsed = read_order(c.payload);
  if (!parsed) return parsed.error();
  const OrderQuantity& o = parsed.value();
  using Events = std::vector<NewEvent>;
  if (c.kind == "restock") {
    if (o.quantity <= 0) return sim::Error{"the quantity must be positive"};
    return Events{{"StockAdded", 1, order_payload("", o.quantity)}};
  }
  if (c.kind == "reserve") {
    if (o.quantity <= 0) return sim::Error{"the quantity must be positive"};
    if (s.reservations.contains(o.order)) return sim::Error{"order already holds a reservation"};
    if (s.available() < o.quantity) return sim::Error{"not enough stock"};
    return Events{{"StockReserved", 1, order_payload(o.order, o.quantity)}};
  }
  if (c.kind == "release") {
    const auto it = s.reservations.find(o.order);
    if (it == s.reservations.end()) return sim::Error{"order holds no reservation"};
    return Events{{"ReservationReleased", 1, order_payload(o.order, it->second)}};
  }
  return sim::Error{fmt::format("the inventory domain has no command '{}'", c.kind)};
}

std::string InventoryDomain::description() const {
  return "stock per SKU and reservations per order, no overselling";
}

std::vector<std::string> InventoryDomain::work_kinds() const {
  return {"restock", "reserve", "release"};
}

Work InventoryDomain::generate(std::string_view kind, sim::Rng& rng) const {
  ESSIM_ASSERT_MSG(kind == "restock" || kind == "reserve" || kind == "release",
                   fmt::format("the inventory domain has no work '{}'", kind));
  const std::string sku = fmt::format("sku-{}", rng.below(kSkus));
  const std::string order = fmt::format("order-{}", rng.below(kOrders));
  const std::int64_t quantity = kind == "restock" ? rng.between(5, 20) : rng.between(1, 8);
  return Command{std::string(kind), sku, order_payload(order, quantity)};
}

std::unique_ptr<AggregateState> InventoryDomain::initial() const {
  return std::make_unique<Sku>();
}

std::vector<ProjectionHandler> InventoryDomain::projections() const {
  ProjectionHandler available{"available",
                              "sku -> stock not reserved (adds and subtracts: needs deduplication)",
                              [](ReadModel& m, const Event& e) {
                                if (!is_order_event(e.type)) return;
                                auto o = read_order(e.payload);
                                if (!o.ok()) throw BadPayload(o.error().message);
                                if (e.type == "StockAdded" || e.type == "ReservationReleased") {
                                  m[e.stream] += o.value().quantity;
                                } else if (e.type == "StockReserved") {
                                  m[e.stream] -= o.value().quantity;
                                }
                              }};
  return {available};
}

std::string InventoryDomain::describe_payload(const Event& e) const {
  auto o = read_order(e.payload);
  if (!o.ok()) return o.error().message;
  if (o.value().order.empty()) return fmt::format("{}", o.value().quantity);
  return fmt::format("{} for {}", o.value().quantity, o.value().order);
}

}  // namespace essim::model::domains
