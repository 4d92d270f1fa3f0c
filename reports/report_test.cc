#include "reports/report.h"

#include <gtest/gtest.h>

namespace essim::reports {
namespace {

Report sample(std::uint64_t seeds, std::uint64_t failing_seed) {
  Report r;
  r.shard = "0/2";
  ScenarioReport pass;
  pass.name = "calm";
  pass.file = "scenarios/calm.yaml";
  pass.domain = "bank";
  pass.seeds_run = seeds;
  pass.wall_seconds = 1.5;
  pass.properties = {{"no_overdraft", "held", 0}, {"money_conserved", "held", 0}};
  pass.sweep = {"0x01", "0x02", 1, 8, 2, {0}, "0x0000000000000003"};
  pass.metrics = {
      {"append_p99_us", "us", "99th percentile", 4, 900, 1200, 5000, {{2, 1}, {3, 2}, {4, 1}}}};
  pass.probes = {{"store.torn-tail-truncated", "a torn tail cut", 3, 2},
                 {"client.saga-compensated", "a saga compensated", 0, std::nullopt}};
  if (failing_seed != 0) {
    pass.seeds_failed = 1;
    pass.properties[0] = {"no_overdraft", "violated", 1};
    pass.failures.push_back({failing_seed,
                             "0x01",
                             "no_overdraft",
                             "acct-1 went below zero",
                             {"after: <evidence & more>"},
                             "essim replay scenarios/calm.yaml --seed 9",
                             {{"crashes", 0.75}, {"drop", 0.0}, {"torn_writes", 1.0}},
                             {{"rebuild", "balances", 2'000'000}, {"audit", "store", 1'000'000}}});
  }
  pass.met = failing_seed == 0;
  ScenarioReport bug;
  bug.name = "bug";
  bug.file = "scenarios/bugs/bug.yaml";
  bug.domain = "bank";
  bug.expected_violation = "no_overdraft";
  bug.within_seeds = 10;
  bug.seeds_run = 2;
  if (failing_seed != 0) bug.caught_at_seed = 0;  // seed 0 is a seed like any other
  bug.met = failing_seed != 0;
  bug.properties = {{"no_overdraft", failing_seed != 0 ? "caught" : "missed", 1}};
  bug.sweep = pass.sweep;
  r.scenarios = {pass, bug};
  return r;
}

TEST(Report, JsonRoundTrips) {
  const Report r = sample(4, 9);
  Report back;
  std::string error;
  ASSERT_TRUE(from_json(to_json(r), back, error)) << error;
  EXPECT_EQ(to_json(back), to_json(r));
  EXPECT_FALSE(back.ok());
  ASSERT_TRUE(back.scenarios[1].caught_at_seed.has_value());
  EXPECT_EQ(*back.scenarios[1].caught_at_seed, 0U);
  EXPECT_FALSE(from_json(nlohmann::json{{"schema_version", 99}}, back, error));
  EXPECT_NE(error.find("schema_version"), std::string::npos);
  EXPECT_FALSE(from_json(nlohmann::json{{"schema_version", kReportSchemaVersion}}, back, error));
  EXPECT_EQ(error, "tool is missing");
}

// Hostile reports: every wrong field is named, nothing wraps or throws.
TEST(Report, WrongFieldsAreNamed) {
  const nlohmann::json good = to_json(sample(4, 9));
  const auto error_of = [&](auto edit) {
    nlohmann::json j = good;
    edit(j);
    Report back;
    std::string error;
    EXPECT_FALSE(from_json(j, back, error));
    return error;
  };
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][1]["seeds_run"] = -3; }),
            "scenarios[1].seeds_run must be a whole number from 0 to 2^64 - 1, not -3");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["seeds_failed"] = 1e30; }),
            "scenarios[0].seeds_failed must be a whole number from 0 to 2^64 - 1, not 1e+30");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["name"] = 7; }),
            "scenarios[0].name must be a string");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["sweep"]["shards"] = {"a"}; }),
            "scenarios[0].sweep.shards[0] must be a whole number from 0 to 2^64 - 1, not \"a\"");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"] = 3; }), "scenarios must be a list");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["expect"] = "fail"; }),
            "scenarios[0].expect must be a JSON object");
  EXPECT_EQ(error_of([](auto& j) { j = nlohmann::json::array(); }),
            "the report must be a JSON object");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["probes"][0]["hits"] = -1; }),
            "scenarios[0].probes[0].hits must be a whole number from 0 to 2^64 - 1, not -1");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["probes"][1]["first_seed"] = 4U; }),
            "scenarios[0].probes[1]: first_seed must be given exactly when hits > 0");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["probes"][0]["first_seed"] = nullptr; }),
            "scenarios[0].probes[0]: first_seed must be given exactly when hits > 0");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["required_probes"] = {1}; }),
            "scenarios[0].required_probes[0] must be a string");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0].erase("missing_probes"); }),
            "scenarios[0].missing_probes is missing");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["metrics"][0]["seeds"] = 5U; }),
            "scenarios[0].metrics[0]: the histogram counts 4 seeds, not 5");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["metrics"][0]["min"] = 2000U; }),
            "scenarios[0].metrics[0]: min <= median <= max does not hold");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["metrics"][0]["histogram"][1] = {3U}; }),
            "scenarios[0].metrics[0].histogram[1] must be a [bucket, seeds] pair");
  EXPECT_EQ(error_of([](auto& j) {
              j["scenarios"][0]["metrics"][0]["histogram"][0] = {5000000000U, 1U};
            }),
            "scenarios[0].metrics[0].histogram[0][0] is not a bucket");
  EXPECT_EQ(
      error_of([](auto& j) { j["scenarios"][0]["failures"][0]["swarm"][0]["strength"] = 1.5; }),
      "scenarios[0].failures[0].swarm[0].strength must be a number from 0 to 1, not 1.5");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["failures"][0]["swarm"] = {{"crashes"}}; }),
            "scenarios[0].failures[0].swarm[0] must be a JSON object");
  EXPECT_EQ(error_of([](auto& j) { j["scenarios"][0]["failures"][0]["swarm"][1].erase("kind"); }),
            "scenarios[0].failures[0].swarm[1].kind is missing");
}

