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
  pass.properties = {"no_overdraft", "money_conserved"};
  if (failing_seed != 0) {
    pass.seeds_failed = 1;
    pass.violated = {{"no_overdraft", 1}};
    pass.failures.push_back({failing_seed,
                             "0x01",
                             "no_overdraft",
                             "acct-1 went below zero",
                             {"after: <evidence & more>"},
                             "essim replay scenarios/calm.yaml --seed 9"});
  }
  pass.met = failing_seed == 0;
  ScenarioReport bug;
  bug.name = "bug";
  bug.file = "scenarios/bugs/bug.yaml";
  bug.domain = "bank";
  bug.expected_violation = "no_overdraft";
  bug.within_seeds = 10;
  bug.seeds_run = 2;
  bug.caught_at_seed = failing_seed == 0 ? 0 : failing_seed + 1;
  bug.met = bug.caught_at_seed != 0;
  bug.properties = {"no_overdraft"};
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
  EXPECT_FALSE(from_json(nlohmann::json{{"schema_version", 99}}, back, error));
  EXPECT_NE(error.find("schema_version"), std::string::npos);
  EXPECT_FALSE(from_json(nlohmann::json{{"schema_version", 1}}, back, error));
}

TEST(Report, JunitFailsOnlyWhatMissedItsExpectation) {
  const std::string failing = junit_xml(sample(4, 9));
  EXPECT_NE(failing.find("<testsuite name=\"calm\" tests=\"2\" failures=\"1\""), std::string::npos);
  EXPECT_NE(failing.find("seed 9: acct-1 went below zero (replay: essim replay"),
            std::string::npos);
  EXPECT_NE(failing.find("&lt;evidence &amp; more&gt;"), std::string::npos);
  EXPECT_NE(failing.find("<testsuite name=\"bug\" tests=\"1\" failures=\"0\""), std::string::npos);
  const std::string missed = junit_xml(sample(4, 0));
  EXPECT_NE(missed.find("expected no_overdraft to be violated within 10 seeds"), std::string::npos);
  EXPECT_NE(missed.find("<testsuite name=\"calm\" tests=\"2\" failures=\"0\""), std::string::npos);
}

TEST(Report, MergeAddsShardsUp) {
  const Report merged = merge({sample(4, 9), sample(3, 0)});
  ASSERT_EQ(merged.scenarios.size(), 2U);
  EXPECT_EQ(merged.scenarios[0].seeds_run, 7U);
  EXPECT_EQ(merged.scenarios[0].seeds_failed, 1U);
  EXPECT_FALSE(merged.scenarios[0].met);
  EXPECT_EQ(merged.scenarios[1].caught_at_seed, 10U);
  EXPECT_TRUE(merged.scenarios[1].met);
}

TEST(Report, SummaryShowsTheFirstFailure) {
  const std::string md = summary_markdown(sample(4, 9));
  EXPECT_NE(md.find("| calm | pass | ❌ **1 seed(s) failed** | 4 |"), std::string::npos);
  EXPECT_NE(md.find("Replay: `essim replay scenarios/calm.yaml --seed 9`"), std::string::npos);
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

TEST(Viewer, ShivizClocksFollowMessages) {
  const std::string log = shiviz_log(tiny());
  EXPECT_EQ(log.rfind("(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})\n\n", 0), 0U);
  EXPECT_NE(log.find("send #1 to b\na {\"a\":1}"), std::string::npos);
  EXPECT_NE(log.find("receive #1 from a\nb {\"a\":1,\"b\":1}"), std::string::npos);
  EXPECT_NE(log.find("receive #2 from b\na {\"a\":2,\"b\":2}"), std::string::npos);
}

}  // namespace
}  // namespace essim::reports
