#include "testing/idempotency.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace essim::fuzzing {
namespace {

const model::Domain& bank() {
  return *model::Registry::builtin().domain("bank");
}
const model::ProjectionHandler& handler(const std::string& name) {
  return *model::Registry::builtin().handler(name)->handler;
}

TEST(DecidedHistory, IsValidAndGrowsByPrefix) {
  const auto short_history = decided_history(bank(), 5, 10);
  const auto long_history = decided_history(bank(), 5, 40);
  ASSERT_FALSE(short_history.empty());
  ASSERT_GE(long_history.size(), short_history.size());
  for (std::size_t i = 0; i < short_history.size(); ++i)
    EXPECT_EQ(short_history[i], long_history[i]);
  std::map<std::string, std::uint64_t> versions;
  for (const model::Event& e : long_history) EXPECT_EQ(e.version, ++versions[e.stream]);
}

// Idempotent handlers pass with any strategy; the others need deduplication.
RC_GTEST_PROP(Idempotency, TransfersHandlerIsIdempotentWithoutDedup, ()) {
  check_idempotent(bank(), handler("bank.transfers"), model::Dedup::kNone);
}
RC_GTEST_PROP(Idempotency, BalancesHandlerIsSafeWithEventIdDedup, ()) {
  check_idempotent(bank(), handler("bank.balances"), model::Dedup::kEventId);
}
RC_GTEST_PROP(Idempotency, BalancesHandlerIsSafeWithAtomicCheckpoint, ()) {
  check_idempotent(bank(), handler("bank.balances"), model::Dedup::kAtomicCheckpoint);
}

TEST(DecidedHistory, DrawsWorkByTheMix) {
  // Only accounts opened (an account opened again is refused).
  const auto opens = decided_history(bank(), 9, 20, {{"open", 1}, {"deposit", 0}});
  ASSERT_FALSE(opens.empty());
  for (const model::Event& e : opens) EXPECT_EQ(e.type, "AccountOpened");
  // Deposits alone go to accounts that were never opened: all refused.
  EXPECT_TRUE(decided_history(bank(), 9, 20, {{"deposit", 1}}).empty());
  // The default is the domain's mix, as given explicitly.
  EXPECT_EQ(decided_history(bank(), 9, 20), decided_history(bank(), 9, 20, bank().mix()));
}

TEST(Idempotency, FindsTheNonIdempotentHandler) {
  const auto result = rc::detail::checkTestable(
      [] { check_idempotent(bank(), handler("bank.balances"), model::Dedup::kNone); });
  ASSERT_TRUE(result.template is<rc::detail::FailureResult>());
  const auto failure = result.template get<rc::detail::FailureResult>();
  EXPECT_NE(failure.description.find("differs from one in-order application"), std::string::npos);
  EXPECT_LT(failure.numSuccess, 100);
}

FuzzSettings settings(model::Dedup dedup, std::size_t works_max = 30) {
  FuzzSettings s;
  s.dedup = dedup;
  s.works_max = works_max;
  return s;
}
FuzzRun seeded(std::uint64_t seed, int runs = 1'000) {
  FuzzRun run;
  run.seed = seed;
  run.runs = runs;
  return run;
}

TEST(Fuzz, TheSameSeedGivesTheSameCounterexample) {
  const auto& balances = handler("bank.balances");
  const FuzzOutcome first = fuzz(bank(), balances, settings(model::Dedup::kNone), seeded(42));
  const FuzzOutcome again = fuzz(bank(), balances, settings(model::Dedup::kNone), seeded(42));
  ASSERT_EQ(first.kind, FuzzOutcome::Kind::kFailed);
  ASSERT_EQ(again.kind, FuzzOutcome::Kind::kFailed);
  EXPECT_EQ(describe(*first.counterexample), describe(*again.counterexample));
  EXPECT_EQ(first.reproduce, again.reproduce);
  EXPECT_EQ(first.stats.runs, again.stats.runs);
  EXPECT_EQ(first.stats.shrinks_tried, again.stats.shrinks_tried);
  EXPECT_EQ(first.stats.deliveries, again.stats.deliveries);
}

// The progress hook hears of every case and every shrink, in order, and
// knows when the search turned to shrinking; it changes nothing found.
TEST(Fuzz, ProgressHearsOfEveryCaseAndShrink) {
  const auto& balances = handler("bank.balances");
  struct Heard {
    std::uint64_t runs, discarded, tried;
    bool shrinking;
  };
  std::vector<Heard> heard;
  FuzzRun run = seeded(42);
  run.progress = [&](const FuzzStats& s, bool shrinking) {
    heard.push_back({s.runs, s.discarded, s.shrinks_tried, shrinking});
  };
  const FuzzOutcome told = fuzz(bank(), balances, settings(model::Dedup::kNone), run);
  const FuzzOutcome quiet = fuzz(bank(), balances, settings(model::Dedup::kNone), seeded(42));
  ASSERT_EQ(told.kind, FuzzOutcome::Kind::kFailed);
  EXPECT_EQ(told.reproduce, quiet.reproduce);
  ASSERT_GT(told.stats.shrinks_tried, 0U);
  ASSERT_EQ(heard.size(), told.stats.runs + told.stats.discarded + told.stats.shrinks_tried);
  EXPECT_FALSE(heard.front().shrinking);
  EXPECT_TRUE(heard.back().shrinking);
  EXPECT_EQ(heard.back().runs, told.stats.runs);
  EXPECT_EQ(heard.back().tried, told.stats.shrinks_tried);
  for (std::size_t i = 1; i < heard.size(); ++i) {
    // One more case, or one more shrink; once shrinking, always shrinking.
    EXPECT_EQ(heard[i].runs + heard[i].discarded + heard[i].tried,
              heard[i - 1].runs + heard[i - 1].discarded + heard[i - 1].tried + 1);
    EXPECT_TRUE(!heard[i - 1].shrinking || heard[i].shrinking);
  }
}

TEST(Fuzz, TheCounterexampleShowsPayloadsAndNoRapidCheckInternals) {
  const FuzzOutcome out =
      fuzz(bank(), handler("bank.balances"), settings(model::Dedup::kNone), seeded(7));
  ASSERT_EQ(out.kind, FuzzOutcome::Kind::kFailed);
  const std::string text = describe(*out.counterexample);
  EXPECT_NE(text.find("differs from one in-order application"), std::string::npos) << text;
  // Every deposit delivered shows its amount and currency.
  std::size_t deposits = 0;
  for (const std::string& line : out.counterexample->schedule) {
    const std::size_t at = line.find("FundsDeposited v");
    if (at == std::string::npos) continue;
    ++deposits;
    EXPECT_EQ(line.substr(at + 17, 2), ": ") << line;
  }
  EXPECT_GT(deposits, 0u) << text;
  EXPECT_EQ(text.find("RC_"), std::string::npos) << text;
  EXPECT_EQ(text.find(".cc:"), std::string::npos) << text;
  EXPECT_FALSE(out.counterexample->difference.empty());
  EXPECT_TRUE(out.reproduce.starts_with("reproduce=")) << out.reproduce;
  EXPECT_EQ(out.reproduce.find(' '), std::string::npos) << out.reproduce;
}

TEST(Fuzz, TheReproduceStringRunsTheSameCaseAndOnlyForItsSettings) {
  const auto& balances = handler("bank.balances");
  const FuzzOutcome found = fuzz(bank(), balances, settings(model::Dedup::kNone), seeded(3));
  ASSERT_EQ(found.kind, FuzzOutcome::Kind::kFailed);
  FuzzRun run = seeded(99);  // the seed does not matter when reproducing
  run.rc_params = found.reproduce;
  const FuzzOutcome again = fuzz(bank(), balances, settings(model::Dedup::kNone), run);
  ASSERT_EQ(again.kind, FuzzOutcome::Kind::kFailed);
  EXPECT_EQ(describe(*again.counterexample), describe(*found.counterexample));
  EXPECT_EQ(again.stats.runs, 0u);  // no search

  const FuzzOutcome other = fuzz(bank(), balances, settings(model::Dedup::kNone, 5), run);
  EXPECT_EQ(other.kind, FuzzOutcome::Kind::kBadParams);
  EXPECT_NE(other.message.find("--max-works 30"), std::string::npos) << other.message;

  // The same name with an idempotent body: the case passes now.
  model::ProjectionHandler fixed = handler("bank.transfers");
  fixed.name = "balances";
  const FuzzOutcome passes = fuzz(bank(), fixed, settings(model::Dedup::kNone), run);
  EXPECT_EQ(passes.kind, FuzzOutcome::Kind::kNotReproduced);
  EXPECT_NE(passes.message.find("passes now"), std::string::npos) << passes.message;

  run.rc_params = "reproduce=@@@";
  EXPECT_EQ(fuzz(bank(), balances, settings(model::Dedup::kNone), run).kind,
            FuzzOutcome::Kind::kBadParams);
}

TEST(Fuzz, MaxWorksBoundsTheHistory) {
  for (std::uint64_t seed = 1; seed <= 5; ++seed) {
    const FuzzOutcome out =
        fuzz(bank(), handler("bank.balances"), settings(model::Dedup::kNone, 2), seeded(seed));
    ASSERT_EQ(out.kind, FuzzOutcome::Kind::kFailed);
    EXPECT_LE(out.counterexample->works, 2u);
  }
  // One piece of work opens one account, or decides nothing: nothing to apply twice.
  const FuzzOutcome one =
      fuzz(bank(), handler("bank.balances"), settings(model::Dedup::kNone, 1), seeded(1));
  EXPECT_EQ(one.kind, FuzzOutcome::Kind::kPassed);
  EXPECT_EQ(one.stats.runs, 1'000u);
}

TEST(Fuzz, GivesUpWhenTheMixDecidesNothing) {
  FuzzSettings deposits = settings(model::Dedup::kNone);
  deposits.mix = {{"deposit", 1}};
  const FuzzOutcome out = fuzz(bank(), handler("bank.balances"), deposits, seeded(1, 10));
  EXPECT_EQ(out.kind, FuzzOutcome::Kind::kGaveUp);
  EXPECT_EQ(out.stats.runs, 0u);
  EXPECT_GT(out.stats.discarded, 10u);
}

TEST(Fuzz, AHandlerThatThrowsIsACounterexample) {
  model::ProjectionHandler throwing = handler("bank.balances");
  throwing.apply = [](model::ReadModel&, const model::Event& e) {
    if (e.type == "FundsWithdrawn") throw std::out_of_range("no such key");
  };
  throwing.reference = {};  // its reference would tell it does nothing else, before any throw
  const FuzzOutcome out =
      fuzz(bank(), throwing, settings(model::Dedup::kAtomicCheckpoint), seeded(5));
  ASSERT_EQ(out.kind, FuzzOutcome::Kind::kFailed);
  const std::string& verdict = out.counterexample->verdict;
  EXPECT_NE(verdict.find("threw std::out_of_range: no such key"), std::string::npos) << verdict;
  EXPECT_NE(out.counterexample->schedule.back().find("FundsWithdrawn"), std::string::npos);
}

// The issue's minimal counterexample, whatever the seed: the account opened,
// the deposit, and the deposit again.
TEST(Fuzz, ShrinksTheNonIdempotentBalancesToTheMinimalCounterexample) {
  for (std::uint64_t seed = 1; seed <= 40; ++seed) {
    const FuzzOutcome out =
        fuzz(bank(), handler("bank.balances"), settings(model::Dedup::kNone), seeded(seed));
    ASSERT_EQ(out.kind, FuzzOutcome::Kind::kFailed) << "seed " << seed;
    const Counterexample& c = *out.counterexample;
    const std::string text = describe(c);
    ASSERT_EQ(c.history.size(), 2u) << "seed " << seed << "\n" << text;
    ASSERT_EQ(c.schedule.size(), 3u) << "seed " << seed << "\n" << text;
    EXPECT_EQ(c.works, 2u) << text;
    EXPECT_NE(c.history[0].find("AccountOpened"), std::string::npos) << text;
    EXPECT_NE(c.history[1].find("FundsDeposited"), std::string::npos) << text;
    EXPECT_TRUE(c.schedule[0].starts_with("deliver ")) << text;
    EXPECT_NE(c.schedule[0].find("AccountOpened"), std::string::npos) << text;
    EXPECT_TRUE(c.schedule[1].starts_with("deliver ")) << text;
    EXPECT_NE(c.schedule[1].find("FundsDeposited"), std::string::npos) << text;
    EXPECT_FALSE(c.schedule[2].starts_with("deliver ")) << text;
    EXPECT_NE(c.schedule[2].find("FundsDeposited"), std::string::npos) << text;
  }
}

// A passing search is as much a function of its seed as a failing one.
TEST(Fuzz, APassingSearchIsAFunctionOfItsSeed) {
  const auto& balances = handler("bank.balances");
  const FuzzOutcome first =
      fuzz(bank(), balances, settings(model::Dedup::kEventId), seeded(5, 300));
  const FuzzOutcome again =
      fuzz(bank(), balances, settings(model::Dedup::kEventId), seeded(5, 300));
  const FuzzOutcome other =
      fuzz(bank(), balances, settings(model::Dedup::kEventId), seeded(6, 300));
  ASSERT_EQ(first.kind, FuzzOutcome::Kind::kPassed);
  EXPECT_EQ(first.stats.runs, 300u);
  EXPECT_EQ(first.stats.deliveries, again.stats.deliveries);
  EXPECT_EQ(first.stats.discarded, again.stats.discarded);
  EXPECT_NE(first.stats.deliveries, other.stats.deliveries);
  // Several schedules of a few dozen deliveries each per history.
  EXPECT_GT(first.stats.deliveries, 100u * first.stats.runs);
}

// The first work of `seeds` whose history is exactly `type` on one stream.
std::uint64_t work_seed(const std::vector<CaseWork>& before, const std::string& type) {
  for (std::uint64_t seed = 1; seed < 10'000; ++seed) {
    FuzzCase c;
    c.works = before;
    c.works.push_back({seed, static_cast<std::uint32_t>(before.size())});
    c.schedules.emplace_back();
    HistoryBuilder builder(bank());
    DecidedCase d;
    decide_case(builder, bank().mix(), c, d);
    if (d.count.back() != 1 || d.history.back().type != type) continue;
    if (!before.empty() && d.history.back().stream != d.history.front().stream) continue;
    return seed;
  }
  ADD_FAILURE() << "no work decides " << type;
  return 0;
}

// Every schedule of a case is checked, not only the first.
TEST(Fuzz, EveryScheduleOfACaseIsChecked) {
  FuzzCase c;
  c.works.push_back({work_seed({}, "AccountOpened"), 0});
  c.works.push_back({work_seed(c.works, "FundsDeposited"), 1});
  c.schedules.push_back({{}, 0});  // each event once, in order
  const auto& balances = handler("bank.balances");
  EXPECT_FALSE(check_case(bank(), balances, settings(model::Dedup::kNone), c));
  c.schedules.push_back({{{1, 0, 0, 0}}, 0});  // the deposit again
  const auto found = check_case(bank(), balances, settings(model::Dedup::kNone), c);
  ASSERT_TRUE(found);
  EXPECT_EQ(found->schedule.size(), 3u) << describe(*found);
  EXPECT_TRUE(found->schedule[2].starts_with("again ")) << describe(*found);
  EXPECT_FALSE(check_case(bank(), balances, settings(model::Dedup::kEventId), c));
  // A crash that redelivers both events: the deposit runs twice.
  c.schedules.back() = {{{1, 0, 0, 2}}, 0};
  const auto crashed = check_case(bank(), balances, settings(model::Dedup::kNone), c);
  ASSERT_TRUE(crashed);
  EXPECT_EQ(crashed->schedule.size(), 4u) << describe(*crashed);
  EXPECT_TRUE(crashed->schedule[3].starts_with("after crash ")) << describe(*crashed);
  EXPECT_FALSE(check_case(bank(), balances, settings(model::Dedup::kAtomicCheckpoint), c));
}

}  // namespace
}  // namespace essim::fuzzing
