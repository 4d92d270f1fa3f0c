#include "harness/reporting.h"

#include <algorithm>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "model/trace_notes.h"

namespace essim::harness {
namespace {

Scenario load(const std::string& name) {
  auto s = load_scenario(ESSIM_SOURCE_DIR "/scenarios/" + name, model::Registry::builtin());
  EXPECT_TRUE(s.ok()) << s.error().message;
  return std::move(s).value();
}

ScenarioResult run(const Scenario& s, std::uint64_t seeds, std::uint64_t shard,
                   std::uint64_t shards, int jobs = 1) {
  RunOptions o;
  o.plan = {
      .first_seed = 1, .seeds = seeds, .jobs = jobs, .shard_index = shard, .shard_count = shards};
  return run_scenario(s, o);
}

std::vector<ShardFile> shard_reports(const Scenario& s, std::uint64_t seeds, std::uint64_t shards) {
  std::vector<ShardFile> out;
  for (std::uint64_t i = 0; i < shards; ++i) {
    ShardFile f{fmt::format("shard{}.json", i), {}};
    f.report.scenarios.push_back(to_report(s, run(s, seeds, i, shards)));
    out.push_back(std::move(f));
  }
  return out;
}

TEST(Merge, ShardsAddUpToTheWholeSweep) {
  const Scenario s = load("bank-calm.yaml");
  const ScenarioResult whole = run(s, 5, 0, 1);
  auto merged = merge(shard_reports(s, 5, 2));
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  ASSERT_EQ(merged.value().scenarios.size(), 1U);
  const reports::ScenarioReport& m = merged.value().scenarios[0];
  EXPECT_EQ(m.seeds_run, 5U);
  EXPECT_EQ(m.sweep.fingerprint, fmt::format("0x{:016x}", whole.fingerprint));
  EXPECT_EQ(m.sweep.shards, (std::vector<std::uint64_t>{0, 1}));
  EXPECT_TRUE(m.met);
  // Probes add up too: the same hits and first seeds as the whole sweep's.
  const reports::ScenarioReport whole_report = to_report(s, whole);
  ASSERT_EQ(m.probes.size(), whole_report.probes.size());
  for (std::size_t i = 0; i < m.probes.size(); ++i) {
    EXPECT_EQ(m.probes[i].name, whole_report.probes[i].name);
    EXPECT_EQ(m.probes[i].description, whole_report.probes[i].description);
    EXPECT_EQ(m.probes[i].hits, whole_report.probes[i].hits) << m.probes[i].name;
    EXPECT_EQ(m.probes[i].first_seed, whole_report.probes[i].first_seed) << m.probes[i].name;
  }
  EXPECT_GT(whole.tally.probes.size(), 0U);
  // And so do the metrics, but for the wall time, which no two runs share.
  ASSERT_EQ(m.metrics.size(), whole_report.metrics.size());
  for (std::size_t i = 0; i < m.metrics.size(); ++i) {
    const reports::MetricReport& a = m.metrics[i];
    const reports::MetricReport& b = whole_report.metrics[i];
    EXPECT_EQ(a.name, b.name);
    EXPECT_EQ(a.seeds, 5U) << a.name;
    if (a.name == "wall_us" || a.name == "compression") continue;
    EXPECT_EQ(a.min, b.min) << a.name;
    EXPECT_EQ(a.median, b.median) << a.name;
    EXPECT_EQ(a.max, b.max) << a.name;
    EXPECT_EQ(a.histogram, b.histogram) << a.name;
  }
}

TEST(Merge, JudgesRequiredProbesOverTheWholeSweep) {
  // Each shard alone may miss a probe the other reached: the merge judges
  // the sum, not the shards' own verdicts.
  const std::string file = ESSIM_SOURCE_DIR "/scenarios/bank-calm.yaml";
  auto text = read_regular_file(file, kScenarioBytesMax, "a scenario");
  ASSERT_TRUE(text.ok());
  std::string yaml = text.value();
  const auto at = yaml.find("expect: pass");
  ASSERT_NE(at, std::string::npos);
  yaml = yaml.substr(0, at) + "require_probes: [client.snapshot-used]\n" + yaml.substr(at);
  auto parsed = parse_scenario(yaml, file, model::Registry::builtin());
  ASSERT_TRUE(parsed.ok()) << parsed.error().message;
  const Scenario s = std::move(parsed).value();
  std::vector<ShardFile> shards = shard_reports(s, 4, 2);
  for (ShardFile& f : shards) {
    reports::ScenarioReport& r = f.report.scenarios[0];
    ASSERT_EQ(r.required_probes, std::vector<std::string>{"client.snapshot-used"});
    r.met = false;
    r.missing_probes = r.required_probes;
  }
  reports::ScenarioReport& second = shards[1].report.scenarios[0];
  for (reports::ProbeReport& p : shards[0].report.scenarios[0].probes) {
    if (p.name == "client.snapshot-used") {
      p.hits = 0;
      p.first_seed.reset();
    }
  }
  auto merged = merge(shards);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  const bool reached = std::any_of(second.probes.begin(), second.probes.end(), [](const auto& p) {
    return p.name == "client.snapshot-used" && p.hits > 0;
  });
  ASSERT_TRUE(reached);
  EXPECT_TRUE(merged.value().scenarios[0].met);
  EXPECT_TRUE(merged.value().scenarios[0].missing_probes.empty());
  for (reports::ProbeReport& p : second.probes) {
    if (p.name == "client.snapshot-used") {
      p.hits = 0;
      p.first_seed.reset();
    }
  }
  merged = merge(shards);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_FALSE(merged.value().scenarios[0].met);
  EXPECT_EQ(merged.value().scenarios[0].missing_probes,
            std::vector<std::string>{"client.snapshot-used"});
}

TEST(Merge, RefusesAShardGivenTwice) {
  const Scenario s = load("bank-calm.yaml");
  std::vector<ShardFile> shards = shard_reports(s, 4, 2);
  shards[1] = shards[0];
  shards[1].file = "copy.json";
  auto merged = merge(shards);
  ASSERT_FALSE(merged.ok());
  EXPECT_NE(merged.error().message.find("copy.json: scenarios[0]: shard 0/2 of bank-calm is "
                                        "already in shard0.json"),
            std::string::npos)
      << merged.error().message;
}

TEST(Merge, RefusesAMissingShard) {
  const Scenario s = load("bank-calm.yaml");
  std::vector<ShardFile> shards = shard_reports(s, 6, 3);
  shards.erase(shards.begin() + 1);
  auto merged = merge(shards);
  ASSERT_FALSE(merged.ok());
  EXPECT_NE(merged.error().message.find("shard(s) 1 of 3 are missing"), std::string::npos)
      << merged.error().message;
}

TEST(Merge, ShardsOfDifferentSweepsDoNotMix) {
  const Scenario s = load("bank-calm.yaml");
  std::vector<ShardFile> a = shard_reports(s, 4, 2);
  const std::vector<ShardFile> b = shard_reports(s, 6, 2);  // another seed range
  a[1] = b[1];
  auto merged = merge(a);
  ASSERT_FALSE(merged.ok());  // each sweep misses a shard
  EXPECT_NE(merged.error().message.find("missing"), std::string::npos);
}

TEST(Merge, RefusesReportsThatCannotBe) {
  const Scenario s = load("bank-calm.yaml");
  const auto tamper = [&](auto edit) {
    std::vector<ShardFile> shards = shard_reports(s, 2, 1);
    edit(shards[0].report.scenarios[0]);
    auto merged = merge(shards);
    return merged.ok() ? std::string() : merged.error().message;
  };
  EXPECT_NE(tamper([](auto& r) { r.seeds_failed = r.seeds_run + 1; }).find("seeds_failed"),
            std::string::npos);
  EXPECT_NE(tamper([](auto& r) { r.sweep.seeds = 100; }).find("sweep.id does not match"),
            std::string::npos);
  EXPECT_NE(tamper([](auto& r) { r.properties[0].status = "fine"; }).find("unknown status"),
            std::string::npos);
  EXPECT_NE(tamper([](auto& r) { r.sweep.shards = {5}; }).find("names shard 5 of 1"),
            std::string::npos);
  EXPECT_NE(tamper([](auto& r) {
              r.expected_violation = "money_conserved";
            }).find("sweep.id does not match"),
            std::string::npos);
  const auto reached = [](auto& r) -> reports::ProbeReport& {
    for (reports::ProbeReport& p : r.probes) {
      if (p.hits > 0) return p;
    }
    ADD_FAILURE() << "bank-calm reached no probe";
    return r.probes.front();
  };
  EXPECT_NE(
      tamper([&](auto& r) { reached(r).first_seed.reset(); }).find("first_seed must be given"),
      std::string::npos);
  EXPECT_NE(tamper([&](auto& r) { reached(r).first_seed = 99; }).find("outside the sweep's seeds"),
            std::string::npos);
  EXPECT_NE(tamper([&](auto& r) { r.probes.push_back(reached(r)); }).find("listed twice"),
            std::string::npos);
  EXPECT_NE(tamper([](auto& r) {
              r.metrics[0].min = r.metrics[0].max + 1000;
            }).find("its histogram, min and max cannot be one"),
            std::string::npos);
  EXPECT_NE(tamper([](auto& r) { r.metrics.push_back(r.metrics[0]); }).find("listed twice"),
            std::string::npos);
  EXPECT_NE(tamper([](auto& r) {
              r.metrics[0].seeds = r.seeds_run + 1;
            }).find("measured in more seeds than seeds_run"),
            std::string::npos);
  // The required probes are part of the sweep's identity: a report that
  // drops or adds one is not that sweep's.
  EXPECT_NE(tamper([](auto& r) {
              r.required_probes = {"client.snapshot-used"};
            }).find("sweep.id does not match"),
            std::string::npos);
  EXPECT_EQ(tamper([](auto&) {}), "");
}

TEST(Merge, ShardsCannotRunMoreSeedsThanTheSweepHas) {
  const Scenario s = load("bank-calm.yaml");
  std::vector<ShardFile> shards = shard_reports(s, 4, 2);
  for (ShardFile& f : shards) f.report.scenarios[0].seeds_run = 4;
  auto merged = merge(shards);
  ASSERT_FALSE(merged.ok());
  EXPECT_NE(merged.error().message.find("ran more seeds than the sweep has"), std::string::npos);
}

TEST(Merge, JudgesTheSumAgain) {
  // A shard that passed and a shard that failed merge into a scenario that
  // did not meet its expectation, whatever the shards said of themselves.
  const Scenario s = load("bank-calm.yaml");
  std::vector<ShardFile> shards = shard_reports(s, 4, 2);
  reports::ScenarioReport& r = shards[1].report.scenarios[0];
  r.seeds_failed = 1;
  r.properties[0].seeds = 1;
  r.properties[0].status = "violated";
  r.met = true;  // a lie the merge must not believe
  auto merged = merge(shards);
  ASSERT_TRUE(merged.ok()) << merged.error().message;
  EXPECT_FALSE(merged.value().scenarios[0].met);
  EXPECT_EQ(merged.value().scenarios[0].properties[0].status, "violated");
}

TEST(Reports, JsonRoundTripsThroughMerge) {
  const Scenario s = load("bugs/ack-before-sync.yaml");
  const ScenarioResult r = run(s, 10, 0, 1);
  ASSERT_TRUE(r.verdict.met);
  reports::Report report;
  report.scenarios.push_back(to_report(s, r));
  reports::Report back;
  std::string error;
  ASSERT_TRUE(reports::from_json(reports::to_json(report), back, error)) << error;
  EXPECT_EQ(reports::to_json(back), reports::to_json(report));
  EXPECT_EQ(back.scenarios[0].caught_at_seed, r.tally.caught_at_seed);
}

TEST(Reports, FailuresListTheOperationsTheirSeedRan) {
  const Scenario s = load("bugs/rebuild-cuts-over-early.yaml");
  const ScenarioResult r = run(s, 1, 0, 1);
  ASSERT_TRUE(r.verdict.met);
  const reports::ScenarioReport report = to_report(s, r);
  ASSERT_FALSE(report.failures.empty());
  for (const reports::FailureReport& f : report.failures) {
    EXPECT_EQ(f.operations,
              (std::vector<reports::OperationReport>{{"rebuild", "balances", 3'000'000}}))
        << f.property;
  }
  // A seed that ran none lists none.
  const Scenario ack = load("bugs/ack-before-sync.yaml");
  const reports::ScenarioReport none = to_report(ack, run(ack, 10, 0, 1));
  ASSERT_FALSE(none.failures.empty());
  EXPECT_TRUE(none.failures[0].operations.empty());
}

TEST(Reports, OperationsReadAsHarnessDescribesThem) {
  // The reports format times themselves (they do not see sim): the same
  // words as describe() on the console, whatever the time's unit.
  for (const sim::Micros at_us : {sim::Micros{0}, sim::seconds(2), sim::millis(2500),
                                  sim::Micros{1'000'250}, sim::seconds(3) + 7}) {
    const std::vector<Operation> ran{{Operation::Kind::kRebuild, "balances", at_us},
                                     {Operation::Kind::kAudit, "store", at_us}};
    EXPECT_EQ(reports::describe_operations(operation_reports(ran)),
              describe(ran[0]) + ", " + describe(ran[1]));
  }
}

TEST(Viewer, MarksEachOperationAndTheCutOver) {
  const Scenario s = load("bugs/rebuild-cuts-over-early.yaml");
  const SeedResult r = run_seed(s, 1, true);
  ASSERT_EQ(r.operations_run.size(), 1U);
  const auto cut_over = std::find_if(r.trace.begin(), r.trace.end(), [](const sim::TraceEntry& e) {
    return e.kind == sim::TraceKind::kNote && e.text == model::notes::kRebuildCutOver;
  });
  ASSERT_NE(cut_over, r.trace.end());
  const reports::ViewerTrace t = viewer_trace(s, r);
  ASSERT_EQ(t.operations.size(), 2U);
  EXPECT_EQ(t.operations[0].at_us, sim::seconds(3));
  EXPECT_EQ(t.operations[0].label, "rebuild balances");
  EXPECT_EQ(t.operations[0].detail, "operation: rebuild balances at 3s");
  EXPECT_EQ(t.operations[1].at_us, cut_over->at_us);
  EXPECT_GE(t.operations[1].at_us, sim::seconds(3));
  EXPECT_EQ(t.operations[1].label, "rebuild balances: cut over");
  EXPECT_NE(t.operations[1].detail.find("balances-router cut queries over"), std::string::npos)
      << t.operations[1].detail;
  // A run without operations marks nothing.
  const Scenario calm = load("bank-calm.yaml");
  EXPECT_TRUE(viewer_trace(calm, run_seed(calm, 1, true)).operations.empty());
}

TEST(Viewer, HighlightsTheStepsTheEvidenceNames) {
  const Scenario s = load("bugs/ack-before-sync.yaml");
  const SeedResult r = run_seed(s, 1, true);
  ASSERT_FALSE(r.violations.empty());
  const reports::ViewerTrace t = viewer_trace(s, r);
  EXPECT_FALSE(t.highlight_steps.empty());
  EXPECT_EQ(t.steps.size(), r.trace.size());
}

}  // namespace
}  // namespace essim::harness
