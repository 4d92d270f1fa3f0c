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

#include <essim/typed.h>

#include "model/domain.h"

namespace essim::model::domains {

struct BankAccount {
  bool open = false;
  std::int64_t balance_cents = 0;
  std::string currency;
  // Per transfer id: bit 1 debited, 2 credited, 4 refunded (idempotent steps).
  std::map<std::string, std::uint8_t> transfers;
  // Transfer streams: 0 none, 1 requested, 2 completed, 3 failed.
  std::uint8_t transfer_status = 0;

  void encode(Writer& w) const;
  static Result<BankAccount> decode(Reader& r);
  std::string describe() const;
  friend bool operator==(const BankAccount&, const BankAccount&) = default;
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
Result<Deposit> read_deposit(const Event& event, bool drop_default);
// Amount carried by a money event (deposit, withdrawal, debit, credit, refund).
std::int64_t event_amount(const Event& event);
std::string event_transfer(const Event& event);

// Written on the public API (essim/typed.h), as a user's domain is; only its
// upcaster's bug variant is essim's own (UpcastBugs).
class BankDomain final : public TypedDomain<BankAccount>, public UpcastBugs {
 public:
  static constexpr int kAccounts = 8;

  std::string name() const override { return "bank"; }
  std::string description() const override;
  std::vector<std::string> work_kinds() const override;
  Work generate(std::string_view kind, Rng& rng) const override;
  void evolve(BankAccount& state, const Event& event) const override;
  Result<std::vector<NewEvent>> decide(const BankAccount& state,
                                       const Command& command) const override;
  bool needs_upcast(const Event& event) const override;
  void upcast(Event& event) const override;
  void upcast_with_bugs(Event& event, const Bugs& bugs) const override;
  std::vector<OldWriter> old_writers() const override;
  std::optional<DecisionModel> decision_model() const override;
  std::vector<std::string> evolve_handles() const override { return event_types(); }
  std::vector<ProjectionHandler> projections() const override;
  std::vector<Invariant> invariants() const override;
  std::vector<LogInvariant> log_invariants() const override;
  std::vector<std::string> event_types() const override {
    return {"AccountOpened",     "FundsDeposited",    "FundsWithdrawn",
            "FundsDebited",      "FundsCredited",     "FundsRefunded",
            "TransferRequested", "TransferCompleted", "TransferFailed"};
  }
  std::string describe_payload(const Event& event) const override;
};

}  // namespace essim::model::domains
