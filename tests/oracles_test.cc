// Independent oracles (issue 10): bugs that comparing a user's code with
// itself cannot find, each caught by an oracle on a small domain written
// against the public API as a user would, and each with a correct twin that
// passes.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

#include <essim/codec.h>
#include <essim/typed.h>

#include "harness/runner.h"
#include "harness/scenario.h"
#include "testing/domain_fuzz.h"
#include "testing/idempotency.h"

namespace essim::harness {
namespace {

// A wallet: opened, then deposits and withdrawals (never below zero).
// With kSnapshotForgetsOpen (set by the domain), encode() writes `open` as false.
bool g_snapshot_forgets_open = false;  // NOLINT: a test's switch, set before any run

struct Wallet {
  bool open = false;
  std::int64_t balance = 0;
  friend bool operator==(const Wallet&, const Wallet&) = default;
  void encode(Writer& w) const {
    w.boolean(open && !g_snapshot_forgets_open);
    w.svarint(balance);
  }
  static Result<Wallet> decode(Reader& r) {
    Wallet w;
    w.open = r.boolean();
    w.balance = r.svarint();
    return w;
  }
};

Bytes amount_payload(std::int64_t amount) {
  Bytes out;
  Writer(out).svarint(amount);
  return out;
}

std::int64_t amount_of(ByteView payload) {
  Reader r(payload);
  const std::int64_t n = r.svarint();
  if (!r.ok()) throw BadPayload("bad amount: " + r.error());
  return n;
}

// Each a bug a user could write; kCorrect is the twin that passes.
enum class Bug {
  kCorrect,
  kHandlerIgnoresWithdrawals,  // caught by the reference projection
  kUndeclaredType,             // Renamed neither handled nor ignored: handlers_exhaustive
  kMisdeclared,                // declares a type it does not emit, and one twice: a warning
  kEvolveDropsWithdrawals,     // later withdrawals overdraw: decisions_match_model
  kRefusesLargeDeposits,       // refuses what the rules allow: decisions_match_model
  kUpcasterForgetsCents,       // v1 held whole coins, read as cents: upcast_equivalence
  kSnapshotForgetsOpen,        // State::encode drops a field: snapshot_equivalence (fuzz)
  kEvolveWithStaticCache,      // evolve keeps a static: evolve_deterministic (fuzz)
};

// Deposited v1 held whole coins; v2 holds cents.
Bytes deposit_v1(std::int64_t coins) {
  Bytes out;
  Writer(out).svarint(coins);
  return out;
}

class Wallets final : public TypedDomain<Wallet> {
 public:
  explicit Wallets(Bug bug) : bug_(bug) {
    g_snapshot_forgets_open = bug == Bug::kSnapshotForgetsOpen;
  }
  std::string name() const override { return "wallets"; }
  std::vector<std::string> work_kinds() const override {
    return {"open", "deposit", "withdraw", "rename"};
  }
  std::vector<WorkWeight> mix() const override {
    return {{"open", 1}, {"deposit", 3}, {"withdraw", 3}, {"rename", 1}};
  }
  Work generate(std::string_view kind, Rng& rng) const override {
    const std::string wallet = fmt::format("wallet-{}", rng.below(3));
    // Deposits in whole coins or not, withdrawals of any amount.
    const std::int64_t amount =
        kind == "deposit" ? rng.between(1, 10) * (rng.chance(0.5) ? 100 : 7) : rng.between(1, 700);
    return Command{std::string(kind), wallet, amount_payload(amount)};
  }
  bool needs_upcast(const Event& e) const override {
    return e.type == "Deposited" && e.schema_version == 1;
  }
  void upcast(Event& e) const override {
    const std::int64_t coins = amount_of(e.payload);
    e.payload = amount_payload(bug_ == Bug::kUpcasterForgetsCents ? coins : coins * 100);
    e.schema_version = 2;
  }
  std::vector<OldWriter> old_writers() const override {
    return {{"Deposited", 1, [](const Event& latest) -> std::optional<Bytes> {
               const std::int64_t cents = amount_of(latest.payload);
               if (cents % 100 != 0) return std::nullopt;  // v1 could not hold it
               return deposit_v1(cents / 100);
             }}};
  }
  void evolve(Wallet& w, const Event& e) const override {
    if (e.type == "Opened") w.open = true;
    if (e.type == "Deposited" && bug_ == Bug::kEvolveWithStaticCache) {
      // "The same deposit twice in a row is a retry": remembered across every wallet and replay.
      static std::int64_t last_deposit = 0;
      const std::int64_t amount = amount_of(e.payload);
      if (amount != last_deposit) w.balance += amount;
      last_deposit = amount;
      return;
    }
    if (e.type == "Deposited") w.balance += amount_of(e.payload);
    if (e.type == "Withdrawn" && bug_ != Bug::kEvolveDropsWithdrawals)
      w.balance -= amount_of(e.payload);
  }
  Result<std::vector<NewEvent>> decide(const Wallet& w, const Command& c) const override {
    const std::int64_t amount = amount_of(c.payload);
    if (c.kind == "open") {
      if (w.open) return Error{"already open"};
      return std::vector<NewEvent>{{"Opened", 1, {}}};
    }
    if (!w.open) return Error{"not open"};
    if (c.kind == "deposit" && bug_ == Bug::kRefusesLargeDeposits && amount > 90)
      return Error{"too large"};
    if (c.kind == "deposit") return std::vector<NewEvent>{{"Deposited", 2, amount_payload(amount)}};
    if (c.kind == "rename") return std::vector<NewEvent>{{"Renamed", 1, {}}};
    if (amount > w.balance) return Error{"insufficient funds"};
    return std::vector<NewEvent>{{"Withdrawn", 1, amount_payload(amount)}};
  }
  std::vector<ProjectionHandler> projections() const override {
    ProjectionHandler balances{
        "balances", "wallet -> balance", [bug = bug_](ReadModel& m, const Event& e) {
          if (e.type == "Opened") m.try_emplace(e.stream, 0);
          if (e.type == "Deposited") m[e.stream] += amount_of(e.payload);
          if (e.type == "Withdrawn" && bug != Bug::kHandlerIgnoresWithdrawals)
            m[e.stream] -= amount_of(e.payload);
        }};
    // Written apart from the handler: each opened wallet's deposits minus its
    // withdrawals, summed over the whole log.
    balances.reference = [](const std::vector<Event>& log) {
      ReadModel m;
      for (const Event& e : log) {
        if (e.type == "Opened") m[e.stream] = 0;
      }
      for (const Event& e : log) {
        const std::int64_t sign = e.type == "Deposited" ? 1 : e.type == "Withdrawn" ? -1 : 0;
        if (sign != 0) m[e.stream] += sign * amount_of(e.payload);
      }
      return m;
    };
    balances.handles = {"Opened", "Deposited", "Withdrawn"};
    if (bug_ != Bug::kUndeclaredType) balances.ignores = {"Renamed"};
    if (bug_ == Bug::kMisdeclared) balances.ignores = {"Renamed", "Withdrawal", "Opened"};
    return {balances};
  }
  std::vector<std::string> event_types() const override {
    return {"Opened", "Deposited", "Withdrawn", "Renamed"};
  }
  // The rules, stated apart from decide and evolve.
  std::optional<DecisionModel> decision_model() const override {
    DecisionModel m;
    m.accepts = [](const Value& wallet, const Command& c) {
      const bool open = wallet.find("open") != nullptr;
      if (c.kind == "open") return !open;
      if (c.kind == "withdraw")
        return open && amount_of(c.payload) <= wallet.find("balance")->as_int();
      return open;
    };
    m.apply = [](Value& wallet, const Command& c) {
      if (c.kind == "open") wallet = Value::Map{{"open", true}, {"balance", 0}};
      if (c.kind == "deposit") wallet["balance"] += amount_of(c.payload);
      if (c.kind == "withdraw") wallet["balance"] -= amount_of(c.payload);
    };
    return m;
  }
  std::vector<std::string> evolve_handles() const override {
    return {"Opened", "Deposited", "Withdrawn"};
  }
  std::vector<std::string> evolve_ignores() const override {
    if (bug_ == Bug::kUndeclaredType) return {};
    return {"Renamed"};
  }

