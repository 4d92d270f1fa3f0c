#include "zoo.h"

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <essim/codec.h>
#include <essim/typed.h>

namespace zoo {

namespace {

using essim::BadPayload;
using essim::Bytes;
using essim::Command;
using essim::Error;
using essim::Event;
using essim::NewEvent;
using essim::Reader;
using essim::ReadModel;
using essim::Result;
using essim::Value;
using essim::Writer;

constexpr std::int64_t kMicrosPerUnit = 1'000'000;
// What an unverified wallet may receive over its life: past 2^31 micros.
constexpr std::int64_t kReceivedCap = 10'000 * kMicrosPerUnit;
// The largest amount a command may carry, so that no sum of them overflows.
constexpr std::int64_t kAmountMax = 1'000'000 * kMicrosPerUnit;
constexpr std::uint64_t kWallets = 5;
constexpr std::size_t kRecentMax = 8;
constexpr std::array<std::string_view, 10> kHandles{"ada", "bob", "cy",  "dee", "eve",
                                                    "fay", "gus", "hal", "ivy", "joe"};

// ---- the bugs: each changes the domain in one place ----

enum class Bug {
  kNone,
  kProfilesMissHandleSet,
  kEvolveDropsFee,
  kUpcasterMilliNotMicro,
  kHandleUniquePerWallet,
  kFreezeCountedPerDelivery,
  kActivityInArrivalOrder,
  kReceivedInt32,
  kDepositFieldsSwapped,
  kSnapshotDropsHandle,
  kEvolveStaticCache,
  kBalancesAddFee,
  kWithdrawChecksEmpty,
};

struct Variant {
  Bug bug;
  std::string_view name;  // the domain's name
  std::string_view what;  // its description
};

constexpr Variant kCorrect{Bug::kNone, "zoo", "wallets with handles: the correct twin of the zoo"};

constexpr std::array<Variant, 12> kVariants{{
    {Bug::kProfilesMissHandleSet, "zoo-profiles-miss-handle-set",
     "profiles has no case for HandleSet, added to the domain after it was written"},
    {Bug::kEvolveDropsFee, "zoo-evolve-drops-fee",
     "evolve adds a deposit's amount and forgets to take its fee off"},
    {Bug::kUpcasterMilliNotMicro, "zoo-upcaster-milli-not-micro",
     "the Deposited v1 to v2 upcaster turns units into thousandths, not millionths"},
    {Bug::kHandleUniquePerWallet, "zoo-handle-unique-per-wallet",
     "claiming a handle is decided on the wallet alone: nothing reserves it across wallets"},
    {Bug::kFreezeCountedPerDelivery, "zoo-freeze-counted-per-delivery",
     "profiles counts WalletFrozen deliveries instead of reading the event's count"},
    {Bug::kActivityInArrivalOrder, "zoo-activity-in-arrival-order",
     "activity appends money events as they arrive, not in position order"},
    {Bug::kReceivedInt32, "zoo-received-int32",
     "evolve keeps the lifetime total received in a 32-bit int"},
    {Bug::kDepositFieldsSwapped, "zoo-deposit-fields-swapped",
     "Deposited v2 is decoded fee first, but encoded amount first"},
    {Bug::kSnapshotDropsHandle, "zoo-snapshot-drops-handle",
     "the wallet's snapshot codec leaves out the handle"},
    {Bug::kEvolveStaticCache, "zoo-evolve-static-cache",
     "evolve caches decoded deposits in a static map keyed by stream and version"},
    {Bug::kBalancesAddFee, "zoo-balances-add-fee",
     "balances adds a deposit's fee where it should subtract it"},
    {Bug::kWithdrawChecksEmpty, "zoo-withdraw-checks-empty",
     "withdraw checks that the wallet is not empty, not that it covers the amount"},
}};

// ---- payloads: a payload that does not decode whole throws BadPayload ----

void finish(const Reader& r, std::string_view what) {
  if (!r.ok()) throw BadPayload("bad " + std::string(what) + " payload: " + r.error());
  if (!r.at_end())
    throw BadPayload("bad " + std::string(what) + " payload: bytes left over at offset " +
                     std::to_string(r.offset()));
}

std::string read_string(const Event& e) {
  Reader r(e.payload);
  std::string s = r.string();
  finish(r, e.type);
  return s;
}

Bytes string_payload(std::string_view s) {
  Bytes out;
  Writer(out).string(s);
  return out;
}

std::int64_t read_int(const Event& e) {
  Reader r(e.payload);
  const std::int64_t v = r.svarint();
  finish(r, e.type);
  return v;
}

Bytes int_payload(std::int64_t v) {
  Bytes out;
  Writer(out).svarint(v);
  return out;
}

// Deposited v2: the amount in micros, then the fee in micros.
struct Deposit {
  std::int64_t amount = 0;
  std::int64_t fee = 0;
};

Bytes deposit_v2(const Deposit& d) {
  Bytes out;
  Writer w(out);
  w.svarint(d.amount);
  w.svarint(d.fee);
  return out;
}

// Deposited v1, as old clients still write it: whole units, no fee.
Bytes deposit_v1(std::uint64_t units) {
  Bytes out;
  Writer(out).varint(units);
  return out;
}

std::uint64_t read_deposit_v1(const Event& e) {
  Reader r(e.payload);
  const std::uint64_t units = r.varint();
  finish(r, "Deposited v1");
  if (units > static_cast<std::uint64_t>(kAmountMax / kMicrosPerUnit))
    throw BadPayload("bad Deposited v1 payload: " + std::to_string(units) + " units");
  return units;
}

// HandleReserved and HandleReleased: the wallet, and the claim it is for.
struct Reservation {
  std::string wallet;
  std::string claim;
};

Reservation read_reservation(const Event& e) {
  Reader r(e.payload);
  Reservation v;
  v.wallet = r.string();
  v.claim = r.string();
  finish(r, e.type);
  return v;
}

// Commands: every command carries the same few fields.
struct Args {
  std::int64_t amount = 0;  // micros
  std::int64_t fee = 0;     // micros
  bool legacy = false;      // deposit: written as v1, as an old client does
  std::string text;         // open: the owner; reserve, release: the wallet; set-handle: the handle
  std::string claim;        // reserve, release: the claim (saga) it is for
};

Bytes encode_args(const Args& a) {
  Bytes out;
  Writer w(out);
  w.svarint(a.amount);
  w.svarint(a.fee);
  w.boolean(a.legacy);
  w.string(a.text);
  w.string(a.claim);
  return out;
}

Bytes reservation_payload(const Args& a) {
  Bytes out;
  Writer w(out);
  w.string(a.text);
  w.string(a.claim);
  return out;
}

Args read_args(const Command& c) {
  Reader r(c.payload);
  Args a;
  a.amount = r.svarint();
  a.fee = r.svarint();
  a.legacy = r.boolean();
  a.text = r.string();
  a.claim = r.string();
  finish(r, c.kind + " command");
  return a;
}

bool valid_amount(std::int64_t amount) {
  return amount > 0 && amount <= kAmountMax;
}

// A deposit as the rules accept it: a fee below the amount; a legacy one in
// whole units without a fee (what v1 can hold).
bool valid_deposit(const Args& a) {
  if (!valid_amount(a.amount) || a.fee < 0 || a.fee >= a.amount) return false;
  return !a.legacy || (a.fee == 0 && a.amount % kMicrosPerUnit == 0);
}

// ---- state ----

// One state serves both kinds of stream: a handle uses reserved_by and claim, a
// wallet the rest.
struct Wallet {
  bool open = false;
  std::string owner;
  std::int64_t balance = 0;   // micros
  std::int64_t received = 0;  // micros deposited over the wallet's life
  bool frozen = false;
  std::int64_t freezes = 0;
  std::string handle;       // "" until one is set
  std::string reserved_by;  // a handle stream: the wallet that reserved it
  std::string claim;        // and the claim it reserved it for

