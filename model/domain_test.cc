#include "model/domain.h"

#include <algorithm>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "model/codec.h"
#include "model/domains/bank.h"
#include "model/domains/customers.h"
#include "model/domains/inventory.h"

namespace essim::model {
namespace {

using domains::BankAccount;
using domains::Sku;

const Domain& bank() {
  return *Registry::builtin().domain("bank");
}
const Domain& inventory() {
  return *Registry::builtin().domain("inventory");
}

// Decides `command` on `state` and, if it produces events, evolves them in.
sim::Result<std::vector<NewEvent>> step(const Domain& d, AggregateState& state, const Command& c,
                                        std::uint64_t& version) {
  auto decided = d.decide_state(state, c);
  if (!decided.ok()) return decided;
  for (const NewEvent& n : decided.value()) {
    Event e;
    e.stream = c.stream;
    e.version = ++version;
    e.type = n.type;
    e.schema_version = n.schema_version;
    e.payload = n.payload;
    d.evolve_state(state, upcasted(d, e));
  }
  return decided;
}

Command bank_command(const std::string& kind, std::int64_t amount, bool legacy = false) {
  // Build through the domain's own generator shape: amount and flags.
  Bytes payload;
  Writer w(payload);
  w.svarint(amount);
  w.string("t1");
  w.string("acct-0");
  w.string("acct-1");
  w.boolean(legacy);
  return Command{kind, "acct-0", payload};
}

TEST(Registry, BuiltinDomainsAndHandlers) {
  const Registry& r = Registry::builtin();
  EXPECT_EQ(r.domain_names(), (std::vector<std::string>{"bank", "customers", "inventory"}));
  EXPECT_EQ(r.handler_names(),
            (std::vector<std::string>{"bank.balances", "bank.transfers", "customers.directory",
                                      "inventory.available"}));
  EXPECT_TRUE(r.handler("bank.balances").has_value());
  EXPECT_FALSE(r.handler("bank.nope").has_value());
  EXPECT_FALSE(r.handler("nodot").has_value());
  EXPECT_EQ(r.domain("nope"), nullptr);
}

TEST(Bank, DecisionsFollowTheRules) {
  auto state = bank().initial_state();
  std::uint64_t version = 0;
  EXPECT_EQ(step(bank(), *state, bank_command("deposit", 500), version).error().message,
            "account not open");
  ASSERT_TRUE(step(bank(), *state, bank_command("open", 0), version).ok());
  EXPECT_EQ(step(bank(), *state, bank_command("open", 0), version).error().message,
            "account already open");
  ASSERT_TRUE(step(bank(), *state, bank_command("deposit", 500), version).ok());
  EXPECT_EQ(step(bank(), *state, bank_command("withdraw", 501), version).error().message,
            "insufficient funds");
  ASSERT_TRUE(step(bank(), *state, bank_command("withdraw", 200), version).ok());
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*state).balance_cents, 300);
  EXPECT_FALSE(step(bank(), *state, bank_command("deposit", -5), version).ok());
  // Saga steps are idempotent: a second debit for the same transfer does nothing.
  ASSERT_EQ(step(bank(), *state, bank_command("debit", 100), version).value().size(), 1U);
  EXPECT_TRUE(step(bank(), *state, bank_command("debit", 100), version).value().empty());
  ASSERT_EQ(step(bank(), *state, bank_command("refund", 100), version).value().size(), 1U);
  EXPECT_TRUE(step(bank(), *state, bank_command("refund", 100), version).value().empty());
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*state).balance_cents, 300);
  // A refunded transfer is forgotten; so is a settled one, which is not refunded.
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*state).transfers.size(), 0U);
  ASSERT_EQ(step(bank(), *state, bank_command("debit", 100), version).value().size(), 1U);
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*state).transfers.size(), 1U);
  const auto settled = step(bank(), *state, bank_command("settle", 100), version).value();
  ASSERT_EQ(settled.size(), 1U);
  EXPECT_EQ(settled[0].type, "TransferSettled");
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*state).transfers.size(), 0U);
  EXPECT_TRUE(step(bank(), *state, bank_command("settle", 100), version).value().empty());
  EXPECT_TRUE(step(bank(), *state, bank_command("refund", 100), version).value().empty());
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*state).balance_cents, 200);
}

