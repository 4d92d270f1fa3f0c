#include "model/domains/bank.h"

#include <algorithm>
#include <array>
#include <optional>
#include <typeinfo>

#include <fmt/format.h>

#include "model/codec.h"
#include "sim/assert.h"

namespace essim::model::domains {

namespace {

constexpr std::uint8_t kDebited = 1;
constexpr std::string_view kHomeCurrency = "USD";

// Command payload: every bank command carries the same few fields.
struct Args {
  std::int64_t amount_cents = 0;
  std::string transfer;  // saga steps
  std::string from;      // request-transfer
  std::string to;        // request-transfer
  bool legacy = false;   // deposit: write the v1 event
};

Bytes encode_args(const Args& a) {
  Bytes out;
  Writer w(out);
  w.svarint(a.amount_cents);
  w.string(a.transfer);
  w.string(a.from);
  w.string(a.to);
  w.boolean(a.legacy);
  return out;
}

Result<Args> decode_args(ByteView bytes) {
  Reader r(bytes);
  Args a;
  a.amount_cents = r.svarint();
  a.transfer = r.string();
  a.from = r.string();
  a.to = r.string();
  a.legacy = r.boolean();
  if (!r.ok()) return Error{"bad bank command: " + r.error()};
  return a;
}

// Event payloads.
Bytes amount_payload(std::int64_t amount) {
  Bytes out;
  Writer(out).svarint(amount);
  return out;
}

Bytes transfer_payload(const std::string& transfer, std::int64_t amount) {
  Bytes out;
  Writer w(out);
  w.string(transfer);
  w.svarint(amount);
  return out;
}

Bytes deposit_v2(std::int64_t cents, std::string_view currency) {
  Bytes out;
  Writer w(out);
  w.svarint(cents);
  w.string(currency);
  return out;
}

Error error(std::string message) {
  return Error{std::move(message)};
}

std::string account(Rng& rng) {
  return fmt::format("acct-{}", rng.below(BankDomain::kAccounts));
}

Command command(std::string kind, std::string stream, const Args& args) {
  return Command{std::move(kind), std::move(stream), encode_args(args)};
}

}  // namespace

// ---- state ----

namespace {

// The key of a 16-byte id: its bytes as two big-endian numbers, so that
// comparing keys is comparing the texts (memcmp order).
std::uint64_t big_endian(const char* p) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = v << 8 | static_cast<unsigned char>(p[i]);  // NOLINT
  return v;
}

void put_big_endian(std::uint64_t v, char* p) {
  for (int i = 7; i >= 0; --i, v >>= 8) p[i] = static_cast<char>(v & 0xff);  // NOLINT
}

}  // namespace

std::optional<TransferFlags::Key> TransferFlags::key_of(std::string_view id) {
  if (id.size() != kKeyBytes) return std::nullopt;
  return Key{big_endian(id.data()), big_endian(id.data() + 8)};
}

// Walks a TransferFlags' 16-byte ids in key order, the array and the map
// merged, without copying them.
class TransferFlags::Cursor {
 public:
  explicit Cursor(const TransferFlags& f)
      : at_(f.keyed_.begin()),
        end_(f.keyed_.end()),
        r_(f.recent_.begin()),
        r_end_(f.recent_.end()) {}
  bool done() const { return at_ == end_ && r_ == r_end_; }
  Entry next() {
    if (r_ == r_end_ || (at_ != end_ && at_->key < r_->first)) return *at_++;
    const Entry e{r_->first, r_->second};
    ++r_;
    return e;
  }

 private:
  std::vector<Entry>::const_iterator at_, end_;
  std::map<Key, std::uint8_t>::const_iterator r_, r_end_;
};

void TransferFlags::fold_recent() {
  std::vector<Entry> merged;
  merged.reserve(keyed_.size() + recent_.size());
  for (Cursor c(*this); !c.done();) merged.push_back(c.next());
  keyed_ = std::move(merged);
  recent_.clear();
}