  friend bool operator==(const Wallet&, const Wallet&) = default;
  void encode(Writer& w) const {
    encode_head(w);
    w.string(handle);
    w.string(reserved_by);
    w.string(claim);
  }
  static Result<Wallet> decode(Reader& r) {
    Wallet s;
    s.decode_head(r);
    s.handle = r.string();
    s.reserved_by = r.string();
    s.claim = r.string();
    if (!r.ok()) return Error{"bad wallet snapshot: " + r.error()};
    return s;
  }
  std::string describe() const {
    if (!reserved_by.empty()) return "reserved by " + reserved_by + " for claim " + claim;
    if (!open) return "not open";
    return std::string(frozen ? "frozen" : "open") + ", balance " + std::to_string(balance) +
           ", received " + std::to_string(received) + ", frozen " + std::to_string(freezes) +
           " time(s), handle '" + handle + "'";
  }

 protected:
  void encode_head(Writer& w) const {
    w.boolean(open);
    w.string(owner);
    w.svarint(balance);
    w.svarint(received);
    w.boolean(frozen);
    w.svarint(freezes);
  }
  void decode_head(Reader& r) {
    open = r.boolean();
    owner = r.string();
    balance = r.svarint();
    received = r.svarint();
    frozen = r.boolean();
    freezes = r.svarint();
  }
};

// The bug zoo-snapshot-drops-handle: a snapshot codec that leaves out the
// handle (added to the state later, and not to its codec). State::decode is
// static, so a codec that differs needs a state type of its own.
struct WalletLosingHandle : Wallet {
  void encode(Writer& w) const {
    encode_head(w);
    w.string(reserved_by);
    w.string(claim);
  }
  static Result<WalletLosingHandle> decode(Reader& r) {
    WalletLosingHandle s;
    s.decode_head(r);
    s.reserved_by = r.string();
    s.claim = r.string();
    if (!r.ok()) return Error{"bad wallet snapshot: " + r.error()};
    return s;
  }
};

// ---- the domain ----

template <typename State>
class Zoo final : public essim::TypedDomain<State> {
 public:
  explicit Zoo(const Variant& variant) : variant_(variant), bug_(variant.bug) {}