 private:
  Bug bug_;
};

constexpr std::string_view kScenario = R"(name: wallets
domain: wallets
seeds: 3
duration: 2s
heal_max: 20s
topology:
  clients: 3
  projections:
    - {name: balances, handler: wallets.balances, dedup: atomic-checkpoint}
workload: {rate: 100/s}
faults: {network: {duplicate: 0.2, latency: 1ms..5ms}}
expect: pass
)";

// The violations of three seeds, by property, with the first summary of each.
std::map<std::string, std::string> violated(Bug bug) {
  Registry registry = Registry::with_builtins();
  registry.add(std::make_unique<Wallets>(bug));
  auto parsed = parse_scenario(std::string(kScenario), "wallets.yaml", registry);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  std::map<std::string, std::string> found;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    for (const properties::Violation& v : run_seed(parsed.value(), seed).violations) {
      found.emplace(v.property, v.summary);
    }
  }
  return found;
}

// The correct twin passes every oracle.
TEST(Oracles, TheCorrectTwinPasses) {
  EXPECT_EQ(violated(Bug::kCorrect), (std::map<std::string, std::string>{}));
}

TEST(ReferenceProjection, AHandlerIgnoringAnEventTypeDiffersFromItsReference) {
  const auto found = violated(Bug::kHandlerIgnoresWithdrawals);
  ASSERT_EQ(found.size(), 1U);
  ASSERT_TRUE(found.contains("replay_matches_projection"));
  // The handler replayed on itself agrees; only the reference tells.
  EXPECT_NE(found.at("replay_matches_projection")
                .find("projection balances differs from its handler's reference projection"),
            std::string::npos)
      << found.at("replay_matches_projection");
}