std::uint8_t TransferFlags::get(std::string_view id) const {
  if (const auto key = key_of(id)) {
    const auto it = std::lower_bound(keyed_.begin(), keyed_.end(), *key,
                                     [](const Entry& e, const Key& k) { return e.key < k; });
    if (it != keyed_.end() && it->key == *key) return it->flags;
    const auto r = recent_.find(*key);
    return r == recent_.end() ? 0 : r->second;
  }
  const auto it = other_.find(id);
  return it == other_.end() ? 0 : it->second;
}

std::uint8_t& TransferFlags::slot(std::string_view id) {
  const auto key = key_of(id);
  if (!key) return other_[std::string(id)];
  const auto it = std::lower_bound(keyed_.begin(), keyed_.end(), *key,
                                   [](const Entry& e, const Key& k) { return e.key < k; });
  if (it != keyed_.end() && it->key == *key) return it->flags;
  return recent_[*key];
}

void TransferFlags::fold_when_large() {
  constexpr std::size_t kRecentMin = 32;
  if (recent_.size() > std::max(kRecentMin, keyed_.size() / 4)) fold_recent();
}

void TransferFlags::add(std::string_view id, std::uint8_t bits) {
  slot(id) |= bits;
  fold_when_large();
}

void TransferFlags::remove(std::string_view id) {
  const auto key = key_of(id);
  if (!key) {
    other_.erase(std::string(id));
    return;
  }
  const auto it = std::lower_bound(keyed_.begin(), keyed_.end(), *key,
                                   [](const Entry& e, const Key& k) { return e.key < k; });
  if (it != keyed_.end() && it->key == *key) {
    keyed_.erase(it);
  } else {
    recent_.erase(*key);
  }
}

bool operator==(const TransferFlags& a, const TransferFlags& b) {
  if (a.size() != b.size() || a.other_ != b.other_) return false;
  TransferFlags::Cursor x(a);
  TransferFlags::Cursor y(b);
  while (!x.done() && !y.done()) {
    const TransferFlags::Entry l = x.next();
    const TransferFlags::Entry r = y.next();
    if (l.key != r.key || l.flags != r.flags) return false;
  }
  return x.done() && y.done();
}

void TransferFlags::encode(Writer& w) const {
  w.varint(size());
  // Both in text order, merged.
  auto other = other_.begin();
  std::array<char, kKeyBytes> text{};
  for (Cursor c(*this); !c.done();) {
    const Entry e = c.next();
    put_big_endian(e.key.hi, text.data());
    put_big_endian(e.key.lo, text.data() + 8);
    const std::string_view id(text.data(), text.size());
    for (; other != other_.end() && std::string_view(other->first) < id; ++other) {
      w.string(other->first);
      w.u8(other->second);
    }
    w.string(id);
    w.u8(e.flags);
  }
  for (; other != other_.end(); ++other) {
    w.string(other->first);
    w.u8(other->second);
  }
}

bool TransferFlags::decode(Reader& r) {
  keyed_.clear();
  recent_.clear();
  other_.clear();
  const std::size_t n = r.count(2);
  // The 16-byte ids each take 18 bytes of input.
  keyed_.reserve(std::min(n, r.remaining() / (kKeyBytes + 2)));
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    const std::string_view id = r.text();
    const std::uint8_t flags = r.u8();
    if (!r.ok()) break;
    const auto key = key_of(id);
    // Written in order, so the common case appends; an id out of order or
    // twice (never written so) is taken as the map took it: the last wins.
    if (key && (keyed_.empty() || keyed_.back().key < *key)) {
      keyed_.push_back(Entry{*key, flags});
    } else {
      slot(id) = flags;
      fold_when_large();
    }
  }
  if (!recent_.empty()) fold_recent();
  return r.ok();
}

void BankAccount::encode(Writer& w) const {
  w.boolean(open);
  w.svarint(balance_cents);
  w.string(currency);
  transfers.encode(w);
  w.u8(transfer_status);
}

Result<BankAccount> BankAccount::decode(Reader& r) {
  BankAccount s;
  s.open = r.boolean();
  s.balance_cents = r.svarint();
  s.currency = r.string();
  (void)s.transfers.decode(r);
  s.transfer_status = r.u8();
  if (!r.ok()) return Error{"bad bank snapshot: " + r.error()};
  return s;
}