  std::string name() const override { return std::string(variant_.name); }
  std::string description() const override { return std::string(variant_.what); }

  std::vector<std::string> event_types() const override {
    return {"WalletOpened",   "Deposited",      "Withdrawn",      "WalletFrozen",
            "WalletUnfrozen", "HandleReserved", "HandleReleased", "HandleSet"};
  }
  std::vector<std::string> evolve_handles() const override { return event_types(); }

  // ---- workload ----

  std::vector<std::string> work_kinds() const override {
    return {"open", "deposit", "withdraw", "freeze", "unfreeze", "claim"};
  }
  std::vector<essim::WorkWeight> mix() const override {
    return {{"open", 4},   {"deposit", 6},  {"withdraw", 5},
            {"freeze", 1}, {"unfreeze", 1}, {"claim", 2}};
  }

  essim::Work generate(std::string_view kind, essim::Rng& rng) const override {
    const std::string wallet = "wallet-" + std::to_string(rng.below(kWallets));
    Args a;
    if (kind == "open") a.text = "owner-" + std::to_string(rng.below(1000));
    if (kind == "deposit") {
      // Old clients write v1; a bank transfer is in whole units without a fee.
      a.legacy = rng.chance(0.2);
      if (a.legacy || rng.chance(0.3)) {
        a.amount = rng.between(1, 800) * kMicrosPerUnit;
      } else {
        a.amount = rng.between(kMicrosPerUnit, 800 * kMicrosPerUnit);
        a.fee = rng.between(0, a.amount / 10);
      }
    }
    if (kind == "withdraw") a.amount = rng.between(kMicrosPerUnit, 900 * kMicrosPerUnit);
    if (kind != "claim") return Command{std::string(kind), wallet, encode_args(a)};
    return claim(wallet, rng);
  }

