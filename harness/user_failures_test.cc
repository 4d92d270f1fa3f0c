// User code that throws is a finding, never a crash (issue 9, part 3): a
// domain that throws from each kind of user code still gives a finished run,
// a user_code_does_not_throw violation that names the node, what it was
// doing, the exception's type and message, and the same fingerprint twice.

#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "harness/runner.h"
#include "model/domains/bank.h"
#include "model/trace_notes.h"
#include "model/user_code.h"

namespace essim::harness {
namespace {

using model::AggregateState;
using model::Command;
using model::Event;

enum class Throws { kDecide, kEvolve, kHandler, kInvariant, kUpcast, kDecode };

// The bank, with one kind of its code made to throw (or, kDecode, to write a
// payload that cannot be decoded).
class ThrowingDomain final : public essim::TypedDomain<model::domains::BankAccount> {
 public:
  explicit ThrowingDomain(Throws throws) : throws_(throws) {}
  std::string name() const override { return "throwing"; }
  std::string description() const override { return "the bank, with code that throws"; }
  std::vector<std::string> work_kinds() const override { return bank_.work_kinds(); }
  model::Work generate(std::string_view kind, sim::Rng& rng) const override {
    return bank_.generate(kind, rng);
  }
  void evolve(model::domains::BankAccount& state, const Event& event) const override {
    if (throws_ == Throws::kEvolve && event.type == "FundsWithdrawn") {
      throw std::logic_error("evolve broke");
    }
    bank_.evolve(state, event);
  }
  sim::Result<std::vector<model::NewEvent>> decide(const model::domains::BankAccount& state,
                                                   const Command& command) const override {
    if (command.kind == "withdraw" && throws_ == Throws::kDecide) {
      throw std::out_of_range("no such account");
    }
    if (command.kind == "withdraw" && throws_ == Throws::kDecode) {
      // 0xff: a varint that never ends.
      return std::vector<model::NewEvent>{{"FundsWithdrawn", 1, {0xff}}};
    }
    return bank_.decide(state, command);
  }
  bool needs_upcast(const Event& event) const override {
    return (throws_ == Throws::kUpcast && event.type == "FundsWithdrawn") ||
           bank_.needs_upcast(event);
  }
  void upcast(Event& event) const override {
    if (throws_ == Throws::kUpcast && event.type == "FundsWithdrawn") {
      throw std::runtime_error("upcaster broke");
    }
    bank_.upcast(event);
  }
  std::vector<model::ProjectionHandler> projections() const override {
    std::vector<model::ProjectionHandler> handlers = bank_.projections();
    if (throws_ != Throws::kHandler) return handlers;
    for (model::ProjectionHandler& h : handlers) {
      h.apply = [apply = h.apply](model::ReadModel& m, const Event& e) {
        if (e.type == "FundsWithdrawn") throw std::invalid_argument("handler broke");
        apply(m, e);
      };
    }
    return handlers;
  }
  std::vector<model::Invariant> invariants() const override {
    if (throws_ == Throws::kEvolve) {  // a checker that folds the streams
      return {invariant("any_balance", "any balance", "acct-",
                        [](const model::domains::BankAccount& /*a*/) { return true; })};
    }
    if (throws_ != Throws::kInvariant) return {};
    return {invariant("balance_sane", "the balance is sane", "acct-",
                      [](const model::domains::BankAccount& a) -> bool {
                        if (a.balance_cents > 1'000) throw std::domain_error("invariant broke");
                        return true;
                      })};
  }
  std::vector<std::string> event_types() const override { return bank_.event_types(); }
  std::vector<essim::OldWriter> old_writers() const override { return bank_.old_writers(); }
  std::string describe_payload(const Event& event) const override {
    return bank_.describe_payload(event);
  }

 private:
  Throws throws_;
  model::domains::BankDomain bank_;
};

constexpr std::string_view kScenario = R"(name: throwing
domain: throwing
seeds: 4
duration: 1s
heal_max: 3s
topology:
  clients: 2
  projections:
    - {name: balances, handler: throwing.balances, dedup: atomic-checkpoint}
workload: {rate: 100/s, mix: {open: 1, deposit: 3, withdraw: 3}}
expect: pass
)";

struct Fixture {
  explicit Fixture(Throws throws) : registry(model::Registry::with_builtins()) {
    registry.add(std::make_unique<ThrowingDomain>(throws));
    auto parsed = parse_scenario(kScenario, "throwing.yaml", registry);
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    scenario = std::move(parsed).value();
  }
  model::Registry registry;
  Scenario scenario;
};

// The summaries of the run's user_code_does_not_throw violations, one a line.
std::string user_failures(const SeedResult& r) {
  std::string out;
  for (const properties::Violation& v : r.violations) {
    if (v.property == properties::kUserCodeDoesNotThrow) out += v.summary + "\n";
  }
  return out;
}

// Runs seed 1 twice: the same fingerprint, and the violations of the first.
SeedResult run_twice(Throws throws) {
  Fixture f(throws);
  const SeedResult first = run_seed(f.scenario, 1);
  const SeedResult second = run_seed(f.scenario, 1);
  EXPECT_EQ(first.fingerprint, second.fingerprint);
  EXPECT_EQ(user_failures(first), user_failures(second));
  EXPECT_GT(first.events, 0U);  // the run went on
  return first;
}

TEST(UserFailures, DecideThatThrowsNamesTheClientAndTheCommand) {
  const std::string found = user_failures(run_twice(Throws::kDecide));
  EXPECT_NE(found.find("client"), std::string::npos) << found;
  EXPECT_NE(found.find(": deciding withdraw on acct-"), std::string::npos) << found;
  EXPECT_NE(found.find("(payload: "), std::string::npos) << found;
  EXPECT_NE(found.find("threw std::out_of_range: no such account"), std::string::npos) << found;
}

TEST(UserFailures, EvolveThatThrowsNamesTheEvent) {
  const std::string found = user_failures(run_twice(Throws::kEvolve));
  EXPECT_NE(found.find("evolving with event acct-"), std::string::npos) << found;
  EXPECT_NE(found.find("FundsWithdrawn"), std::string::npos) << found;
  EXPECT_NE(found.find("threw std::logic_error: evolve broke"), std::string::npos) << found;
  // In a client, and in the checkers that fold the streams.
  EXPECT_NE(found.find("client"), std::string::npos) << found;
  EXPECT_NE(found.find("checking any_balance: "), std::string::npos) << found;
}

TEST(UserFailures, HandlerThatThrowsNamesTheProjection) {
  const std::string found = user_failures(run_twice(Throws::kHandler));
  EXPECT_NE(found.find("balances: applying event acct-"), std::string::npos) << found;
  EXPECT_NE(found.find("in handler balances threw std::invalid_argument: handler broke"),
            std::string::npos)
      << found;
}

TEST(UserFailures, InvariantThatThrowsNamesTheInvariant) {
  const std::string found = user_failures(run_twice(Throws::kInvariant));
  EXPECT_NE(found.find("checking balance_sane: checking invariant balance_sane after event acct-"),
            std::string::npos)
      << found;
  EXPECT_NE(found.find("threw std::domain_error: invariant broke"), std::string::npos) << found;
}

TEST(UserFailures, UpcasterThatThrowsNamesTheEvent) {
  const std::string found = user_failures(run_twice(Throws::kUpcast));
  EXPECT_NE(found.find("upcasting event acct-"), std::string::npos) << found;
  EXPECT_NE(found.find("threw std::runtime_error: upcaster broke"), std::string::npos) << found;
  EXPECT_NE(found.find("balances: "), std::string::npos) << found;
}

TEST(UserFailures, PayloadThatDoesNotDecodeIsAFindingNotZeros) {
  const std::string found = user_failures(run_twice(Throws::kDecode));
  EXPECT_NE(found.find("FundsWithdrawn"), std::string::npos) << found;
  EXPECT_NE(found.find("threw essim::BadPayload: bad FundsWithdrawn payload"), std::string::npos)
      << found;
}

TEST(UserFailures, NodeFailuresAreRecordedAndTheNodeFailStops) {
  Fixture f(Throws::kHandler);
  const SeedResult r = run_seed(f.scenario, 1, /*keep_trace=*/true);
  bool noted = false;
  bool crashed = false;
  for (const sim::TraceEntry& e : r.trace) {
    noted = noted || e.text == model::notes::kUserCodeThrew;
    crashed = crashed || e.kind == sim::TraceKind::kCrash;
  }
  EXPECT_TRUE(noted);
  EXPECT_TRUE(crashed);
}

TEST(UserFailures, SweepWithTwoJobsFinishesAndReportsEverySeed) {
  Fixture f(Throws::kDecide);
  RunOptions options;
  options.plan.seeds = 4;
  options.plan.jobs = 2;
  const ScenarioResult two = run_scenario(f.scenario, options);
  options.plan.jobs = 1;
  const ScenarioResult one = run_scenario(f.scenario, options);
  EXPECT_EQ(two.tally.seeds_run, 4U);
  EXPECT_EQ(two.tally.seeds_failed, 4U);
  EXPECT_EQ(two.tally.violated.at(std::string(properties::kUserCodeDoesNotThrow)), 4U);
  EXPECT_EQ(two.fingerprint, one.fingerprint);
  ASSERT_FALSE(two.failures.empty());
  EXPECT_NE(user_failures(two.failures.front()).find("no such account"), std::string::npos);
}

TEST(UserFailures, DemangledNamesReadAsWritten) {
  EXPECT_EQ(model::demangled(typeid(std::out_of_range)), "std::out_of_range");
  EXPECT_EQ(model::demangled(typeid(model::BadPayload)), "essim::BadPayload");
}

}  // namespace
}  // namespace essim::harness