TEST(ReferenceProjection, FuzzFindsTheHandlerThatIgnoresAnEventType) {
  const Wallets correct(Bug::kCorrect);
  const Wallets buggy(Bug::kHandlerIgnoresWithdrawals);
  fuzzing::FuzzSettings settings;
  settings.dedup = model::Dedup::kEventId;  // idempotent: only the reference can fail it
  fuzzing::FuzzRun run;
  run.seed = 7;
  run.runs = 300;
  const ProjectionHandler correct_handler = correct.projections().front();
  EXPECT_EQ(fuzzing::fuzz(correct, correct_handler, settings, run).kind,
            fuzzing::FuzzOutcome::Kind::kPassed);
  const ProjectionHandler buggy_handler = buggy.projections().front();
  const fuzzing::FuzzOutcome outcome = fuzzing::fuzz(buggy, buggy_handler, settings, run);
  ASSERT_EQ(outcome.kind, fuzzing::FuzzOutcome::Kind::kFailed);
  ASSERT_TRUE(outcome.counterexample.has_value());
  const std::string text = fuzzing::describe(*outcome.counterexample);
  EXPECT_NE(text.find("differs from the handler's reference projection"), std::string::npos)
      << text;
  EXPECT_NE(text.find("expected: the reference projection; got: the handler once in order"),
            std::string::npos)
      << text;
  // Shrunk to a short history with a withdrawal.
  EXPECT_LE(outcome.counterexample->history.size(), 10U) << text;
  EXPECT_NE(text.find("Withdrawn"), std::string::npos) << text;
}

