#include "model/domains/inventory.h"

#include <fmt/format.h>

#include <stdexcept>

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

Result<OrderQuantity> read_order(ByteView bytes) {
  Reader r(bytes);
  OrderQuantity o;
  o.order = r.string();
  o.quantity = r.svarint();
  if (!r.ok()) return Error{"bad inventory payload: " + r.error()};
  return o;
}

}  // namespace

std::int64_t Sku::available() const {
  std::int64_t reserved = 0;
  for (const auto& [order, quantity] : reservations) reserved += quantity;
  return stock - reserved;
}

void Sku::encode(Writer& w) const {
  w.svarint(stock);
  w.varint(reservations.size());
  for (const auto& [order, quantity] : reservations) {
    w.string(order);
    w.svarint(quantity);
  }
}

Result<Sku> Sku::decode(Reader& r) {
  Sku s;
  s.stock = r.svarint();
  const std::size_t n = r.count(2);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string order = r.string();
    s.reservations[order] = r.svarint();
  }
  if (!r.ok()) return Error{"bad inventory snapshot: " + r.error()};
  return s;
}

std::string Sku::describe() const {
  return fmt::format("stock {}, {} reservation(s), available {}", stock, reservations.size(),
                     available());
}

void InventoryDomain::evolve(Sku& s, const Event& e) const {
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

Result<std::vector<NewEvent>> InventoryDomain::decide(const Sku& s, const Command& c) const {
  auto parsed = read_order(c.payload);
  if (!parsed) return parsed.error();
  const OrderQuantity& o = parsed.value();
  using Events = std::vector<NewEvent>;
  if (c.kind == "restock") {
    if (o.quantity <= 0) return Error{"the quantity must be positive"};
    return Events{{"StockAdded", 1, order_payload("", o.quantity)}};
  }
  if (c.kind == "reserve") {
    if (o.quantity <= 0) return Error{"the quantity must be positive"};
    if (s.reservations.contains(o.order)) return Error{"order already holds a reservation"};
    if (s.available() < o.quantity) return Error{"not enough stock"};
    return Events{{"StockReserved", 1, order_payload(o.order, o.quantity)}};
  }
  if (c.kind == "release") {
    const auto it = s.reservations.find(o.order);
    if (it == s.reservations.end()) return Error{"order holds no reservation"};
    return Events{{"ReservationReleased", 1, order_payload(o.order, it->second)}};
  }
  return Error{fmt::format("the inventory domain has no command '{}'", c.kind)};
}

std::string InventoryDomain::description() const {
  return "stock per SKU and reservations per order, no overselling";
}

std::vector<std::string> InventoryDomain::work_kinds() const {
  return {"restock", "reserve", "release"};
}

Work InventoryDomain::generate(std::string_view kind, Rng& rng) const {
  if (kind != "restock" && kind != "reserve" && kind != "release")
    throw std::invalid_argument(fmt::format("the inventory domain has no work '{}'", kind));
  const std::string sku = fmt::format("sku-{}", rng.below(kSkus));
  const std::string order = fmt::format("order-{}", rng.below(kOrders));
  const std::int64_t quantity = kind == "restock" ? rng.between(5, 20) : rng.between(1, 8);
  return Command{std::string(kind), sku, order_payload(order, quantity)};
}

std::vector<Invariant> InventoryDomain::invariants() const {
  return {invariant("no_oversell", "no SKU ever has more reserved than in stock", "sku-",
                    [](const Sku& s) { return s.available() >= 0; })};
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
  available.handles = {"StockAdded", "StockReserved", "ReservationReleased"};
  return {available};
}

std::string InventoryDomain::describe_payload(const Event& e) const {
  auto o = read_order(e.payload);
  if (!o.ok()) return o.error().message;
  if (o.value().order.empty()) return fmt::format("{}", o.value().quantity);
  return fmt::format("{} for {}", o.value().quantity, o.value().order);
}

}  // namespace essim::model::domains