// The bank's decision model says what its decider does: for any commands on
// one account (its transfers drawn from a few ids, so that debits, refunds
// and settles meet), the model accepts exactly what decide accepts, leaves
// its state alone where decide appends nothing, and keeps the balance and
// the held debits that evolve keeps.
RC_GTEST_PROP(Bank, TheDecisionModelIsWhatDecideAndEvolveDo, ()) {
  const DecisionModel m = *bank().decision_model();
  auto state = bank().initial_state();
  std::uint64_t version = 0;
  Value modelled;
  const auto commands = *rc::gen::container<std::vector<Command>>(rc::gen::apply(
      [](std::string kind, std::int64_t amount, int transfer) {
        Bytes payload;
        Writer w(payload);
        w.svarint(amount);
        w.string(fmt::format("t{}", transfer));
        w.string("acct-0");
        w.string("acct-1");
        w.boolean(false);
        return Command{std::move(kind), "acct-0", payload};
      },
      rc::gen::element<std::string>("open", "deposit", "withdraw", "debit", "credit", "refund",
                                    "settle"),
      rc::gen::oneOf(rc::gen::inRange<std::int64_t>(-2, 2),
                     rc::gen::inRange<std::int64_t>(1, 5'000)),
      rc::gen::inRange(0, 3)));
  for (const Command& c : commands) {
    const auto decided = step(bank(), *state, c, version);
    RC_ASSERT(m.accepts(modelled, c) == decided.ok());
    if (!decided.ok()) continue;
    const Value before = modelled;
    m.apply(modelled, c);
    const BankAccount& account = essim::TypedDomain<BankAccount>::state_of(*state);
    if (decided.value().empty()) RC_ASSERT(modelled == before);
    if (!account.open) continue;
    RC_ASSERT(modelled.find("balance")->as_int() == account.balance_cents);
    const Value::Map& held = modelled.find("held")->as_map();
    RC_ASSERT(held.size() == account.transfers.size());
    for (const auto& entry : held) RC_ASSERT(account.transfers.get(entry.first) != 0);
  }
}

// What an account remembers of transfers does not grow with how many it
// took part in: the saga's steps, source and target, a thousand times, half
// of them refunded, leave nothing held (the snapshot stays the same size).
TEST(Bank, AnAccountForgetsSettledTransfers) {
  auto source = bank().initial_state();
  auto target = bank().initial_state();
  std::uint64_t source_version = 0;
  std::uint64_t target_version = 0;
  ASSERT_TRUE(step(bank(), *source, bank_command("open", 0), source_version).ok());
  ASSERT_TRUE(step(bank(), *target, bank_command("open", 0), target_version).ok());
  ASSERT_TRUE(step(bank(), *source, bank_command("deposit", 10'000), source_version).ok());
  const auto snapshot_size = [](const AggregateState& s) {
    Bytes out;
    s.encode(out);
    return out.size();
  };
  const std::size_t before = snapshot_size(*source);
  sim::Rng rng(11);
  for (int i = 0; i < 1'000; ++i) {
    const Work work = bank().generate("transfer", rng);
    const auto& steps = std::get<Saga>(work).steps;
    ASSERT_TRUE(step(bank(), *source, steps[1].action, source_version).ok());  // debit
    if (i % 2 == 0) {
      ASSERT_TRUE(step(bank(), *source, *steps[1].compensation, source_version).ok());
    } else {
      ASSERT_TRUE(step(bank(), *target, steps[2].action, target_version).ok());  // credit
      ASSERT_TRUE(step(bank(), *source, steps[3].action, source_version).ok());  // settle
    }
    ASSERT_TRUE(step(bank(), *source, bank_command("deposit", 3'000), source_version).ok());
  }
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*source).transfers.size(), 0U);
  EXPECT_EQ(essim::TypedDomain<BankAccount>::state_of(*target).transfers.size(), 0U);
  EXPECT_LE(snapshot_size(*source), before + 4);  // the balance's varint grew
}

TEST(Bank, LegacyDepositsUpcastWithTheDefaultCurrency) {
  auto state = bank().initial_state();
  std::uint64_t version = 0;
  ASSERT_TRUE(step(bank(), *state, bank_command("open", 0), version).ok());
  auto decided = bank().decide_state(*state, bank_command("deposit", 1200, true));
  ASSERT_TRUE(decided.ok());
  Event v1;
  v1.type = "FundsDeposited";
  v1.schema_version = decided.value()[0].schema_version;
  v1.payload = decided.value()[0].payload;
  EXPECT_EQ(v1.schema_version, 1U);
  ASSERT_TRUE(bank().needs_upcast(v1));
  const Event v2 = upcasted(bank(), v1);
  EXPECT_EQ(v2.schema_version, 2U);
  EXPECT_FALSE(bank().needs_upcast(v2));
  const auto d = domains::read_deposit(v2, false).value();
  EXPECT_EQ(d.amount_cents, 1200);
  EXPECT_EQ(d.currency, "USD");
  // The bug variant leaves the currency empty.
  const Event buggy = upcasted(bank(), v1, Bugs{}.set(Bug::kUpcasterDropsDefault));
  EXPECT_EQ(domains::read_deposit(buggy, false).value().currency, "");
}

// An account's transfer flags behave as the map of id text to flags they
// replaced, added to and removed from, whatever the ids (the workload's 16 hex digits, any 16
// bytes, or any other text: 15 or 17 digits, empty), and encode to the same bytes that map encoded
// to (so a snapshot's encoding is unchanged).
RC_GTEST_PROP(Bank, TransferFlagsAreTheMapTheyReplaced, ()) {
  const auto id =
      rc::gen::oneOf(rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                                  [](std::uint64_t n) { return fmt::format("{:016x}", n); }),
                     // A few ids again and again, so flags accumulate on one.
                     rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 4),
                                  [](std::uint64_t n) { return fmt::format("{:016x}", n); }),
                     rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                                  [](std::uint64_t n) { return fmt::format("{:016X}", n); }),
                     rc::gen::map(rc::gen::inRange<std::uint64_t>(0, 1 << 20),
                                  [](std::uint64_t n) { return fmt::format("{:015x}", n); }),
                     rc::gen::map(rc::gen::arbitrary<std::uint64_t>(),
                                  [](std::uint64_t n) { return fmt::format("{:017x}", n); }),
                     // Any 16 bytes, those over 0x7f too (text order compares them unsigned).
                     rc::gen::container<std::string>(16, rc::gen::arbitrary<char>()),
                     rc::gen::container<std::string>(rc::gen::inRange<char>(' ', '~')));
  // Bits to add, or 0: the id removed (a refund or a settle).
  const auto change = rc::gen::pair(id, rc::gen::element<std::uint8_t>(0, 1, 2, 4));
  std::map<std::string, std::uint8_t> model;
  const auto apply = [&](domains::TransferFlags& f, const std::string& transfer, std::uint8_t bit) {
    if (bit == 0) {
      f.remove(transfer);
      model.erase(transfer);
    } else {
      f.add(transfer, bit);
      model[transfer] |= bit;
    }
  };
  domains::TransferFlags flags;
  for (const auto& [transfer, bit] :
       *rc::gen::container<std::vector<std::pair<std::string, std::uint8_t>>>(change)) {
    apply(flags, transfer, bit);
  }
  const auto looked_up = [&](const domains::TransferFlags& f) {
    RC_ASSERT(f.size() == model.size());
    for (const auto& [transfer, bits] : model) RC_ASSERT(f.get(transfer) == bits);
    // Ids never added, of 16 bytes and not, read as no flags.
    for (const std::string& other : *rc::gen::container<std::vector<std::string>>(
             rc::gen::oneOf(id, rc::gen::container<std::string>(16, rc::gen::arbitrary<char>())))) {
      const auto it = model.find(other);
      RC_ASSERT(f.get(other) == (it == model.end() ? 0 : it->second));
    }
  };
  const auto encoded_as_the_map = [&](const domains::TransferFlags& f) {
    Bytes expected;
    Writer mw(expected);
    mw.varint(model.size());
    for (const auto& [transfer, bits] : model) {
      mw.string(transfer);
      mw.u8(bits);
    }
    Bytes encoded;
    Writer w(encoded);
    f.encode(w);
    RC_ASSERT(encoded == expected);
    return encoded;
  };
  looked_up(flags);
  const Bytes encoded = encoded_as_the_map(flags);
  Reader r(encoded);
  domains::TransferFlags back;
  RC_ASSERT(back.decode(r));
  RC_ASSERT(r.at_end());
  RC_ASSERT(back == flags);
  // Loaded, then added to: a client's path.
  for (const auto& [transfer, bit] :
       *rc::gen::container<std::vector<std::pair<std::string, std::uint8_t>>>(change)) {
    apply(back, transfer, bit);
  }
  looked_up(back);
  (void)encoded_as_the_map(back);
}

// Encodings essim never writes (ids out of order, an id twice) load as the
// map loaded them: every id, the last flags of a repeated one.
TEST(Bank, TransferFlagsLoadIdsOutOfOrderAsTheMapDid) {
  const std::vector<std::pair<std::string, std::uint8_t>> written{
      {"bbbbbbbbbbbbbbbb", 1}, {"aaaaaaaaaaaaaaaa", 2}, {"other", 1},
      {"bbbbbbbbbbbbbbbb", 4}, {"0000000000000000", 1}, {"other", 2}};
  Bytes encoded;
  Writer w(encoded);
  w.varint(written.size());
  for (const auto& [id, flags] : written) {
    w.string(id);
    w.u8(flags);
  }
  Reader r(encoded);
  domains::TransferFlags loaded;
  ASSERT_TRUE(loaded.decode(r));
  EXPECT_EQ(loaded.size(), 4U);
  EXPECT_EQ(loaded.get("bbbbbbbbbbbbbbbb"), 4);
  EXPECT_EQ(loaded.get("aaaaaaaaaaaaaaaa"), 2);
  EXPECT_EQ(loaded.get("0000000000000000"), 1);
  EXPECT_EQ(loaded.get("other"), 2);
  EXPECT_EQ(loaded.get("cccccccccccccccc"), 0);
}

// A count far larger than the input is refused before anything is reserved.
TEST(Bank, TransferFlagsRefuseAHugeCount) {
  Bytes encoded;
  Writer w(encoded);
  w.varint(std::uint64_t{1} << 40);
  w.string("0000000000000000");
  w.u8(1);
  Reader r(encoded);
  domains::TransferFlags loaded;
  EXPECT_FALSE(loaded.decode(r));
}

// However the ids were added (loaded, added since, folded in), equal sets of
// flags are equal and one bit apart are not; thousands of adds in random
// order keep every flag.
TEST(Bank, TransferFlagsCompareByContent) {
  sim::Rng rng(7);
  std::vector<std::string> ids;
  for (int i = 0; i < 5000; ++i) ids.push_back(fmt::format("{:016x}", rng.next()));
  domains::TransferFlags forward;
  domains::TransferFlags backward;
  for (const std::string& id : ids) forward.add(id, 1);
  for (auto it = ids.rbegin(); it != ids.rend(); ++it) backward.add(*it, 1);
  EXPECT_EQ(forward, backward);
  for (const std::string& id : ids) ASSERT_EQ(forward.get(id), 1) << id;
  Bytes encoded;
  Writer w(encoded);
  forward.encode(w);
  // The bytes the map wrote: its ids in order.
  std::vector<std::string> sorted = ids;
  std::sort(sorted.begin(), sorted.end());
  Bytes expected;
  Writer mw(expected);
  mw.varint(sorted.size());
  for (const std::string& id : sorted) {
    mw.string(id);
    mw.u8(1);
  }
  EXPECT_EQ(encoded, expected);
  Reader r(encoded);
  domains::TransferFlags loaded;
  ASSERT_TRUE(loaded.decode(r));
  EXPECT_EQ(loaded, backward);
  loaded.add(ids[1234], 2);
  EXPECT_NE(loaded, backward);
  backward.add(ids[1234], 2);
  EXPECT_EQ(loaded, backward);
  backward.add("another id", 4);
  EXPECT_NE(loaded, backward);
}

TEST(Bank, TransferFlagsRefuseATruncatedEncoding) {
  domains::TransferFlags flags;
  flags.add("00000000000000ff", 1);
  flags.add("other", 2);
  Bytes encoded;
  Writer w(encoded);
  flags.encode(w);
  for (std::size_t cut = 0; cut < encoded.size(); ++cut) {
    const Bytes part(encoded.begin(), encoded.begin() + static_cast<std::ptrdiff_t>(cut));
    Reader r(part);
    domains::TransferFlags back;
    EXPECT_FALSE(back.decode(r)) << cut;
  }
}

// The v1 writer is the upcaster's inverse: any deposit v1 could hold comes
// back as it was; any other is not written at v1.
RC_GTEST_PROP(Bank, TheV1WriterRoundTripsThroughTheUpcaster, ()) {
  const bool whole = *rc::gen::arbitrary<bool>();
  const std::int64_t units = *rc::gen::inRange<std::int64_t>(0, 1'000'000'000);
  const std::int64_t cents = whole ? units * 100 : units * 100 + *rc::gen::inRange(1, 100);
  const bool home = *rc::gen::arbitrary<bool>();
  Event latest;
  latest.type = "FundsDeposited";
  latest.schema_version = 2;
  Writer w(latest.payload);
  w.svarint(cents);
  w.string(home ? "USD" : "EUR");
  const std::vector<OldWriter> writers = bank().old_writers();
  RC_ASSERT(writers.size() == 1U);
  const std::optional<Bytes> v1 = writers[0].write(latest);
  RC_ASSERT(v1.has_value() == (whole && home));
  if (!v1) return;
  Event old = latest;
  old.schema_version = 1;
  old.payload = *v1;
  const Event back = upcasted(bank(), old);
  RC_ASSERT(back.schema_version == 2U);
  RC_ASSERT(back.payload == latest.payload);
}

TEST(Bank, TransferIsASagaWithCompensations) {
  sim::Rng rng(4);
  const Work work = bank().generate("transfer", rng);
  const auto* saga = std::get_if<Saga>(&work);
  ASSERT_NE(saga, nullptr);
  ASSERT_EQ(saga->steps.size(), 5U);
  EXPECT_EQ(saga->steps[0].action.kind, "request-transfer");
  EXPECT_EQ(saga->steps[0].compensation->kind, "fail-transfer");
  EXPECT_EQ(saga->steps[1].action.kind, "debit");
  EXPECT_EQ(saga->steps[1].compensation->kind, "refund");
  EXPECT_EQ(saga->steps[2].action.kind, "credit");
  EXPECT_FALSE(saga->steps[2].compensation.has_value());
  EXPECT_NE(saga->steps[1].action.stream, saga->steps[2].action.stream);
  EXPECT_EQ(saga->steps[3].action.kind, "settle");
  EXPECT_EQ(saga->steps[3].action.stream, saga->steps[1].action.stream);
  EXPECT_FALSE(saga->steps[3].compensation.has_value());
  EXPECT_EQ(saga->steps[4].action.kind, "complete-transfer");
  EXPECT_EQ(saga->steps[4].action.stream, saga->steps[0].action.stream);
  EXPECT_FALSE(saga->steps[4].compensation.has_value());
}

// Histories the deciders can really produce: invariants hold and snapshots round-trip.
void check_domain_run(const Domain& d, std::uint64_t seed) {
  sim::Rng rng(seed);
  std::map<std::string, std::pair<std::unique_ptr<AggregateState>, std::uint64_t>> aggregates;
  const auto kinds = d.work_kinds();
  for (int i = 0; i < 300; ++i) {
    const Work work = d.generate(kinds[rng.below(kinds.size())], rng);
    std::vector<Command> commands;
    if (const auto* c = std::get_if<Command>(&work)) {
      commands.push_back(*c);
    } else {
      for (const SagaStep& s : std::get<Saga>(work).steps) commands.push_back(s.action);
    }
    for (const Command& c : commands) {
      auto& [state, version] = aggregates[c.stream];
      if (!state) state = d.initial_state();
      (void)step(d, *state, c, version);
      if (d.name() == "bank") {
        RC_ASSERT(essim::TypedDomain<BankAccount>::state_of(*state).balance_cents >= 0);
      } else if (d.name() == "customers") {
        const auto& customer = essim::TypedDomain<domains::Customer>::state_of(*state);
        RC_ASSERT(customer.registered || customer.email_changes == 0);
      } else {
        RC_ASSERT(essim::TypedDomain<Sku>::state_of(*state).available() >= 0);
      }
      Bytes encoded;
      state->encode(encoded);
      auto decoded = d.decode_state(encoded);
      RC_ASSERT(decoded.ok());
      RC_ASSERT(decoded.value()->equals(*state));
    }
  }
}

RC_GTEST_PROP(Domains, BankDecisionsKeepInvariantsAndSnapshotsRoundTrip, (std::uint64_t seed)) {
  check_domain_run(bank(), seed);
}

RC_GTEST_PROP(Domains, InventoryDecisionsKeepInvariantsAndSnapshotsRoundTrip,
              (std::uint64_t seed)) {
  check_domain_run(inventory(), seed);
}

RC_GTEST_PROP(Domains, CustomersDecisionsKeepInvariantsAndSnapshotsRoundTrip,
              (std::uint64_t seed)) {
  check_domain_run(*Registry::builtin().domain("customers"), seed);
}

TEST(Domains, HostileSnapshotsAreErrors) {
  EXPECT_FALSE(bank().decode_state(Bytes{0x05, 0xff}).ok());
  EXPECT_FALSE(Registry::builtin().domain("customers")->decode_state(Bytes{0x01, 0x09}).ok());
  EXPECT_FALSE(inventory().decode_state(Bytes{0x02, 0xff, 0xff, 0xff}).ok());
  EXPECT_FALSE(
      bank().decide_state(*bank().initial_state(), Command{"deposit", "acct-0", Bytes{0x80}}).ok());
}

TEST(Inventory, NoOversellingAndReleases) {
  auto state = inventory().initial_state();
  std::uint64_t version = 0;
  auto cmd = [](const std::string& kind, const std::string& order, std::int64_t q) {
    Bytes p;
    Writer w(p);
    w.string(order);
    w.svarint(q);
    return Command{kind, "sku-0", p};
  };
  ASSERT_TRUE(step(inventory(), *state, cmd("restock", "", 5), version).ok());
  ASSERT_TRUE(step(inventory(), *state, cmd("reserve", "o1", 4), version).ok());
  EXPECT_EQ(step(inventory(), *state, cmd("reserve", "o2", 2), version).error().message,
            "not enough stock");
  EXPECT_FALSE(step(inventory(), *state, cmd("reserve", "o1", 1), version).ok());
  ASSERT_TRUE(step(inventory(), *state, cmd("release", "o1", 0), version).ok());
  EXPECT_EQ(essim::TypedDomain<Sku>::state_of(*state).available(), 5);
  EXPECT_FALSE(step(inventory(), *state, cmd("release", "o1", 0), version).ok());
}

}  // namespace
}  // namespace essim::model