TEST(ReferenceProjection, AReferenceThatThrowsIsAFinding) {
  Wallets correct(Bug::kCorrect);
  ProjectionHandler handler = correct.projections().front();
  handler.reference = [](const std::vector<Event>&) -> ReadModel {
    throw std::runtime_error("reference broke");
  };
  fuzzing::FuzzSettings settings;
  fuzzing::FuzzRun run;
  run.seed = 1;
  run.runs = 50;
  const fuzzing::FuzzOutcome outcome = fuzzing::fuzz(correct, handler, settings, run);
  ASSERT_EQ(outcome.kind, fuzzing::FuzzOutcome::Kind::kFailed);
  EXPECT_NE(outcome.counterexample->verdict.find("computing the reference projection"),
            std::string::npos)
      << outcome.counterexample->verdict;
}

// ---- exhaustiveness ----

std::vector<std::string> warnings(Bug bug) {
  Registry registry;
  registry.add(std::make_unique<Wallets>(bug));
  return registry.warnings("wallets");
}

TEST(Exhaustiveness, ACompleteDeclarationWarnsOfNothing) {
  EXPECT_EQ(warnings(Bug::kCorrect), std::vector<std::string>{});
  EXPECT_EQ(Registry::builtin().warnings(), std::vector<std::string>{});
}

TEST(Exhaustiveness, AnEmittedTypeNeitherHandledNorIgnoredIsAWarningAtRegistration) {
  EXPECT_EQ(warnings(Bug::kUndeclaredType),
            (std::vector<std::string>{
                "wallets.evolve neither handles nor ignores Renamed, which the domain emits",
                "wallets.balances neither handles nor ignores Renamed, which the domain emits"}));
}

TEST(Exhaustiveness, ATypeDeclaredButNotEmittedOrDeclaredTwiceIsAWarning) {
  EXPECT_EQ(warnings(Bug::kMisdeclared),
            (std::vector<std::string>{
                "wallets.balances both handles and ignores Opened",
                "wallets.balances declares Withdrawal, which the domain does not emit"}));
  // Another domain's warnings are not this one's.
  Registry registry = Registry::with_builtins();
  registry.add(std::make_unique<Wallets>(Bug::kMisdeclared));
  EXPECT_EQ(registry.warnings("bank"), std::vector<std::string>{});
  EXPECT_EQ(registry.warnings().size(), 2U);
}

TEST(Exhaustiveness, AnUndeclaredTypeReachingAHandlerOrEvolveIsAViolation) {
  const auto found = violated(Bug::kUndeclaredType);
  ASSERT_EQ(found.size(), 1U);
  ASSERT_TRUE(found.contains("handlers_exhaustive"));
  // The first one found: evolve comes before the handlers.
  EXPECT_EQ(found.at("handlers_exhaustive"),
            "Renamed reached wallets.evolve, which neither handles nor ignores it");
}

// ---- the decision model ----

TEST(DecisionModel, AnEvolveThatDropsAnEffectMakesDecisionsTheModelRefuses) {
  const auto found = violated(Bug::kEvolveDropsWithdrawals);
  // No rule folding the stream through the same evolve could see it.
  ASSERT_EQ(found.size(), 1U);
  ASSERT_TRUE(found.contains("decisions_match_model"));
  const std::string& summary = found.at("decisions_match_model");
  EXPECT_NE(summary.find("withdraw on wallet-"), std::string::npos) << summary;
  EXPECT_NE(summary.find("was accepted, but the model refuses it"), std::string::npos) << summary;
}

TEST(DecisionModel, ADeciderRefusingWhatTheRulesAllowIsFound) {
  const auto found = violated(Bug::kRefusesLargeDeposits);
  ASSERT_EQ(found.size(), 1U);
  ASSERT_TRUE(found.contains("decisions_match_model"));
  const std::string& summary = found.at("decisions_match_model");
  EXPECT_NE(summary.find("deposit on wallet-"), std::string::npos) << summary;
  EXPECT_NE(summary.find("was refused (too large) at version"), std::string::npos) << summary;
  EXPECT_NE(summary.find("but the model accepts it"), std::string::npos) << summary;
}

