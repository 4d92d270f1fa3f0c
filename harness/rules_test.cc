// Rules across aggregates (log rules), rules of read models (final and at
// checkpoints), and sagas that plan a step from what an earlier one returned,
// on a small domain written against the public API as a user would.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include <essim/codec.h>
#include <essim/probe.h>
#include <essim/typed.h>

#include "harness/reporting.h"
#include "harness/runner.h"
#include "harness/scenario.h"

namespace essim::harness {
namespace {

// Tickets: a counter hands out numbers; a saga takes one, then (planned from
// what the first step appended) issues a ticket with that number.
struct Counter {
  std::int64_t next = 1;
  bool issued = false;  // ticket streams
  friend bool operator==(const Counter&, const Counter&) = default;
  void encode(Writer& w) const {
    w.svarint(next);
    w.boolean(issued);
  }
  static Result<Counter> decode(Reader& r) {
    Counter c;
    c.next = r.svarint();
    c.issued = r.boolean();
    return c;
  }
};

Bytes number(std::int64_t n) {
  Bytes out;
  Writer(out).svarint(n);
  return out;
}

std::int64_t number_of(ByteView payload) {
  Reader r(payload);
  const std::int64_t n = r.svarint();
  if (!r.ok()) throw BadPayload("bad number: " + r.error());
  return n;
}

enum class Mode { kCorrect, kStaleCounter, kListHandler };

class Tickets final : public TypedDomain<Counter> {
 public:
  explicit Tickets(Mode mode) : mode_(mode) {}
  std::string name() const override { return "tickets"; }
  std::vector<std::string> work_kinds() const override { return {"ticket"}; }
  Work generate(std::string_view, Rng& rng) const override {
    Saga saga;
    saga.id = std::to_string(rng.next() % 1'000'000'000);
    saga.steps.push_back({Command{"take", "counter", {}}, std::nullopt});
    return saga;
  }
  std::optional<SagaStep> next_step(const Saga& saga,
                                    const std::vector<StepOutcome>& done) const override {
    if (done.size() != 1 || done[0].events.empty()) return std::nullopt;
    const std::int64_t n = number_of(done[0].events[0].payload);
    return SagaStep{Command{"issue", "ticket-" + saga.id, number(n)}, std::nullopt};
  }
  void evolve(Counter& c, const Event& e) const override {
    if (e.type == "NumberTaken") c.next = number_of(e.payload) + 1;
    if (e.type == "TicketIssued") c.issued = true;
  }
  Result<std::vector<NewEvent>> decide(const Counter& c, const Command& command) const override {
    if (command.kind == "take") {
      const std::int64_t n = mode_ == Mode::kStaleCounter ? 1 : c.next;
      return std::vector<NewEvent>{{"NumberTaken", 1, number(n)}};
    }
    if (c.issued) {
      essim::probe("tickets.issued-again");
      return std::vector<NewEvent>{};
    }
    essim::probe("tickets.issued");
    return std::vector<NewEvent>{{"TicketIssued", 1, number(number_of(command.payload))}};
  }
  std::vector<ProjectionHandler> projections() const override {
    // Inserts each issued number into a sorted list: the same whatever the
    // order across streams, but not idempotent (fine behind a dedup).
    return {{"issued", "the numbers issued, sorted", [](ReadModel& m, const Event& e) {
               if (e.type != "TicketIssued") return;
               Value::List& numbers = m["numbers"].as_list();
               const Value n(number_of(e.payload));
               numbers.insert(std::upper_bound(numbers.begin(), numbers.end(), n), n);
             }}};
  }
  std::vector<LogInvariant> log_invariants() const override {
    LogInvariant unique{"numbers_unique",
                        "no number is issued twice, across all tickets",
                        [](Value& seen, const Event& e) -> std::string {
                          if (e.type != "TicketIssued") return "";
                          Value& at = seen[std::to_string(number_of(e.payload))];
                          if (!at.is_null())
                            return "number issued twice: also on " + at.as_string();
                          at = e.stream;
                          return "";
                        },
                        {}};
    LogInvariant taken{"issued_numbers_were_taken",
                       "a ticket's number was taken from the counter before it",
                       [](Value& taken_numbers, const Event& e) -> std::string {
                         const std::string n = std::to_string(number_of(e.payload));
                         if (e.type == "NumberTaken") taken_numbers[n] = true;
                         if (e.type == "TicketIssued" && taken_numbers.find(n) == nullptr)
                           return "ticket " + e.stream + " has number " + n + ", never taken";
                         return "";
                       },
                       [](const Value& taken_numbers) -> std::string {
                         return taken_numbers.size() == 0 ? "no number was ever taken" : "";
                       }};
    return {unique, taken};
  }
  std::vector<ReadModelInvariant> read_model_invariants() const override {
    ReadModelInvariant listed_once{"issued_listed_once", "no number is listed twice", "issued",
                                   true, [](const ReadModel& m) -> std::string {
                                     const Value* numbers =
                                         m.count("numbers") ? &m.at("numbers") : nullptr;
                                     if (numbers == nullptr) return "";
                                     std::set<std::int64_t> seen;
                                     for (const Value& n : numbers->as_list()) {
                                       if (!seen.insert(n.as_int()).second)
                                         return "number " + n.to_json() + " listed twice";
                                     }
                                     return "";
                                   }};
    ReadModelInvariant some{"some_issued", "tickets were issued", "issued", false,
                            [](const ReadModel& m) -> std::string {
                              return m.count("numbers") ? "" : "no ticket was issued";
                            }};
    return {listed_once, some};
  }
  std::vector<std::string> event_types() const override { return {"NumberTaken", "TicketIssued"}; }
  std::vector<ProbeDeclaration> probes() const override {
    return {{"tickets.issued", "a ticket was issued"},
            {"tickets.issued-again", "a ticket's issue step was decided again and did nothing"},
            {"tickets.never", "a path no run reaches"}};
  }

 private:
  Mode mode_;
};

std::string scenario_text(std::string_view dedup, std::string_view faults) {
  return fmt::format(R"(name: tickets
domain: tickets
seeds: 3
duration: 2s
heal_max: 20s
topology:
  clients: 3
  projections:
    - {{name: issued, handler: tickets.issued, dedup: {}}}
workload: {{rate: 100/s}}
{}
expect: pass
)",
                     dedup, faults);
}

std::vector<std::string> violated(Mode mode, std::string_view dedup, std::string_view faults) {
  Registry registry = Registry::with_builtins();
  registry.add(std::make_unique<Tickets>(mode));
  auto parsed = parse_scenario(scenario_text(dedup, faults), "tickets.yaml", registry);
  EXPECT_TRUE(parsed.ok()) << parsed.error().message;
  std::vector<std::string> names;
  for (std::uint64_t seed = 1; seed <= 3; ++seed) {
    for (const properties::Violation& v : run_seed(parsed.value(), seed).violations) {
      if (std::find(names.begin(), names.end(), v.property) == names.end())
        names.push_back(v.property);
    }
  }
  return names;
}

constexpr std::string_view kDuplicates = "faults: {network: {duplicate: 0.3, latency: 1ms..5ms}}";

TEST(Rules, SagaStepsPlannedFromEarlierOutcomesKeepEveryRule) {
  EXPECT_EQ(violated(Mode::kCorrect, "atomic-checkpoint", kDuplicates), std::vector<std::string>{});
}

TEST(Rules, ALogRuleCatchesWhatNoSingleAggregateSees) {
  const auto names = violated(Mode::kStaleCounter, "atomic-checkpoint", "");
  EXPECT_NE(std::find(names.begin(), names.end(), "numbers_unique"), names.end());
}

TEST(Rules, AReadModelRuleCatchesADuplicateAtACheckpoint) {
  const auto names = violated(Mode::kCorrect, "none", kDuplicates);
  EXPECT_NE(std::find(names.begin(), names.end(), "issued_listed_once"), names.end());
}

class Named final : public TypedDomain<Counter> {
 public:
  Named(std::string name, std::vector<ReadModelInvariant> rules)
      : name_(std::move(name)), rules_(std::move(rules)) {}
  std::string name() const override { return name_; }
  std::vector<std::string> work_kinds() const override { return {"take"}; }
  Work generate(std::string_view, Rng&) const override { return Command{"take", "c", {}}; }
  void evolve(Counter&, const Event&) const override {}
  Result<std::vector<NewEvent>> decide(const Counter&, const Command&) const override {
    return std::vector<NewEvent>{};
  }
  std::vector<ReadModelInvariant> read_model_invariants() const override { return rules_; }