  // ---- the decider ----

  Result<std::vector<NewEvent>> decide(const State& s, const Command& c) const override {
    const Args a = read_args(c);
    using Events = std::vector<NewEvent>;
    // A reservation belongs to one claim, not to a wallet: a compensation
    // that runs late must not release what another claim reserved.
    if (c.kind == "reserve") {
      if (s.reserved_by.empty()) return Events{{"HandleReserved", 1, reservation_payload(a)}};
      if (s.reserved_by == a.text && s.claim == a.claim) return Events{};  // a retry
      return Error{"handle reserved by " + s.reserved_by + " for claim " + s.claim};
    }
    if (c.kind == "release") {
      // Another claim's, or released already: at worst the handle stays reserved.
      if (s.reserved_by != a.text || s.claim != a.claim) return Events{};
      return Events{{"HandleReleased", 1, reservation_payload(a)}};
    }
    if (c.kind == "open") {
      if (s.open) return Error{"wallet already open"};
      return Events{{"WalletOpened", 1, string_payload(a.text)}};
    }
    if (!s.open) return Error{"wallet not open"};
    if (c.kind == "deposit") {
      if (!valid_deposit(a)) return Error{"bad deposit"};
      if (s.received + a.amount > kReceivedCap) return Error{"over the lifetime cap"};
      if (a.legacy) {
        const auto units = static_cast<std::uint64_t>(a.amount / kMicrosPerUnit);
        return Events{{"Deposited", 1, deposit_v1(units)}};
      }
      return Events{{"Deposited", 2, deposit_v2({a.amount, a.fee})}};
    }
    if (c.kind == "withdraw") {
      if (!valid_amount(a.amount)) return Error{"bad amount"};
      if (s.frozen) return Error{"wallet frozen"};
      // zoo-withdraw-checks-empty: "not empty" where "covers the amount" is meant.
      const bool covered =
          bug_ == Bug::kWithdrawChecksEmpty ? s.balance > 0 : s.balance >= a.amount;
      if (!covered) return Error{"insufficient funds"};
      return Events{{"Withdrawn", 1, int_payload(a.amount)}};
    }
    if (c.kind == "freeze") {
      if (s.frozen) return Error{"wallet frozen already"};
      return Events{{"WalletFrozen", 1, int_payload(s.freezes + 1)}};
    }
    if (c.kind == "unfreeze") {
      if (!s.frozen) return Error{"wallet not frozen"};
      return Events{{"WalletUnfrozen", 1, {}}};
    }
    if (c.kind == "set-handle") {
      if (s.handle == a.text) return Events{};  // set already: idempotent
      if (!s.handle.empty()) return Error{"wallet has the handle " + s.handle};
      return Events{{"HandleSet", 1, string_payload(a.text)}};
    }
    return Error{"the zoo has no command '" + c.kind + "'"};
  }

  void evolve(State& s, const Event& e) const override {
    const std::string_view type = e.type;
    if (type == "WalletOpened") {
      s.open = true;
      s.owner = read_string(e);
    } else if (type == "Deposited") {
      const Deposit d = evolve_deposit(e);
      s.balance += d.amount;
      if (bug_ != Bug::kEvolveDropsFee) s.balance -= d.fee;  // zoo-evolve-drops-fee forgets it
      s.received = add_received(s.received, d.amount);
    } else if (type == "Withdrawn") {
      s.balance -= read_int(e);
    } else if (type == "WalletFrozen") {
      s.frozen = true;
      s.freezes = read_int(e);
    } else if (type == "WalletUnfrozen") {
      finish(Reader(e.payload), e.type);
      s.frozen = false;
    } else if (type == "HandleReserved") {
      const Reservation r = read_reservation(e);
      s.reserved_by = r.wallet;
      s.claim = r.claim;
    } else if (type == "HandleReleased") {
      (void)read_reservation(e);
      s.reserved_by.clear();
      s.claim.clear();
    } else if (type == "HandleSet") {
      s.handle = read_string(e);
    }
  }