// ---- schema evolution ----

TEST(SchemaEvolution, AnUpcasterConvertingAFieldWronglyIsFoundThoughNoClientWritesV1) {
  const auto found = violated(Bug::kUpcasterForgetsCents);
  ASSERT_EQ(found.size(), 1U);
  ASSERT_TRUE(found.contains("upcast_equivalence"));
  const std::string& summary = found.at("upcast_equivalence");
  EXPECT_NE(summary.find(": Deposited written at v1 by the old writer and upcast leaves another "
                         "state than as written"),
            std::string::npos)
      << summary;
}

// Old writers that cannot be right are refused at registration.
class WithWriters final : public TypedDomain<Wallet> {
 public:
  explicit WithWriters(std::vector<OldWriter> writers) : writers_(std::move(writers)) {}
  std::string name() const override { return "writers"; }
  std::vector<std::string> work_kinds() const override { return {"open"}; }
  Work generate(std::string_view, Rng&) const override { return Command{"open", "w", {}}; }
  void evolve(Wallet&, const Event&) const override {}
  Result<std::vector<NewEvent>> decide(const Wallet&, const Command&) const override {
    return std::vector<NewEvent>{};
  }
  std::vector<std::string> event_types() const override { return {"Opened", "Deposited"}; }
  std::vector<OldWriter> old_writers() const override { return writers_; }

 private:
  std::vector<OldWriter> writers_;
};