std::string BankAccount::describe() const {
  if (transfer_status != 0) return fmt::format("transfer status {}", transfer_status);
  return fmt::format("{} balance {} {}", open ? "open" : "not open", balance_cents, currency);
}

// ---- events ----

namespace {
// FundsDeposited v1: whole units, no currency (the home currency is the
// default the upcaster fills in).
std::int64_t deposit_v1_cents(Reader& r) {
  return static_cast<std::int64_t>(r.varint()) * 100;
}

Error bad_deposit(const Reader& r) {
  return Error{"bad FundsDeposited payload: " + r.error()};
}
}  // namespace

Result<Deposit> read_deposit(const Event& e, bool drop_default) {
  Reader r(e.payload);
  Deposit d;
  if (e.schema_version == 1) {
    d.amount_cents = deposit_v1_cents(r);
    if (!drop_default) d.currency = kHomeCurrency;
  } else if (e.schema_version == 2) {
    d.amount_cents = r.svarint();
    d.currency = r.string();
  } else {
    return Error{fmt::format("FundsDeposited has no schema version {}", e.schema_version)};
  }
  if (!r.ok()) return bad_deposit(r);
  return d;
}

namespace {
// Out of line, so that the checks that call it stay small on the replay path.
[[noreturn]] __attribute__((noinline)) void bad_payload(const Reader& r, const Event& e) {
  throw BadPayload(fmt::format("bad {} payload: {}", e.type, r.error()));
}

// Never zeros for bytes that do not decode (BadPayload).
std::int64_t checked(const Reader& r, const Event& e, std::int64_t value) {
  if (!r.ok()) [[unlikely]]
    bad_payload(r, e);
  return value;
}

}  // namespace

namespace {
// A deposit's currency (after upcasting). Throws BadPayload.
std::string deposit_currency(const Event& e) {
  auto d = read_deposit(e, false);
  if (!d.ok()) throw BadPayload(d.error().message);
  return d.value().currency;
}
}  // namespace

std::int64_t event_amount(const Event& e) {
  Reader r(e.payload);
  if (e.type == "FundsDeposited") {
    auto d = read_deposit(e, false);
    if (!d.ok()) throw BadPayload(d.error().message);
    return d.value().amount_cents;
  }
  if (e.type == "FundsWithdrawn") return checked(r, e, r.svarint());
  if (e.type == "FundsDebited" || e.type == "FundsCredited" || e.type == "FundsRefunded" ||
      e.type == "TransferRequested") {
    if (e.type == "TransferRequested") {
      (void)r.string();
      (void)r.string();
    } else {
      (void)r.string();
    }
    const std::int64_t amount = r.svarint();
    return checked(r, e, amount);
  }
  return 0;
}

std::string event_transfer(const Event& e) {
  if (e.type == "FundsDebited" || e.type == "FundsCredited" || e.type == "FundsRefunded") {
    Reader r(e.payload);
    std::string transfer = r.string();
    (void)checked(r, e, 0);
    return transfer;
  }
  return {};
}

bool BankDomain::needs_upcast(const Event& e) const {
  return e.schema_version == 1 && same_text(e.type, "FundsDeposited");
}

void BankDomain::upcast(Event& e) const {
  upcast_with_bugs(e, Bugs{});
}

void BankDomain::upcast_with_bugs(Event& e, const Bugs& bugs) const {
  ESSIM_ASSERT(needs_upcast(e));
  // read_deposit's v1 branch, without building a Deposit (the replay path).
  Reader r(e.payload);
  const std::int64_t cents = deposit_v1_cents(r);
  if (!r.ok()) throw BadPayload(bad_deposit(r).message);
  e.payload.clear();  // rewritten in place: no allocation on the replay path
  Writer w(e.payload);
  w.svarint(cents);
  w.string(bugs.has(Bug::kUpcasterDropsDefault) ? std::string_view{} : kHomeCurrency);
  e.schema_version = 2;
}