// The operations a failing seed ran, read back as strictly as the rest.
TEST(Report, WrongOperationsAreNamed) {
  const nlohmann::json good = to_json(sample(4, 9));
  const auto error_of = [&](auto edit) {
    nlohmann::json j = good;
    edit(j["scenarios"][0]["failures"][0]);
    Report back;
    std::string error;
    EXPECT_FALSE(from_json(j, back, error));
    return error;
  };
  const std::string at = "scenarios[0].failures[0].operations";
  EXPECT_EQ(error_of([](auto& f) { f["operations"] = 3; }), at + " must be a list");
  EXPECT_EQ(error_of([](auto& f) { f["operations"] = nullptr; }), at + " must be a list");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][0] = "rebuild balances at 2s"; }),
            at + "[0] must be a JSON object");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][1].erase("target"); }),
            at + "[1].target is missing");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][0]["kind"] = 7; }),
            at + "[0].kind must be a string");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][0]["kind"] = ""; }),
            at + "[0].kind must name a kind of operation, not \"\"");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][1]["target"] = {"store"}; }),
            at + "[1].target must be a string");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][0]["at_us"] = -1; }),
            at + "[0].at_us must be a whole number from 0 to 2^64 - 1, not -1");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][0]["at_us"] = 2.5; }),
            at + "[0].at_us must be a whole number from 0 to 2^64 - 1, not 2.5");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][1]["at_us"] = 1e30; }),
            at + "[1].at_us must be a whole number from 0 to 2^64 - 1, not 1e+30");
  EXPECT_EQ(error_of([](auto& f) { f["operations"][0]["at_us"] = "2s"; }),
            at + "[0].at_us must be a whole number from 0 to 2^64 - 1, not \"2s\"");
}

