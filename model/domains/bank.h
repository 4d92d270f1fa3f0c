#pragma once
// The bank domain: accounts with deposits and withdrawals (no overdraft), and
// transfers between accounts as a saga with compensation.
//
// Streams: `acct-N` (accounts), `transfer-ID` (transfers).
// Events: AccountOpened, FundsDeposited (v1: whole units; v2: cents and a
// currency, default "USD"), FundsWithdrawn, FundsDebited, FundsCredited,
// FundsRefunded, TransferSettled, TransferRequested, TransferCompleted,
// TransferFailed.
// A transfer's saga: request, debit the source (compensated by a refund),
// credit the target, settle the source (it forgets the transfer), complete.
// Projections: bank.balances (account -> cents), bank.transfers (id -> status).

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <essim/typed.h>

#include "model/domain.h"

namespace essim::model::domains {

// Per transfer id: bit 1 debited. An account holds a debit until it is
// refunded or settled, so that a debit decided again is a no-op and a refund
// knows whether there is anything to give back; a settled transfer is
// forgotten, so what an account remembers does not grow with the run.
// Ids of 16 bytes (the workload writes 16 hex digits) are held as two
// numbers: those loaded from a snapshot in one sorted array (a load copies
// them and allocates nothing per transfer), those added since in a small
// ordered map folded into the array once it holds a quarter as many (so a
// replay from nothing costs O(log n) per event, amortised; a removal from
// the array moves what follows it, and an account holds few). Any other id
// is kept by its text. Encoded as a map of id text to flags, in text order,
// as it always was.
class TransferFlags {
 public:
  std::uint8_t get(std::string_view id) const;
  void add(std::string_view id, std::uint8_t bits);  // ORs bits in
  void remove(std::string_view id);                  // forgets the id, if held
  std::size_t size() const { return keyed_.size() + recent_.size() + other_.size(); }

  void encode(Writer& w) const;
  // Reads what encode wrote; false with `r` failed on bad input.
  bool decode(Reader& r);
  // The same ids with the same flags, however they are held.
  friend bool operator==(const TransferFlags& a, const TransferFlags& b);

 private:
  static constexpr std::size_t kKeyBytes = 16;
  // A 16-byte id's bytes as two big-endian numbers: key order is text order.
  struct Key {
    std::uint64_t hi = 0;
    std::uint64_t lo = 0;
    friend auto operator<=>(const Key&, const Key&) = default;
  };
  struct Entry {
    Key key;
    std::uint8_t flags = 0;
  };
  class Cursor;
  static std::optional<Key> key_of(std::string_view id);
  // The flags of `id`, a new entry (0) if it has none.
  std::uint8_t& slot(std::string_view id);
  void fold_recent();
  void fold_when_large();

  std::vector<Entry> keyed_;                                // sorted by key
  std::map<Key, std::uint8_t> recent_;                      // not in keyed_
  std::map<std::string, std::uint8_t, std::less<>> other_;  // any other id
};

struct BankAccount {
  bool open = false;
  std::int64_t balance_cents = 0;
  std::string currency;
  TransferFlags transfers;
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
    return {"AccountOpened",     "FundsDeposited", "FundsWithdrawn",  "FundsDebited",
            "FundsCredited",     "FundsRefunded",  "TransferSettled", "TransferRequested",
            "TransferCompleted", "TransferFailed"};
  }
  std::string describe_payload(const Event& event) const override;
};

}  // namespace essim::model::domains