void BankDomain::evolve(BankAccount& s, const Event& e) const {
  // The replay hot path: no allocation, the type compared once.
  const std::string_view type = e.type;
  Reader r(e.payload);
  if (same_text(type, "FundsDeposited")) {
    // Evolve sees upcast events: v2, cents and a currency.
    const std::int64_t cents = r.svarint();
    const std::size_t n = r.count(1);
    if (!r.ok() || n > r.remaining()) throw BadPayload("bad FundsDeposited payload");
    const std::string_view currency(reinterpret_cast<const char*>(e.payload.data() + r.offset()),
                                    n);  // NOLINT
    // A deposit in another currency is held apart, not added to the balance.
    if (e.schema_version == 2 && same_text(currency, s.currency)) s.balance_cents += cents;
  } else if (same_text(type, "FundsWithdrawn")) {
    s.balance_cents -= r.svarint();
  } else if (same_text(type, "AccountOpened")) {
    s.open = true;
    s.currency = r.string();
  } else if (same_text(type, "FundsDebited") || same_text(type, "FundsCredited") ||
             same_text(type, "FundsRefunded")) {
    const std::string_view transfer = r.text();
    const std::int64_t amount = r.svarint();
    if (same_text(type, "FundsDebited")) {
      s.balance_cents -= amount;
      s.transfers.add(transfer, kDebited);
    } else if (same_text(type, "FundsCredited")) {
      s.balance_cents += amount;
    } else {
      s.balance_cents += amount;
      s.transfers.remove(transfer);
    }
  } else if (same_text(type, "TransferSettled")) {
    s.transfers.remove(r.text());
  } else if (same_text(type, "TransferRequested")) {
    s.transfer_status = kTransferRequested;
  } else if (same_text(type, "TransferCompleted")) {
    s.transfer_status = kTransferCompleted;
  } else if (same_text(type, "TransferFailed")) {
    s.transfer_status = kTransferFailed;
  }
  (void)checked(r, e, 0);
}

// ---- decisions ----

Result<std::vector<NewEvent>> BankDomain::decide(const BankAccount& s, const Command& c) const {
  auto parsed = decode_args(c.payload);
  if (!parsed) return parsed.error();
  const Args& a = parsed.value();
  using Events = std::vector<NewEvent>;
  const bool money = c.kind == "deposit" || c.kind == "withdraw" || c.kind == "debit" ||
                     c.kind == "credit" || c.kind == "refund";
  if (money && a.amount_cents <= 0) return error("the amount must be positive");
  if (c.kind == "open") {
    if (s.open) return error("account already open");
    return Events{{"AccountOpened", 1, [] {
                     Bytes out;
                     Writer(out).string(kHomeCurrency);
                     return out;
                   }()}};
  }
  if (c.kind == "deposit") {
    if (!s.open) return error("account not open");
    if (a.legacy) {
      Bytes out;
      Writer(out).varint(static_cast<std::uint64_t>(a.amount_cents / 100));
      return Events{{"FundsDeposited", 1, out}};
    }
    return Events{{"FundsDeposited", 2, deposit_v2(a.amount_cents, kHomeCurrency)}};
  }
  if (c.kind == "withdraw") {
    if (!s.open) return error("account not open");
    if (s.balance_cents < a.amount_cents) return error("insufficient funds");
    return Events{{"FundsWithdrawn", 1, amount_payload(a.amount_cents)}};
  }
  // A debit is held until it is refunded or settled; a credit, like a
  // deposit, is made once by its command id (the store's command table).
  const bool held = (s.transfers.get(a.transfer) & kDebited) != 0;
  if (c.kind == "debit") {
    if (!s.open) return error("account not open");
    if (held) return Events{};
    if (s.balance_cents < a.amount_cents) return error("insufficient funds");
    return Events{{"FundsDebited", 1, transfer_payload(a.transfer, a.amount_cents)}};
  }
  if (c.kind == "credit") {
    if (!s.open) return error("account not open");
    return Events{{"FundsCredited", 1, transfer_payload(a.transfer, a.amount_cents)}};
  }
  if (c.kind == "refund") {
    if (!held) return Events{};
    return Events{{"FundsRefunded", 1, transfer_payload(a.transfer, a.amount_cents)}};
  }
  if (c.kind == "settle") {
    if (!held) return Events{};
    Bytes out;
    Writer(out).string(a.transfer);
    return Events{{"TransferSettled", 1, out}};
  }
  if (c.kind == "request-transfer") {
    if (s.transfer_status != 0) return Events{};
    Bytes out;
    Writer w(out);
    w.string(a.from);
    w.string(a.to);
    w.svarint(a.amount_cents);
    return Events{{"TransferRequested", 1, out}};
  }
  if (c.kind == "complete-transfer") {
    if (s.transfer_status == kTransferCompleted) return Events{};
    if (s.transfer_status == kTransferFailed) return error("transfer already failed");
    return Events{{"TransferCompleted", 1, {}}};
  }
  if (c.kind == "fail-transfer") {
    if (s.transfer_status == kTransferFailed) return Events{};
    if (s.transfer_status == kTransferCompleted) return error("transfer already completed");
    return Events{{"TransferFailed", 1, {}}};
  }
  return error(fmt::format("the bank domain has no command '{}'", c.kind));
}