TEST(Report, OperationsRoundTripAndAreOptional) {
  const Report r = sample(4, 9);
  const nlohmann::json j = to_json(r);
  EXPECT_EQ(j["scenarios"][0]["failures"][0]["operations"],
            nlohmann::json::parse(R"([{"kind": "rebuild", "target": "balances", "at_us": 2000000},
                                      {"kind": "audit", "target": "store", "at_us": 1000000}])"));
  Report back;
  std::string error;
  ASSERT_TRUE(from_json(j, back, error)) << error;
  EXPECT_EQ(back.scenarios[0].failures[0].operations, r.scenarios[0].failures[0].operations);
  // A seed without operations writes none, and a report without them reads.
  Report none = r;
  none.scenarios[0].failures[0].operations.clear();
  const nlohmann::json without = to_json(none);
  EXPECT_FALSE(without["scenarios"][0]["failures"][0].contains("operations"));
  ASSERT_TRUE(from_json(without, back, error)) << error;
  EXPECT_TRUE(back.scenarios[0].failures[0].operations.empty());
  EXPECT_EQ(summary_markdown(none).find("Operations of this seed"), std::string::npos);
  EXPECT_EQ(report_html(none).find("operations: "), std::string::npos);
}

TEST(Report, OperationsAreDescribedAsScenarioFilesWriteThem) {
  EXPECT_EQ(describe_operations({}), "");
  EXPECT_EQ(describe_operations({{"rebuild", "balances", 2'000'000}, {"audit", "store", 0}}),
            "rebuild balances at 2s, audit store at 0s");
  EXPECT_EQ(describe_operations({{"backup", "store", 2'500'000}}), "backup store at 2500ms");
  EXPECT_EQ(describe_operations({{"restore", "store-2", 1'000'250}}),
            "restore store-2 at 1000250us");
}

TEST(Report, MetricsAreShownInTheirUnits) {
  EXPECT_EQ(format_metric(850, "us"), "850 us");
  EXPECT_EQ(format_metric(2100, "us"), "2.1 ms");
  EXPECT_EQ(format_metric(5040000, "us"), "5.04 s");
  EXPECT_EQ(format_metric(5040, "ms"), "5.04 s");
  EXPECT_EQ(format_metric(114, "x"), "114x");
  EXPECT_EQ(format_metric(44000, ""), "44.0k");
  EXPECT_EQ(format_metric(9999, ""), "9999");
  const std::string md = summary_markdown(sample(4, 0));
  EXPECT_NE(md.find("| `append_p99_us` | 1.2 ms | 900 us | 5.0 ms | 99th percentile |"),
            std::string::npos)
      << md;
  // A p99 without its p50 is not in the line; with nothing else, the line is empty.
  Report r = sample(4, 0);
  EXPECT_EQ(metrics_line(r.scenarios[0]), "");
  r.scenarios[0].metrics.push_back({"append_p50_us", "us", "", 4, 100, 400, 800, {{1, 4}}});
  r.scenarios[0].metrics.push_back({"faults.drop", "", "", 4, 1, 7, 9, {{1, 4}}});
  EXPECT_EQ(metrics_line(r.scenarios[0]), "append p50 400 us p99 1.2 ms, 7 faults");
}

TEST(Report, ThePageIsSelfContainedAndShowsEachScenario) {
  Report r = sample(4, 9);
  r.scenarios[0].name = "calm <b>&</b>";
  const std::string html = report_html(r);
  EXPECT_NE(html.find("data-scenarios=\"2\""), std::string::npos);
  EXPECT_NE(html.find("calm &lt;b&gt;&amp;&lt;/b&gt;"), std::string::npos);
  EXPECT_EQ(html.find("<b>&</b>"), std::string::npos);
  // Nothing to fetch: no script, no stylesheet or image from elsewhere.
  for (const char* outside : {"<script", "src=", "href=\"http", "@import", "url("})
    EXPECT_EQ(html.find(outside), std::string::npos) << outside;
  // The failing seed's replay and its space-time view.
  EXPECT_NE(html.find("essim replay scenarios/calm.yaml --seed 9 --html seed-9.html"),
            std::string::npos);
  // Probe coverage, with what was never reached marked.
  EXPECT_NE(html.find("Coverage probes: 1 of 2 reached"), std::string::npos);
  EXPECT_NE(html.find("<tr class=\"never\" data-probe=\"client.saga-compensated\">"),
            std::string::npos);
  // A chart of the metric's distribution over the seeds.
  EXPECT_NE(html.find("append latency p99 per seed"), std::string::npos);
  EXPECT_NE(html.find("<svg"), std::string::npos);
}