  // ---- schema evolution ----

  bool needs_upcast(const Event& e) const override {
    return e.type == "Deposited" && e.schema_version == 1;
  }
  void upcast(Event& e) const override {
    const std::uint64_t units = read_deposit_v1(e);
    // zoo-upcaster-milli-not-micro: thousandths where millionths are meant.
    const std::int64_t scale = bug_ == Bug::kUpcasterMilliNotMicro ? 1'000 : kMicrosPerUnit;
    e.payload = deposit_v2({static_cast<std::int64_t>(units) * scale, 0});
    e.schema_version = 2;
  }
  // An old client writes a deposit in whole units without a fee, or not at all.
  std::vector<essim::OldWriter> old_writers() const override {
    return {{"Deposited", 1, [this](const Event& latest) -> std::optional<Bytes> {
               const Deposit d = read_deposit(latest);
               if (d.fee != 0 || d.amount % kMicrosPerUnit != 0) return std::nullopt;
               return deposit_v1(static_cast<std::uint64_t>(d.amount / kMicrosPerUnit));
             }}};
  }

  // ---- oracles ----

  std::optional<essim::DecisionModel> decision_model() const override;
  std::vector<essim::ProjectionHandler> projections() const override {
    return {balances(), profiles(), activity()};
  }

  std::vector<essim::Invariant> invariants() const override {
    return {Zoo::invariant("balance_never_negative", "a wallet's balance never goes below zero",
                           "wallet-", [](const State& s) { return s.balance >= 0; }),
            Zoo::invariant(
                "received_within_cap", "a wallet receives between 0 and 10,000 units over its life",
                "wallet-",
                [](const State& s) { return s.received >= 0 && s.received <= kReceivedCap; })};
  }

  std::vector<essim::LogInvariant> log_invariants() const override {
    return {{"handles_unique",
             "no handle is set on two wallets",
             [](Value& holders, const Event& e) -> std::string {
               if (e.type != "HandleSet") return "";
               Value& holder = holders[read_string(e)];
               if (!holder.is_null() && holder.as_string() != e.stream)
                 return "handle '" + read_string(e) + "' set on " + holder.as_string() +
                        " and on " + e.stream;
               holder = e.stream;
               return "";
             },
             {}}};
  }

  std::vector<essim::ReadModelInvariant> read_model_invariants() const override {
    return {{"balances_never_negative", "no wallet shows a negative balance", "balances", true,
             [](const ReadModel& m) -> std::string {
               for (const auto& [wallet, balance] : m) {
                 if (balance.as_int() < 0)
                   return wallet + " shows " + std::to_string(balance.as_int()) + " micros";
               }
               return "";
             }}};
  }

  std::string describe_payload(const Event& e) const override {
    if (e.type == "Deposited" && e.schema_version == 1)
      return std::to_string(read_deposit_v1(e)) + " units (v1)";
    if (e.type == "Deposited") {
      const Deposit d = read_deposit(e);
      return std::to_string(d.amount) + " micros, fee " + std::to_string(d.fee);
    }
    if (e.type == "Withdrawn") return std::to_string(read_int(e)) + " micros";
    if (e.type == "WalletFrozen") return "freeze #" + std::to_string(read_int(e));
    if (e.type == "HandleReserved" || e.type == "HandleReleased") {
      const Reservation r = read_reservation(e);
      return r.wallet + " for claim " + r.claim;
    }
    if (e.type == "WalletOpened" || e.type == "HandleSet") return read_string(e);
    return "";
  }