 private:
  std::string name_;
  std::vector<ReadModelInvariant> rules_;
};

std::string refusal(std::unique_ptr<Domain> domain) {
  Registry registry;
  try {
    registry.add(std::move(domain));
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

// A user's domain reports its own probes; a scenario may require them, and
// one no seed reached fails the sweep.
TEST(Probes, AUserDomainsProbesAreCountedReportedAndMayBeRequired) {
  Registry registry = Registry::with_builtins();
  registry.add(std::make_unique<Tickets>(Mode::kCorrect));
  const auto sweep = [&](std::string_view require) {
    auto parsed =
        parse_scenario(scenario_text("atomic-checkpoint", require), "tickets.yaml", registry);
    EXPECT_TRUE(parsed.ok()) << parsed.error().message;
    auto scenario = std::make_unique<Scenario>(std::move(parsed).value());
    RunOptions options;
    ScenarioResult result = run_scenario(*scenario, options);
    return std::pair{std::move(scenario), std::move(result)};
  };
  const auto [scenario, result] = sweep("require_probes: [tickets.issued, model.upcast-applied]");
  ASSERT_TRUE(result.tally.probes.contains("tickets.issued"));
  EXPECT_GT(result.tally.probes.at("tickets.issued").hits, 0U);
  EXPECT_EQ(result.tally.probes.at("tickets.issued").first_seed, 1U);
  EXPECT_FALSE(result.tally.probes.contains("tickets.never"));
  // Tickets have no old schemas: the essim probe is never reached.
  EXPECT_FALSE(result.verdict.met);
  EXPECT_EQ(result.verdict.missing_probes, std::vector<std::string>{"model.upcast-applied"});
  const reports::ScenarioReport report = to_report(*scenario, result);
  const auto never = std::find_if(report.probes.begin(), report.probes.end(),
                                  [](const auto& p) { return p.name == "tickets.never"; });
  ASSERT_NE(never, report.probes.end());
  EXPECT_EQ(never->hits, 0U);
  EXPECT_EQ(never->description, "a path no run reaches");
  EXPECT_FALSE(never->first_seed.has_value());
  EXPECT_EQ(report.missing_probes, std::vector<std::string>{"model.upcast-applied"});
  EXPECT_FALSE(report.met);
  // Required and reached: met.
  EXPECT_TRUE(sweep("require_probes: [tickets.issued]").second.verdict.met);
  // The same seeds reach the same probes the same number of times.
  EXPECT_EQ(sweep("").second.tally.probes, result.tally.probes);
}

TEST(Probes, RegistryRefusesABadOrBorrowedProbeName) {
  class WithProbes final : public TypedDomain<Counter> {
   public:
    explicit WithProbes(std::vector<ProbeDeclaration> probes) : probes_(std::move(probes)) {}
    std::string name() const override { return "with-probes"; }
    std::vector<std::string> work_kinds() const override { return {"take"}; }
    Work generate(std::string_view, Rng&) const override { return Command{"take", "c", {}}; }
    void evolve(Counter&, const Event&) const override {}
    Result<std::vector<NewEvent>> decide(const Counter&, const Command&) const override {
      return std::vector<NewEvent>{};
    }
    std::vector<ProbeDeclaration> probes() const override { return probes_; }

   private:
    std::vector<ProbeDeclaration> probes_;
  };
  const auto refused = [](std::vector<ProbeDeclaration> probes) {
    return refusal(std::make_unique<WithProbes>(std::move(probes)));
  };
  EXPECT_NE(refused({{"has space", ""}}).find("probe 'has space' must be"), std::string::npos);
  EXPECT_NE(refused({{"", ""}}).find("must be 1 to 64"), std::string::npos);
  EXPECT_NE(refused({{std::string(65, 'a'), ""}}).find("must be 1 to 64"), std::string::npos);
  EXPECT_NE(refused({{"a.b", "x"}, {"a.b", "y"}}).find("declared twice"), std::string::npos);
  EXPECT_NE(refused({{"store.torn-tail-truncated", ""}}).find("one of essim's own"),
            std::string::npos);
  EXPECT_NE(refused({{"with-probes.quiet", ""}}).find("has no description"), std::string::npos);
  EXPECT_EQ(refused({{"with-probes.ok_1", "fine"}}), "");
}

TEST(Rules, RegistryRefusesAmbiguousOrDanglingNames) {
  const auto check = [](const ReadModel&) { return std::string(); };
  EXPECT_NE(refusal(std::make_unique<Named>("bad name", std::vector<ReadModelInvariant>{}))
                .find("its name must be letters"),
            std::string::npos);
  EXPECT_NE(refusal(std::make_unique<Named>(
                        "x", std::vector<ReadModelInvariant>{{"r", "", "nope", false, check}}))
                .find("rule 'r' is about a handler it does not have: 'nope'"),
            std::string::npos);
  Registry twice;
  twice.add(std::make_unique<Named>("x", std::vector<ReadModelInvariant>{}));
  EXPECT_THROW(twice.add(std::make_unique<Named>("x", std::vector<ReadModelInvariant>{})),
               std::invalid_argument);
  EXPECT_EQ(refusal(std::make_unique<Named>("ok-name_2", std::vector<ReadModelInvariant>{})), "");
}

}  // namespace
}  // namespace essim::harness