TEST(Report, ThePageDoesNotGrowWithTheSeeds) {
  Report small = sample(4, 0);
  Report large = sample(4, 0);
  large.scenarios[0].seeds_run = 1'000'000;
  for (MetricReport& m : large.scenarios[0].metrics) {
    m.seeds = 1'000'000;
    m.histogram = {{2, 250'000}, {3, 500'000}, {4, 250'000}};
  }
  EXPECT_LT(report_html(large).size(), report_html(small).size() + 64);
}

TEST(Report, ProbesAppearInEveryFile) {
  Report r = sample(4, 0);
  r.scenarios[0].required_probes = {"client.saga-compensated"};
  r.scenarios[0].missing_probes = {"client.saga-compensated"};
  r.scenarios[0].met = false;
  Report back;
  std::string error;
  ASSERT_TRUE(from_json(to_json(r), back, error)) << error;
  EXPECT_EQ(to_json(back), to_json(r));
  const std::string md = summary_markdown(r);
  EXPECT_NE(md.find("calm: 1 of 2 probes never reached: `client.saga-compensated`"),
            std::string::npos)
      << md;
  const std::string junit = junit_xml(r);
  EXPECT_NE(junit.find("<testcase classname=\"calm\" name=\"require_probes\""), std::string::npos);
  EXPECT_NE(junit.find("no seed reached client.saga-compensated"), std::string::npos) << junit;
  EXPECT_NE(junit.find("<testsuite name=\"calm\" tests=\"3\" failures=\"1\""), std::string::npos);
}

TEST(Report, JunitFailsOnlyWhatMissedItsExpectation) {
  const std::string failing = junit_xml(sample(4, 9));
  EXPECT_NE(failing.find("<testsuite name=\"calm\" tests=\"2\" failures=\"1\""), std::string::npos);
  EXPECT_NE(failing.find("seed 9: acct-1 went below zero (replay: essim replay"),
            std::string::npos);
  EXPECT_NE(failing.find("&lt;evidence &amp; more&gt;"), std::string::npos);
  EXPECT_NE(failing.find("<testsuite name=\"bug\" tests=\"1\" failures=\"0\""), std::string::npos);
  EXPECT_NE(failing.find("caught as expected at seed 0"), std::string::npos);
  const std::string missed = junit_xml(sample(4, 0));
  EXPECT_NE(missed.find("expected no_overdraft to be violated within 10 seeds"), std::string::npos);
  EXPECT_NE(missed.find("<testsuite name=\"calm\" tests=\"2\" failures=\"0\""), std::string::npos);
}

TEST(Report, SummaryShowsTheFirstFailure) {
  const std::string md = summary_markdown(sample(4, 9));
  EXPECT_NE(md.find("| calm | pass | ❌ **1 seed(s) failed** | 4 |"), std::string::npos);
  EXPECT_NE(md.find("| bug | `no_overdraft` within 10 seeds | ✅ caught at seed 0 |"),
            std::string::npos);
  EXPECT_NE(md.find("Replay: `essim replay scenarios/calm.yaml --seed 9`"), std::string::npos);
  EXPECT_NE(md.find("Swarm mix of this seed: crashes 3/4, drop off, torn_writes on"),
            std::string::npos);
  EXPECT_NE(report_html(sample(4, 9)).find("swarm mix: crashes 3/4, drop off, torn_writes on"),
            std::string::npos);
  EXPECT_NE(md.find("Operations of this seed: rebuild balances at 2s, audit store at 1s"),
            std::string::npos);
  EXPECT_NE(report_html(sample(4, 9)).find("operations: rebuild balances at 2s, audit store at 1s"),
            std::string::npos);
  EXPECT_NE(junit_xml(sample(4, 9)).find("operations: rebuild balances at 2s, audit store at 1s"),
            std::string::npos);
  // Names are the scenario's: escaped on the page like the rest.
  Report r = sample(4, 9);
  r.scenarios[0].failures[0].operations[0].target = "<b>&";
  const std::string html = report_html(r);
  EXPECT_NE(html.find("operations: rebuild &lt;b&gt;&amp; at 2s"), std::string::npos);
  EXPECT_EQ(html.find("<b>&"), std::string::npos);
}

TEST(Report, NamesThatAreNotUtf8AreWrittenNotThrown) {
  Report r = sample(4, 9);
  r.scenarios[0].failures[0].evidence.push_back("payload \xff\xfe");
  const std::string dir = ::testing::TempDir() + "/essim-report-utf8";
  EXPECT_EQ(write_report_dir(r, dir), "");
}

}  // namespace
}  // namespace essim::reports

