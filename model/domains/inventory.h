#pragma once
// The inventory domain: stock per SKU and reservations per order, with no
// overselling. A different shape from the bank (a map of reservations per
// aggregate, no sagas), so that nothing in essim is bank-specific by accident.
//
// Streams: `sku-N`. Events: StockAdded, StockReserved, ReservationReleased.
// Projection: inventory.available (sku -> stock not reserved).

#include <map>
#include <string>

#include "model/domain.h"

namespace essim::model::domains {

struct Sku final : AggregateState {
  std::int64_t stock = 0;
  std::map<std::string, std::int64_t> reservations;  // order -> quantity

  std::int64_t available() const;
  std::unique_ptr<AggregateState> clone() const override;
  void encode(Bytes& out) const override;
  bool equals(const AggregateState& other) const override;
  std::string describe() const override;
  bool operator==(const Sku& o) const { return stock == o.stock && reservations == o.reservations; }
};

class InventoryDomain final : public Domain {
 public:
  static constexpr int kSkus = 4;
  static constexpr int kOrders = 12;

  std::string name() const override { return "inventory"; }
  std::string description() const override;
  std::vector<std::string> work_kinds() const override;
  Work generate(std::string_view kind, sim::Rng& rng) const override;
  std::unique_ptr<AggregateState> initial() const override;
  void evolve(AggregateState& state, const Event& event) const override;
  sim::Result<std::vector<NewEvent>> decide(const AggregateState& state,
                                            const Command& command) const override;
  sim::Result<std::unique_ptr<AggregateState>> decode_state(ByteView bytes) const override;
  std::vector<ProjectionHandler> projections() const override;
  std::vector<std::string> event_types() const override {
    return {"StockAdded", "StockReserved", "ReservationReleased"};
  }
  std::string describe_payload(const Event& event) const override;
};

}  // namespace essim::model::domains