std::string refusal(std::vector<OldWriter> writers) {
  Registry registry;
  try {
    registry.add(std::make_unique<WithWriters>(std::move(writers)));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "accepted";
}

TEST(SchemaEvolution, OldWritersThatCannotBeRightAreRefusedAtRegistration) {
  const auto write = [](const Event&) -> std::optional<Bytes> { return std::nullopt; };
  EXPECT_EQ(refusal({{"Deposited", 1, write}}), "accepted");
  EXPECT_EQ(refusal({{"Deposited", 1, write}, {"Deposited", 1, write}}),
            "essim: cannot register the domain 'writers': old writer of Deposited v1 is declared "
            "twice");
  EXPECT_EQ(refusal({{"Deposited", 0, write}}),
            "essim: cannot register the domain 'writers': old writer of Deposited v0: schema "
            "versions start at 1");
  EXPECT_EQ(refusal({{"Withdrawn", 1, write}}),
            "essim: cannot register the domain 'writers': old writer of Withdrawn v1: the domain "
            "does not emit Withdrawn (event_types())");
  EXPECT_EQ(refusal({{"Deposited", 1, {}}}),
            "essim: cannot register the domain 'writers': old writer of Deposited v1 has no write "
            "function");
  EXPECT_EQ(refusal({{"", 1, write}}),
            "essim: cannot register the domain 'writers': an old writer names no event type");
}

// ---- fuzz DOMAIN ----

fuzzing::DomainOutcome fuzz_wallets(Bug bug, std::uint64_t seed, int runs,
                                    const std::string& rc_params = {}) {
  const Wallets domain(bug);
  fuzzing::DomainSettings settings;
  fuzzing::FuzzRun run;
  run.seed = seed;
  run.runs = runs;
  run.rc_params = rc_params;
  return fuzzing::fuzz_domain(domain, settings, run);
}

TEST(FuzzDomain, TheCorrectTwinPasses) {
  const fuzzing::DomainOutcome outcome = fuzz_wallets(Bug::kCorrect, 3, 500);
  EXPECT_EQ(outcome.kind, fuzzing::Verdict::kPassed)
      << (outcome.counterexample ? fuzzing::describe(*outcome.counterexample) : "");
  EXPECT_EQ(outcome.stats.runs, 500U);
  EXPECT_GT(outcome.stats.deliveries, 500U);  // the events decided
}

struct Caught {
  Bug bug;
  std::string_view property;
  std::string_view says;
  // An evolve with a static is not a function of its inputs: the one case
  // run again in the same process need not fail the same way.
  bool reproducible = true;
};

class FuzzDomainFinds : public ::testing::TestWithParam<Caught> {};

TEST_P(FuzzDomainFinds, TheBugShrunkAndReproducible) {
  const Caught& c = GetParam();
  const fuzzing::DomainOutcome outcome = fuzz_wallets(c.bug, 11, 1000);
  ASSERT_EQ(outcome.kind, fuzzing::Verdict::kFailed);
  ASSERT_TRUE(outcome.counterexample.has_value());
  const std::string text = fuzzing::describe(*outcome.counterexample);
  if (!c.property.empty()) {
    EXPECT_EQ(outcome.counterexample->property, c.property) << text;
  }
  EXPECT_NE(text.find(c.says), std::string::npos) << text;
  // Shrunk: a few pieces of work, each decision listed with its events.
  EXPECT_LE(outcome.counterexample->works, 6U) << text;
  EXPECT_NE(text.find("decisions ("), std::string::npos) << text;
  // The reproduce string runs that one case again.
  ASSERT_FALSE(outcome.reproduce.empty());
  if (!c.reproducible) return;
  const fuzzing::DomainOutcome again = fuzz_wallets(c.bug, 99, 1, outcome.reproduce);
  ASSERT_EQ(again.kind, fuzzing::Verdict::kFailed);
  EXPECT_EQ(fuzzing::describe(*again.counterexample), text);
  // And it passes once the bug is gone.
  EXPECT_EQ(fuzz_wallets(Bug::kCorrect, 99, 1, outcome.reproduce).kind,
            fuzzing::Verdict::kNotReproduced);
}

INSTANTIATE_TEST_SUITE_P(
    Oracles, FuzzDomainFinds,
    ::testing::Values(
        Caught{Bug::kEvolveDropsWithdrawals, "decisions_match_model", "was accepted at version"},
        Caught{Bug::kRefusesLargeDeposits, "decisions_match_model",
               "was refused (too large) at version"},
        Caught{Bug::kUndeclaredType, "handlers_exhaustive",
               "Renamed reached wallets.evolve, which neither handles nor ignores it"},
        Caught{Bug::kHandlerIgnoresWithdrawals, "replay_matches_projection",
               "handler balances differs from its reference projection"},
        Caught{Bug::kUpcasterForgetsCents, "upcast_equivalence",
               "Deposited written at v1 by the old writer and upcast leaves another state"},
        Caught{Bug::kSnapshotForgetsOpen, "snapshot_equivalence", "decodes to another state"},
        // The static skips a deposit its wallet never saw twice: decisions or
        // snapshots part, depending on what ran before in this process.
        Caught{Bug::kEvolveWithStaticCache, "", "wallet-", false}));

// A domain whose evolve numbers events from a static counter: its states
// differ on every replay, which only replaying again shows.
TEST(FuzzDomain, AnEvolveWithHiddenStateIsNotDeterministic) {
  class Numbering final : public TypedDomain<Wallet> {
   public:
    std::string name() const override { return "numbering"; }
    std::vector<std::string> work_kinds() const override { return {"poke"}; }
    Work generate(std::string_view, Rng& rng) const override {
      return Command{"poke", fmt::format("w-{}", rng.below(2)), {}};
    }
    void evolve(Wallet& w, const Event&) const override {
      static std::int64_t sequence = 0;
      w.balance = ++sequence;  // "the event's number", kept where no state is
    }
    Result<std::vector<NewEvent>> decide(const Wallet&, const Command&) const override {
      return std::vector<NewEvent>{{"Poked", 1, {}}};
    }
  } domain;
  fuzzing::FuzzRun run;
  run.seed = 5;
  run.runs = 100;
  const fuzzing::DomainOutcome outcome = fuzzing::fuzz_domain(domain, {}, run);
  ASSERT_EQ(outcome.kind, fuzzing::Verdict::kFailed);
  const std::string text = fuzzing::describe(*outcome.counterexample);
  EXPECT_EQ(outcome.counterexample->property, "evolve_deterministic") << text;
  EXPECT_NE(text.find("replaying the stream again gives another state"), std::string::npos) << text;
  EXPECT_EQ(outcome.counterexample->works, 1U) << text;
}

TEST(FuzzDomain, UserCodeThatThrowsIsAFinding) {
  class Throwing final : public TypedDomain<Wallet> {
   public:
    std::string name() const override { return "throwing"; }
    std::vector<std::string> work_kinds() const override { return {"poke"}; }
    Work generate(std::string_view, Rng& rng) const override {
      return Command{"poke", fmt::format("w-{}", rng.below(2)), {}};
    }
    void evolve(Wallet& w, const Event&) const override {
      if (++w.balance == 3) throw std::out_of_range("third poke");
    }
    Result<std::vector<NewEvent>> decide(const Wallet&, const Command&) const override {
      return std::vector<NewEvent>{{"Poked", 1, {}}};
    }
  } domain;
  fuzzing::FuzzRun run;
  run.seed = 5;
  run.runs = 200;
  const fuzzing::DomainOutcome outcome = fuzzing::fuzz_domain(domain, {}, run);
  ASSERT_EQ(outcome.kind, fuzzing::Verdict::kFailed);
  const std::string text = fuzzing::describe(*outcome.counterexample);
  EXPECT_EQ(outcome.counterexample->property, "user_code_does_not_throw") << text;
  EXPECT_NE(text.find("threw std::out_of_range: third poke"), std::string::npos) << text;
  EXPECT_EQ(outcome.counterexample->works, 3U) << text;  // the shortest: three pokes of one stream
}

// Fuzzing seals personal data as a run's clients do: an evolve that parses a
// personal value (a birth year out of a date of birth) fails there as it
// would in a run, and the failure says the value is sealed.
TEST(FuzzDomain, PersonalValuesReachEvolveSealedAsInARun) {
  class Clinic final : public TypedDomain<Wallet> {
   public:
    std::string name() const override { return "clinic"; }
    std::vector<std::string> work_kinds() const override { return {"register"}; }
    std::vector<std::string> event_types() const override { return {"Registered"}; }
    Work generate(std::string_view, Rng& rng) const override {
      return Command{"register", fmt::format("patient-{}", rng.below(3)), {}};
    }
    void evolve(Wallet& w, const Event& e) const override {
      Reader r(e.payload);
      const std::string dob = r.string();
      w.balance = std::stoi(dob.substr(0, 4));  // the year of birth
    }
    Result<std::vector<NewEvent>> decide(const Wallet&, const Command&) const override {
      Bytes payload;
      Writer w(payload);
      w.string("19840211");
      return std::vector<NewEvent>{{"Registered", 1, payload}};
    }
    std::vector<PersonalData> personal_data() const override {
      return {{"Registered", [](const Event& e) { return e.stream; },
               [](const Event& e, const std::function<std::string(const std::string&)>& seal) {
                 Reader r(e.payload);
                 Bytes out;
                 Writer w(out);
                 w.string(seal(r.string()));
                 return out;
               }}};
    }
  } domain;
  fuzzing::FuzzRun run;
  run.seed = 5;
  run.runs = 50;
  const fuzzing::DomainOutcome outcome = fuzzing::fuzz_domain(domain, {}, run);
  ASSERT_EQ(outcome.kind, fuzzing::Verdict::kFailed);
  const std::string text = fuzzing::describe(*outcome.counterexample);
  EXPECT_EQ(outcome.counterexample->property, "user_code_does_not_throw") << text;
  EXPECT_NE(text.find("its personal values are sealed"), std::string::npos) << text;
  EXPECT_EQ(text.find("19840211"), std::string::npos) << text;
}

}  // namespace
}  // namespace essim::harness