 private:
  essim::Saga claim(const std::string& wallet, essim::Rng& rng) const {
    essim::Saga saga;
    saga.id = std::to_string(rng.next() % 1'000'000'000'000);
    const std::string handle(kHandles[rng.below(kHandles.size())]);
    Args reserve;
    reserve.text = wallet;
    reserve.claim = saga.id;
    Args set;
    set.text = handle;
    // Reserved first, released again if the wallet refuses it. The second
    // step has no compensation: once it may have happened, it is retried.
    const std::string stream = "handle-" + handle;
    // zoo-handle-unique-per-wallet leaves the reservation out: the wallet
    // alone decides, and it sees only its own handle.
    if (bug_ != Bug::kHandleUniquePerWallet) {
      saga.steps.push_back({Command{"reserve", stream, encode_args(reserve)},
                            Command{"release", stream, encode_args(reserve)}});
    }
    saga.steps.push_back({Command{"set-handle", wallet, encode_args(set)}, std::nullopt});
    return saga;
  }

  // Deposited at its latest schema (handlers and evolve see upcast events).
  Deposit read_deposit(const Event& e) const {
    if (e.schema_version != 2)
      throw BadPayload("Deposited has no schema version " + std::to_string(e.schema_version));
    Reader r(e.payload);
    Deposit d;
    if (bug_ == Bug::kDepositFieldsSwapped) {  // read in another order than deposit_v2 writes
      d.fee = r.svarint();
      d.amount = r.svarint();
    } else {
      d.amount = r.svarint();
      d.fee = r.svarint();
    }
    finish(r, "Deposited");
    return d;
  }

  Deposit evolve_deposit(const Event& e) const {
    if (bug_ != Bug::kEvolveStaticCache) return read_deposit(e);
    // Decoded deposits kept for the next load of the stream: a stream's
    // version names one event for good... within one run.
    static std::mutex mutex;
    static std::map<std::string, Deposit> decoded;
    const std::lock_guard lock(mutex);
    const std::string key = e.stream + "@" + std::to_string(e.version);
    const auto it = decoded.find(key);
    if (it != decoded.end()) return it->second;
    return decoded.emplace(key, read_deposit(e)).first->second;
  }

  std::int64_t add_received(std::int64_t received, std::int64_t amount) const {
    if (bug_ == Bug::kReceivedInt32) {
      int total = received;  // 32 bits: 2^31 micros is 2147 units
      total += amount;
      return total;
    }
    return received + amount;
  }

  essim::ProjectionHandler balances() const;
  essim::ProjectionHandler profiles() const;
  essim::ProjectionHandler activity() const;

