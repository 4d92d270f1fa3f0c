#pragma once
// The bank domain: accounts with deposits and withdrawals (no overdraft), and
// transfers between accounts as a saga with compensation.
//
// Streams: `acct-N` (accounts), `transfer-ID` (transfers).
// Events: AccountOpened, FundsDeposited (v1: whole units; v2: cents and a
// currency, default "USD"), FundsWithdrawn, FundsDebited, FundsCredited,
// FundsRefunded, TransferRequested, TransferCompleted, TransferFailed.
// Projections: bank.balances (account -> cents), bank.transfers (id -> status).

#include <cstdint>
#include <map>
#include <string>

#include "model/domain.h"

namespace essim::model::domains {

struct BankAccount final : AggregateState {
  bool open = false;
  std::int64_t balance_cents = 0;
  std::string currency;
  // Per transfer id: bit 1 debited, 2 credited, 4 refunded (idempotent steps).
  std::map<std::string, std::uint8_t> transfers;
  // Transfer streams: 0 none, 1 requested, 2 completed, 3 failed.
  std::uint8_t transfer_status = 0;

  std::unique_ptr<AggregateState> clone() const override;
  void encode(Bytes& out) const override;
  bool equals(const AggregateState& other) const override;
  std::string describe() const override;
  bool operator==(const BankAccount& o) const {
    return open == o.open && balance_cents == o.balance_cents && currency == o.currency &&
           transfers == o.transfers && transfer_status == o.transfer_status;
  }
};

// Transfer statuses in bank.transfers.
inline constexpr std::int64_t kTransferRequested = 1;
inline constexpr std::int64_t kTransferCompleted = 2;
inline constexpr std::int64_t kTransferFailed = 3;

// Payload of FundsDeposited after upcasting.
struct Deposit {
  std::int64_t amount_cents = 0;
  std::string currency;
};
// Reads any schema version of FundsDeposited as v2, with the default filled
// in unless `drop_default` (the upcaster bug).
sim::Result<Deposit> read_deposit(const Event& event, bool drop_default);
// Amount carried by a money event (deposit, withdrawal, debit, credit, refund).
std::int64_t event_amount(const Event& event);
std::string event_transfer(const Event& event);

class BankDomain final : public Domain {
 public:
  static constexpr int kAccounts = 8;

  std::string name() const override { return "bank"; }
  std::string description() const override;
  std::vector<std::string> work_kinds() const override;
  Work generate(std::string_view kind, sim::Rng& rng) const override;
  std::unique_ptr<AggregateState> initial() const override;
  void evolve(AggregateState& state, const Event& event) const override;
  sim::Result<std::vector<NewEvent>> decide(const AggregateState& state,
                                            const Command& command) const override;
  sim::Result<std::unique_ptr<AggregateState>> decode_state(ByteView bytes) const override;
  bool needs_upcast(const Event& event) const override;
  void upcast(Event& event, const Bugs& bugs) const override;
  std::vector<ProjectionHandler> projections() const override;
  std::vector<std::string> event_types() const override {
    return {"AccountOpened",     "FundsDeposited",    "FundsWithdrawn",
            "FundsDebited",      "FundsCredited",     "FundsRefunded",
            "TransferRequested", "TransferCompleted", "TransferFailed"};
  }
  std::string describe_payload(const Event& event) const override;
};

}  // namespace essim::model::domains