// ---- workload ----

std::string BankDomain::description() const {
  return "accounts with deposits and withdrawals (no overdraft); transfers as a saga with "
         "compensation";
}

std::vector<std::string> BankDomain::work_kinds() const {
  return {"open", "deposit", "withdraw", "transfer"};
}

Work BankDomain::generate(std::string_view kind, Rng& rng) const {
  Args a;
  if (kind == "open") return command("open", account(rng), a);
  if (kind == "deposit") {
    a.legacy = rng.chance(0.3);
    a.amount_cents = a.legacy ? 100 * rng.between(1, 100) : rng.between(100, 10'000);
    return command("deposit", account(rng), a);
  }
  if (kind == "withdraw") {
    a.amount_cents = rng.between(100, 5'000);
    return command("withdraw", account(rng), a);
  }
  ESSIM_ASSERT_MSG(kind == "transfer", fmt::format("the bank domain has no work '{}'", kind));
  Saga saga;
  saga.id = fmt::format("{:016x}", rng.next());
  a.transfer = saga.id;
  a.from = account(rng);
  do {
    a.to = account(rng);
  } while (a.to == a.from);
  a.amount_cents = rng.between(100, 3'000);
  const std::string stream = "transfer-" + saga.id;
  saga.steps.push_back(
      {command("request-transfer", stream, a), command("fail-transfer", stream, a)});
  saga.steps.push_back({command("debit", a.from, a), command("refund", a.from, a)});
  saga.steps.push_back({command("credit", a.to, a), std::nullopt});
  // The source forgets the transfer: what an account remembers stays small.
  saga.steps.push_back({command("settle", a.from, a), std::nullopt});
  saga.steps.push_back({command("complete-transfer", stream, a), std::nullopt});
  return saga;
}

// ---- projections ----

std::vector<ProjectionHandler> BankDomain::projections() const {
  ProjectionHandler balances{
      "balances", "account -> balance in cents (adds and subtracts: needs deduplication)",
      [](ReadModel& m, const Event& e) {
        if (e.type == "AccountOpened") {
          m.try_emplace(e.stream, std::int64_t{0});
        } else if (e.type == "FundsDeposited") {
          auto d = read_deposit(e, false);
          if (!d.ok()) throw BadPayload(d.error().message);
          if (d.value().currency == kHomeCurrency) m[e.stream] += d.value().amount_cents;
        } else if (e.type == "FundsWithdrawn" || e.type == "FundsDebited") {
          m[e.stream] -= event_amount(e);
        } else if (e.type == "FundsCredited" || e.type == "FundsRefunded") {
          m[e.stream] += event_amount(e);
        }
      }};
  // The reference: per opened account, the sum of its money events' signed
  // amounts (deposits in the home currency only), computed over the whole log.
  balances.reference = [](const std::vector<Event>& log) {
    ReadModel m;
    for (const Event& e : log) {
      if (e.type == "AccountOpened") m.try_emplace(e.stream, std::int64_t{0});
    }
    for (const Event& e : log) {
      if (e.type == "FundsDeposited" && deposit_currency(e) != kHomeCurrency) continue;
      const bool in =
          e.type == "FundsDeposited" || e.type == "FundsCredited" || e.type == "FundsRefunded";
      const bool out = e.type == "FundsWithdrawn" || e.type == "FundsDebited";
      if (in) m[e.stream] += event_amount(e);
      if (out) m[e.stream] -= event_amount(e);
    }
    return m;
  };
  ProjectionHandler transfers{"transfers",
                              "transfer -> status (1 requested, 2 completed, 3 failed); idempotent",
                              [](ReadModel& m, const Event& e) {
                                if (e.type == "TransferRequested") {
                                  m.try_emplace(e.stream, Value(kTransferRequested));
                                } else if (e.type == "TransferCompleted") {
                                  m[e.stream] = kTransferCompleted;
                                } else if (e.type == "TransferFailed") {
                                  m[e.stream] = kTransferFailed;
                                }
                              }};
  const std::vector<std::string> money{"AccountOpened", "FundsDeposited", "FundsWithdrawn",
                                       "FundsDebited",  "FundsCredited",  "FundsRefunded"};
  const std::vector<std::string> statuses{"TransferRequested", "TransferCompleted",
                                          "TransferFailed"};
  balances.handles = money;
  balances.ignores = statuses;
  balances.ignores.emplace_back("TransferSettled");
  transfers.handles = statuses;
  transfers.ignores = money;
  transfers.ignores.emplace_back("TransferSettled");
  return {balances, transfers};
}

// ---- rules ----

// FundsDeposited v1 held whole units of the home currency: a v2 deposit
// that is one of those is written as v1 wrote it; any other v1 never wrote.
std::vector<OldWriter> BankDomain::old_writers() const {
  return {{"FundsDeposited", 1, [](const Event& latest) -> std::optional<Bytes> {
             auto d = read_deposit(latest, false);
             if (!d.ok()) throw BadPayload(d.error().message);
             const std::int64_t cents = d.value().amount_cents;
             if (d.value().currency != kHomeCurrency || cents < 0 || cents % 100 != 0)
               return std::nullopt;
             Bytes out;
             Writer(out).varint(static_cast<std::uint64_t>(cents / 100));
             return out;
           }}};
}

// The rules of an account, apart from decide and evolve: {open, balance,
// held: {transfer id: true}}, the debits not yet refunded or settled.
std::optional<DecisionModel> BankDomain::decision_model() const {
  DecisionModel m;
  m.kinds = {"open", "deposit", "withdraw", "debit", "credit", "refund", "settle"};
  const auto args = [](const Command& c) {
    auto a = decode_args(c.payload);
    if (!a.ok()) throw BadPayload(a.error().message);
    return a.value();
  };
  const auto held = [](const Value& state, const Args& a) {
    const Value* debits = state.find("held");
    return debits != nullptr && debits->find(a.transfer) != nullptr;
  };
  m.accepts = [=](const Value& state, const Command& c) {
    const Value* opened = state.find("open");
    const bool open = opened != nullptr && opened->as_bool();
    const std::int64_t balance = open ? state.find("balance")->as_int() : 0;
    if (c.kind == "open") return !open;
    const Args a = args(c);
    if (c.kind == "settle") return true;  // a settle of what is not held appends nothing
    if (a.amount_cents <= 0) return false;
    if (c.kind == "deposit" || c.kind == "credit") return open;
    if (c.kind == "withdraw") return open && a.amount_cents <= balance;
    if (c.kind == "debit") return open && (held(state, a) || a.amount_cents <= balance);
    return true;  // a refund of what is not held appends nothing
  };
  m.apply = [=](Value& state, const Command& c) {
    if (c.kind == "open") {
      state = Value::Map{{"open", true}, {"balance", 0}, {"held", Value::Map{}}};
      return;
    }
    const Args a = args(c);
    if (c.kind == "deposit" || c.kind == "credit") {
      state["balance"] += a.amount_cents;
    } else if (c.kind == "withdraw") {
      state["balance"] -= a.amount_cents;
    } else if (held(state, a) == (c.kind == "debit")) {
      // A debit already held, or a refund or settle of what is not: nothing.
    } else if (c.kind == "debit") {
      state["held"].as_map().emplace(a.transfer, true);
      state["balance"] -= a.amount_cents;
    } else {
      state["held"].as_map().erase(a.transfer);
      if (c.kind == "refund") state["balance"] += a.amount_cents;
    }
  };
  return m;
}

std::vector<Invariant> BankDomain::invariants() const {
  return {invariant("no_overdraft", "no account's balance ever goes below zero", "acct-",
                    [](const BankAccount& a) { return a.balance_cents >= 0; })};
}

std::vector<LogInvariant> BankDomain::log_invariants() const {
  // Per transfer: what left the source equals what reached the target or
  // came back, once the run settled (a transfer in flight is not a leak).
  LogInvariant conserved{
      "money_conserved",
      "for every transfer, the money debited equals the money credited plus refunded",
      [](Value& flows, const Event& e) {
        const std::string transfer = event_transfer(e);
        if (transfer.empty()) return std::string();
        Value& flow = flows[transfer];
        if (e.type == "FundsDebited") flow["debited"] += event_amount(e);
        if (e.type == "FundsCredited") flow["credited"] += event_amount(e);
        if (e.type == "FundsRefunded") flow["refunded"] += event_amount(e);
        return std::string();
      },
      [](const Value& flows) {
        if (!flows.is_map()) return std::string();
        for (const auto& entry : flows.as_map()) {
          const std::string& transfer = entry.first;
          const Value& flow = entry.second;
          const auto amount = [&](std::string_view key) {
            const Value* v = flow.find(key);
            return v == nullptr ? 0 : v->as_int();
          };
          const std::int64_t debited = amount("debited");
          const std::int64_t credited = amount("credited");
          const std::int64_t refunded = amount("refunded");
          if (debited == credited + refunded) continue;
          return fmt::format("transfer {}: {} debited, {} credited, {} refunded: {} cents {}",
                             transfer, debited, credited, refunded,
                             std::abs(debited - credited - refunded),
                             debited > credited + refunded ? "vanished" : "appeared from nowhere");
        }
        return std::string();
      }};
  LogInvariant complete{
      "sagas_complete", "every transfer ends completed or failed",
      [](Value& last, const Event& e) {
        if (e.stream.starts_with("transfer-")) last[e.stream] = e.type;
        return std::string();
      },
      [](const Value& last) {
        if (!last.is_map()) return std::string();
        for (const auto& [stream, type] : last.as_map()) {
          if (type == Value("TransferCompleted") || type == Value("TransferFailed")) continue;
          return fmt::format("{} never finished: its last event is {}", stream, type.as_string());
        }
        return std::string();
      }};
  return {conserved, complete};
}

std::string BankDomain::describe_payload(const Event& e) const {
  if (e.type == "FundsDeposited") {
    auto d = read_deposit(e, false);
    if (!d.ok()) return d.error().message;
    return fmt::format("{} {}", d.value().amount_cents, d.value().currency);
  }
  if (e.type == "FundsWithdrawn") return fmt::format("{}", event_amount(e));
  if (e.type == "FundsDebited" || e.type == "FundsCredited" || e.type == "FundsRefunded") {
    return fmt::format("{} for transfer {}", event_amount(e), event_transfer(e));
  }
  if (e.type == "TransferSettled") {
    Reader r(e.payload);
    return fmt::format("transfer {}", r.text());
  }
  if (e.type == "TransferRequested") {
    Reader r(e.payload);
    const std::string from = r.string();
    const std::string to = r.string();
    return fmt::format("{} from {} to {}", r.svarint(), from, to);
  }
  return {};
}

}  // namespace essim::model::domains