  Variant variant_;
  Bug bug_;
};

// ---- the decision model: the rules, apart from decide and evolve ----

template <typename State>
std::optional<essim::DecisionModel> Zoo<State>::decision_model() const {
  essim::DecisionModel m;
  m.accepts = [](const Value& s, const Command& c) {
    const Args a = read_args(c);
    if (c.kind == "reserve") {
      const Value* by = s.find("by");
      return by == nullptr ||
             (by->as_string() == a.text && s.find("claim")->as_string() == a.claim);
    }
    if (c.kind == "release") return true;
    const bool open = s.find("open") != nullptr;
    if (c.kind == "open") return !open;
    if (!open) return false;
    const bool frozen = s.find("frozen")->as_bool();
    if (c.kind == "deposit")
      return valid_deposit(a) && s.find("received")->as_int() + a.amount <= kReceivedCap;
    if (c.kind == "withdraw")
      return !frozen && valid_amount(a.amount) && a.amount <= s.find("balance")->as_int();
    if (c.kind == "freeze") return !frozen;
    if (c.kind == "unfreeze") return frozen;
    if (c.kind == "set-handle") {
      const Value* handle = s.find("handle");
      return handle == nullptr || handle->as_string() == a.text;
    }
    return false;
  };
  m.apply = [](Value& s, const Command& c) {
    const Args a = read_args(c);
    if (c.kind == "reserve") s = Value::Map{{"by", a.text}, {"claim", a.claim}};
    if (c.kind == "release" && s.find("by") != nullptr && s.find("by")->as_string() == a.text &&
        s.find("claim")->as_string() == a.claim)
      s = Value();
    if (c.kind == "open")
      s = Value::Map{{"open", true}, {"balance", 0}, {"received", 0}, {"frozen", false}};
    if (c.kind == "deposit") {
      s["balance"] += a.amount - a.fee;
      s["received"] += a.amount;
    }
    if (c.kind == "withdraw") s["balance"] -= a.amount;
    if (c.kind == "freeze") s["frozen"] = true;
    if (c.kind == "unfreeze") s["frozen"] = false;
    if (c.kind == "set-handle") s["handle"] = a.text;
  };
  return m;
}

// ---- projections ----

template <typename State>
essim::ProjectionHandler Zoo<State>::balances() const {
  essim::ProjectionHandler h{
      "balances", "wallet -> balance in micros (adds and subtracts: needs deduplication)",
      [this](ReadModel& m, const Event& e) {
        if (e.type == "WalletOpened") {
          m.try_emplace(e.stream, std::int64_t{0});
        } else if (e.type == "Deposited") {
          const Deposit d = read_deposit(e);
          // zoo-balances-add-fee: a sign slip.
          m[e.stream] += bug_ == Bug::kBalancesAddFee ? d.amount + d.fee : d.amount - d.fee;
        } else if (e.type == "Withdrawn") {
          m[e.stream] -= read_int(e);
        }
      }};
  // Per opened wallet: everything paid in, less fees, less everything paid out.
  h.reference = [this](const std::vector<Event>& log) {
    std::map<std::string, std::array<std::int64_t, 3>> totals;  // in, fees, out
    for (const Event& e : log) {
      if (e.type == "WalletOpened") totals[e.stream];
      if (e.type == "Deposited") {
        const Deposit d = read_deposit(e);
        totals[e.stream][0] += d.amount;
        totals[e.stream][1] += d.fee;
      }
      if (e.type == "Withdrawn") totals[e.stream][2] += read_int(e);
    }
    ReadModel m;
    for (const auto& [wallet, t] : totals) m[wallet] = t[0] - t[1] - t[2];
    return m;
  };
  h.handles = {"WalletOpened", "Deposited", "Withdrawn"};
  h.ignores = {"WalletFrozen", "WalletUnfrozen", "HandleReserved", "HandleReleased", "HandleSet"};
  return h;
}

// A wallet's status, last writer by stream version: a redelivered older
// event changes nothing.
void set_status(Value& profile, std::string_view status, std::uint64_t version) {
  if (profile["status_at"].int_or(0) >= static_cast<std::int64_t>(version)) return;
  profile["status"] = status;
  profile["status_at"] = version;
}

template <typename State>
essim::ProjectionHandler Zoo<State>::profiles() const {
  essim::ProjectionHandler h{
      "profiles", "wallet -> {owner, status, status_at, freezes, handle} (idempotent)",
      [this](ReadModel& m, const Event& e) {
        if (e.type == "WalletOpened") {
          Value& p = m[e.stream];
          p["owner"] = read_string(e);
          if (p.find("freezes") == nullptr) p["freezes"] = 0;
          set_status(p, "open", e.version);
        } else if (e.type == "WalletFrozen") {
          Value& p = m[e.stream];
          Value& freezes = p["freezes"];
          if (bug_ == Bug::kFreezeCountedPerDelivery) {
            freezes += 1;  // counts deliveries, not freezes
          } else {
            freezes = std::max(freezes.int_or(0), read_int(e));
          }
          set_status(p, "frozen", e.version);
        } else if (e.type == "WalletUnfrozen") {
          set_status(m[e.stream], "open", e.version);
        } else if (e.type == "HandleSet" && bug_ != Bug::kProfilesMissHandleSet) {
          // zoo-profiles-miss-handle-set: written before HandleSet existed.
          m[e.stream]["handle"] = read_string(e);
        }
      }};
  // Per opened wallet: its owner, its last status change, its freezes counted.
  h.reference = [](const std::vector<Event>& log) {
    ReadModel m;
    for (const Event& e : log) {
      if (e.type == "WalletOpened")
        m[e.stream] = Value::Map{{"owner", read_string(e)},
                                 {"status", "open"},
                                 {"status_at", e.version},
                                 {"freezes", 0}};
      if (e.type == "WalletFrozen") m[e.stream]["freezes"] += 1;
      if (e.type == "WalletFrozen" || e.type == "WalletUnfrozen") {
        m[e.stream]["status"] = e.type == "WalletFrozen" ? "frozen" : "open";
        m[e.stream]["status_at"] = e.version;
      }
      if (e.type == "HandleSet") m[e.stream]["handle"] = read_string(e);
    }
    return m;
  };
  h.handles = {"WalletOpened", "WalletFrozen", "WalletUnfrozen", "HandleSet"};
  h.ignores = {"Deposited", "Withdrawn", "HandleReserved", "HandleReleased"};
  if (bug_ == Bug::kProfilesMissHandleSet) h.handles.pop_back();
  return h;
}

template <typename State>
essim::ProjectionHandler Zoo<State>::activity() const {
  essim::ProjectionHandler h{
      "activity", "\"recent\" -> the newest 8 money events by position (idempotent)",
      [this](ReadModel& m, const Event& e) {
        if (e.type != "Deposited" && e.type != "Withdrawn") return;
        std::int64_t net = 0;
        if (e.type == "Deposited") {
          const Deposit d = read_deposit(e);
          net = d.amount - d.fee;
        } else {
          net = -read_int(e);
        }
        const std::int64_t at = static_cast<std::int64_t>(e.position);
        Value entry = Value::Map{{"at", at}, {"wallet", e.stream}, {"net", net}};
        Value::List& recent = m["recent"].as_list();
        if (bug_ == Bug::kActivityInArrivalOrder) {
          recent.push_back(std::move(entry));  // arrival order: another interleaving, another list
        } else {
          // In position order, each event once, wherever it arrives.
          const auto later = std::find_if(recent.begin(), recent.end(), [&](const Value& v) {
            return v.find("at")->as_int() >= at;
          });
          if (later != recent.end() && later->find("at")->as_int() == at) return;
          recent.insert(later, std::move(entry));
        }
        if (recent.size() > kRecentMax) recent.erase(recent.begin());
      }};
  // The money events of the log in position order, the newest 8.
  h.reference = [this](const std::vector<Event>& log) {
    Value::List all;
    for (const Event& e : log) {
      if (e.type == "Deposited") {
        const Deposit d = read_deposit(e);
        all.push_back(Value::Map{{"at", static_cast<std::int64_t>(e.position)},
                                 {"wallet", e.stream},
                                 {"net", d.amount - d.fee}});
      }
      if (e.type == "Withdrawn")
        all.push_back(Value::Map{{"at", static_cast<std::int64_t>(e.position)},
                                 {"wallet", e.stream},
                                 {"net", -read_int(e)}});
    }
    ReadModel m;
    if (all.empty()) return m;
    const std::size_t from = all.size() > kRecentMax ? all.size() - kRecentMax : 0;
    m["recent"] = Value::List(all.begin() + static_cast<std::ptrdiff_t>(from), all.end());
    return m;
  };
  h.handles = {"Deposited", "Withdrawn"};
  h.ignores = {"WalletOpened",   "WalletFrozen",   "WalletUnfrozen",
               "HandleReserved", "HandleReleased", "HandleSet"};
  return h;
}

}  // namespace

void register_domain(essim::Registry& registry) {
  registry.add(std::make_unique<Zoo<Wallet>>(kCorrect));
  for (const Variant& v : kVariants) {
    if (v.bug == Bug::kSnapshotDropsHandle) {
      registry.add(std::make_unique<Zoo<WalletLosingHandle>>(v));
    } else {
      registry.add(std::make_unique<Zoo<Wallet>>(v));
    }
  }
}

}  // namespace zoo
