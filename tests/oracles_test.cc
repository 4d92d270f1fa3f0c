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
#include "testing/idempotency.h"

namespace essim::harness {
namespace {

// A wallet: opened, then deposits and withdrawals (never below zero).
struct Wallet {
  bool open = false;
  std::int64_t balance = 0;
  friend bool operator==(const Wallet&, const Wallet&) = default;
  void encode(Writer& w) const {
    w.boolean(open);
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
};

class Wallets final : public TypedDomain<Wallet> {
 public:
  explicit Wallets(Bug bug) : bug_(bug) {}
  std::string name() const override { return "wallets"; }
  std::vector<std::string> work_kinds() const override {
    return {"open", "deposit", "withdraw", "rename"};
  }
  std::vector<WorkWeight> mix() const override {
    return {{"open", 1}, {"deposit", 3}, {"withdraw", 3}, {"rename", 1}};
  }
  Work generate(std::string_view kind, Rng& rng) const override {
    return Command{std::string(kind), fmt::format("wallet-{}", rng.below(3)),
                   amount_payload(rng.between(1, 100))};
  }
  void evolve(Wallet& w, const Event& e) const override {
    if (e.type == "Opened") w.open = true;
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
    if (c.kind == "deposit") return std::vector<NewEvent>{{"Deposited", 1, amount_payload(amount)}};
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

}  // namespace
}  // namespace essim::harness