#include "reports/viewer.h"

namespace essim::reports {
namespace {

ViewerTrace tiny() {
  ViewerTrace t;
  t.title = "t </script><b>";
  t.nodes = {"a", "b"};
  t.steps = {{0, 0, "send", 0, 1, 1, 0, ""},
             {1, 5, "deliver", 1, 0, 1, 0, ""},
             {2, 6, "send", 1, 0, 2, 0, ""},
             {3, 9, "deliver", 0, 1, 2, 0, ""},
             {4, 9, "note", 0, -1, 7, 1, "ack"}};
  t.highlight_steps = {4};
  return t;
}

TEST(Viewer, IsOneSelfContainedPageWithTheDataInside) {
  const std::string html = viewer_html(tiny());
  EXPECT_EQ(html.find("/*ESSIM_DATA*/"), std::string::npos);
  EXPECT_NE(html.find("\"nodes\":[\"a\",\"b\"]"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  // A title cannot close the data's script element.
  EXPECT_EQ(html.find("t </script>"), std::string::npos);
}

TEST(Viewer, NamesCannotOpenOrCloseElements) {
  ViewerTrace t = tiny();
  t.nodes[0] = "<!--<script>";
  t.verdict = {"</script><script>alert(1)</script>"};
  const std::string html = viewer_html(t);
  EXPECT_EQ(html.find("<!--<script>"), std::string::npos);
  EXPECT_EQ(html.find("alert(1)</script>"), std::string::npos);
  EXPECT_NE(html.find("\\u003c!--\\u003cscript\\u003e"), std::string::npos);
}

TEST(Viewer, OperationsAreInTheDataAndCannotCloseIt) {
  ViewerTrace t = tiny();
  EXPECT_NE(viewer_html(t).find("\"operations\":[]"), std::string::npos);
  t.operations = {{3, "rebuild </script><b>", "operation: rebuild at 3us"}};
  const std::string html = viewer_html(t);
  EXPECT_NE(html.find("{\"at_us\":3,\"detail\":\"operation: rebuild at 3us\","
                      "\"label\":\"rebuild \\u003c/script\\u003e\\u003cb\\u003e\"}"),
            std::string::npos);
  EXPECT_EQ(html.find("rebuild </script>"), std::string::npos);
  // The page draws them and lists them.
  EXPECT_NE(html.find("data.operations"), std::string::npos);
  EXPECT_NE(html.find("id=\"operations\""), std::string::npos);
}

TEST(Viewer, ShivizHostsHaveNoSpacesAndEventsOneLine) {
  ViewerTrace t = tiny();
  t.nodes = {"a b", "a\nb"};
  t.steps.push_back({5, 10, "note", 0, -1, 0, 0, "two\nlines"});
  const std::string log = shiviz_log(t);
  EXPECT_NE(log.find("send #1 to a_b#1\na_b {"), std::string::npos) << log;  // kept distinct
  EXPECT_NE(log.find("note two lines\na_b {"), std::string::npos) << log;
  EXPECT_EQ(log.find("a\nb"), std::string::npos);
}

TEST(Viewer, ShivizClocksFollowMessages) {
  const std::string log = shiviz_log(tiny());
  EXPECT_EQ(log.rfind("(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})\n\n", 0), 0U);
  EXPECT_NE(log.find("send #1 to b\na {\"a\":1}"), std::string::npos);
  EXPECT_NE(log.find("receive #1 from a\nb {\"a\":1,\"b\":1}"), std::string::npos);
  EXPECT_NE(log.find("receive #2 from b\na {\"a\":2,\"b\":2}"), std::string::npos);
}

}  // namespace
}  // namespace essim::reports
