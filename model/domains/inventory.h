#pragma once
// The inventory domain: stock per SKU and reservations per order, with no
// overselling. A different shape from the bank (a map of reservations per
// aggregate, no sagas), so that nothing in essim is bank-specific by accident.
//
// Streams: `sku-N`. Events: StockAdded, StockReserved, ReservationReleased.
// Projection: inventory.available (sku -> stock not reserved).

#include <map>
#include <string>

#include <essim/typed.h>

namespace essim::model::domains {

struct Sku {
  std::int64_t stock = 0;
  std::map<std::string, std::int64_t> reservations;  // order -> quantity

  std::int64_t available() const;
  void encode(Writer& w) const;
  static Result<Sku> decode(Reader& r);
  std::string describe() const;
  friend bool operator==(const Sku&, const Sku&) = default;
};

// Written on the public API only (essim/typed.h), as a user's domain is.
class InventoryDomain final : public TypedDomain<Sku> {
 public:
  static constexpr int kSkus = 4;
  static constexpr int kOrders = 12;

  std::string name() const override { return "inventory"; }
  std::string description() const override;
  std::vector<std::string> work_kinds() const override;
  Work generate(std::string_view kind, Rng& rng) const override;
  void evolve(Sku& state, const Event& event) const override;
  Result<std::vector<NewEvent>> decide(const Sku& state, const Command& command) const override;
  std::vector<std::string> evolve_handles() const override { return event_types(); }
  std::vector<ProjectionHandler> projections() const override;
  std::vector<Invariant> invariants() const override;
  std::vector<std::string> event_types() const override {
    return {"StockAdded", "StockReserved", "ReservationReleased"};
  }
  std::string describe_payload(const Event& event) const override;
};

}  // namespace essim::model::domains
