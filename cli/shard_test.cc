#include "cli/shard.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <map>
#include <string>

namespace essim::cli {
namespace {

using Vars = std::map<std::string, std::string, std::less<>>;

sim::Result<AutoShard> resolve(const Vars& vars, std::optional<std::uint64_t> flag = {}) {
  const EnvLookup env = [&vars](std::string_view name) -> std::optional<std::string> {
    const auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  return shard_from_environment(env, flag);
}

// The error's message, or a failure naming the shard that was accepted.
std::string error_of(const Vars& vars, std::optional<std::uint64_t> flag = {}) {
  const auto r = resolve(vars, flag);
  if (r.ok()) {
    ADD_FAILURE() << "accepted as shard " << r.value().index << "/" << r.value().count << " from "
                  << r.value().source;
    return "";
  }
  return r.error().message;
}

void expect_shard(const Vars& vars, std::optional<std::uint64_t> flag, std::uint64_t index,
                  std::uint64_t count, std::string_view source) {
  const auto r = resolve(vars, flag);
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().index, index);
  EXPECT_EQ(r.value().count, count);
  EXPECT_EQ(r.value().source, source);
}

// ---- hostile environments: each is refused, naming the variable and its value ----

TEST(ShardFromEnvironment, NothingSetSaysWhatItReads) {
  const std::string e = error_of({{"PATH", "/bin"}, {"CI", "true"}});
  EXPECT_NE(e.find("no scheduler's shard variables are set"), std::string::npos) << e;
  EXPECT_NE(e.find("--shard I/N"), std::string::npos) << e;
}

TEST(ShardFromEnvironment, CountAloneIsNotAShard) {
  const std::string e = error_of({{"ESSIM_SHARD_COUNT", "3"}});
  EXPECT_NE(e.find("ESSIM_SHARD_COUNT=3 gives the count but no variable gives the index"),
            std::string::npos)
      << e;
  const std::string f = error_of({}, 3);
  EXPECT_NE(f.find("--shard-count 3 gives the count but no variable gives the index"),
            std::string::npos)
      << f;
}

TEST(ShardFromEnvironment, KubernetesWithoutCount) {
  const std::string e = error_of({{"JOB_COMPLETION_INDEX", "1"}});
  EXPECT_NE(e.find("JOB_COMPLETION_INDEX=1"), std::string::npos) << e;
  EXPECT_NE(e.find("--shard-count N"), std::string::npos) << e;
  EXPECT_NE(e.find("ESSIM_SHARD_COUNT"), std::string::npos) << e;
  EXPECT_NE(e.find("completions"), std::string::npos) << e;
}

TEST(ShardFromEnvironment, NotWholeNumbers) {
  for (const char* bad :
       {"", "abc", "-1", "+1", " 1", "1 ", "1.0", "0x1", "1e3", "١", "18446744073709551616"}) {
    SCOPED_TRACE(bad);
    const std::string shown = std::string("'") + bad + "'";
    const std::string k = error_of({{"JOB_COMPLETION_INDEX", bad}}, 3);
    EXPECT_NE(k.find("JOB_COMPLETION_INDEX is " + shown), std::string::npos) << k;
    const std::string g = error_of({{"CI_NODE_INDEX", "1"}, {"CI_NODE_TOTAL", bad}});
    EXPECT_NE(g.find("CI_NODE_TOTAL is " + shown), std::string::npos) << g;
    const std::string c = error_of({{"CIRCLE_NODE_INDEX", bad}, {"CIRCLE_NODE_TOTAL", "2"}});
    EXPECT_NE(c.find("CIRCLE_NODE_INDEX is " + shown), std::string::npos) << c;
    const std::string b =
        error_of({{"BUILDKITE_PARALLEL_JOB", "0"}, {"BUILDKITE_PARALLEL_JOB_COUNT", bad}});
    EXPECT_NE(b.find("BUILDKITE_PARALLEL_JOB_COUNT is " + shown), std::string::npos) << b;
    const std::string s = error_of({{"JOB_COMPLETION_INDEX", "0"}, {"ESSIM_SHARD_COUNT", bad}});
    EXPECT_NE(s.find("ESSIM_SHARD_COUNT is " + shown), std::string::npos) << s;
  }
}

TEST(ShardFromEnvironment, ValuesAreShownSafely) {
  const std::string e = error_of({{"CI_NODE_INDEX", "1\n\033[2Jx"}, {"CI_NODE_TOTAL", "2"}});
  EXPECT_EQ(e.find('\033'), std::string::npos) << e;
  EXPECT_NE(e.find("CI_NODE_INDEX is '1\\n\\x1b[2Jx'"), std::string::npos) << e;
  const std::string long_value(10000, '7');
  const std::string l = error_of({{"CIRCLE_NODE_INDEX", long_value}, {"CIRCLE_NODE_TOTAL", "2"}});
  EXPECT_LT(l.size(), 1000u) << l;
  EXPECT_NE(l.find("..."), std::string::npos) << l;
}

TEST(ShardFromEnvironment, HalfAPair) {
  for (const auto& [set, missing] : std::map<std::string, std::string>{
           {"CI_NODE_INDEX", "CI_NODE_TOTAL"},
           {"CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL"},
           {"CIRCLE_NODE_TOTAL", "CIRCLE_NODE_INDEX"},
           {"BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT"},
           {"BUILDKITE_PARALLEL_JOB_COUNT", "BUILDKITE_PARALLEL_JOB"}}) {
    const std::string e = error_of({{set, "2"}});
    EXPECT_NE(e.find(set + "=2 is set but " + missing + " is not"), std::string::npos) << e;
  }
  // GitLab sets CI_NODE_TOTAL=1 in every job, CI_NODE_INDEX only with parallel:.
  const std::string g = error_of({{"CI_NODE_TOTAL", "3"}});
  EXPECT_NE(g.find("CI_NODE_TOTAL=3 is set but CI_NODE_INDEX is not"), std::string::npos) << g;
}

TEST(ShardFromEnvironment, CountZero) {
  const std::string c = error_of({{"CIRCLE_NODE_INDEX", "0"}, {"CIRCLE_NODE_TOTAL", "0"}});
  EXPECT_NE(c.find("CIRCLE_NODE_TOTAL is 0"), std::string::npos) << c;
  const std::string g = error_of({{"CI_NODE_INDEX", "1"}, {"CI_NODE_TOTAL", "0"}});
  EXPECT_NE(g.find("CI_NODE_TOTAL is 0"), std::string::npos) << g;
  const std::string b =
      error_of({{"BUILDKITE_PARALLEL_JOB", "0"}, {"BUILDKITE_PARALLEL_JOB_COUNT", "0"}});
  EXPECT_NE(b.find("BUILDKITE_PARALLEL_JOB_COUNT is 0"), std::string::npos) << b;
  const std::string s = error_of({{"JOB_COMPLETION_INDEX", "0"}, {"ESSIM_SHARD_COUNT", "0"}});
  EXPECT_NE(s.find("ESSIM_SHARD_COUNT is 0"), std::string::npos) << s;
}

TEST(ShardFromEnvironment, IndexNotBelowCount) {
  const std::string c = error_of({{"CIRCLE_NODE_INDEX", "2"}, {"CIRCLE_NODE_TOTAL", "2"}});
  EXPECT_NE(c.find("CIRCLE_NODE_INDEX=2 is not below CIRCLE_NODE_TOTAL=2"), std::string::npos) << c;
  const std::string b =
      error_of({{"BUILDKITE_PARALLEL_JOB", "5"}, {"BUILDKITE_PARALLEL_JOB_COUNT", "3"}});
  EXPECT_NE(b.find("BUILDKITE_PARALLEL_JOB=5 is not below BUILDKITE_PARALLEL_JOB_COUNT=3"),
            std::string::npos)
      << b;
  const std::string k = error_of({{"JOB_COMPLETION_INDEX", "3"}}, 3);
  EXPECT_NE(k.find("JOB_COMPLETION_INDEX=3 is not below the count 3 (--shard-count 3)"),
            std::string::npos)
      << k;
  const std::string e = error_of({{"JOB_COMPLETION_INDEX", "4"}, {"ESSIM_SHARD_COUNT", "4"}});
  EXPECT_NE(e.find("JOB_COMPLETION_INDEX=4 is not below the count 4 (ESSIM_SHARD_COUNT=4)"),
            std::string::npos)
      << e;
}

TEST(ShardFromEnvironment, GitLabCountsFromOne) {
  const std::string zero = error_of({{"CI_NODE_INDEX", "0"}, {"CI_NODE_TOTAL", "3"}});
  EXPECT_NE(zero.find("CI_NODE_INDEX is 0, but GitLab counts from 1"), std::string::npos) << zero;
  const std::string past = error_of({{"CI_NODE_INDEX", "4"}, {"CI_NODE_TOTAL", "3"}});
  EXPECT_NE(past.find("CI_NODE_INDEX=4 is past CI_NODE_TOTAL=3"), std::string::npos) << past;
}

TEST(ShardFromEnvironment, SchedulersThatDisagree) {
  const std::string e = error_of({{"CI_NODE_INDEX", "2"},
                                  {"CI_NODE_TOTAL", "3"},
                                  {"CIRCLE_NODE_INDEX", "0"},
                                  {"CIRCLE_NODE_TOTAL", "3"}});
  EXPECT_NE(e.find("GitLab CI_NODE_INDEX=2, CI_NODE_TOTAL=3 gives shard 1/3"), std::string::npos)
      << e;
  EXPECT_NE(e.find("CircleCI CIRCLE_NODE_INDEX=0, CIRCLE_NODE_TOTAL=3 gives shard 0/3"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("unset"), std::string::npos) << e;
  // A GitLab job without parallel: (CI_NODE_TOTAL=1) inside a Kubernetes Indexed Job.
  const std::string k =
      error_of({{"JOB_COMPLETION_INDEX", "1"}, {"ESSIM_SHARD_COUNT", "2"}, {"CI_NODE_TOTAL", "1"}});
  EXPECT_NE(k.find("gives shard 1/2"), std::string::npos) << k;
  EXPECT_NE(k.find("GitLab CI_NODE_TOTAL=1 (no parallel:) gives shard 0/1"), std::string::npos)
      << k;
}

TEST(ShardFromEnvironment, CountsThatDisagree) {
  const std::string both = error_of({{"JOB_COMPLETION_INDEX", "0"}, {"ESSIM_SHARD_COUNT", "4"}}, 3);
  EXPECT_NE(both.find("--shard-count 3 and ESSIM_SHARD_COUNT=4 disagree"), std::string::npos)
      << both;
  const std::string gitlab = error_of({{"CI_NODE_INDEX", "1"}, {"CI_NODE_TOTAL", "3"}}, 4);
  EXPECT_NE(gitlab.find("--shard-count 4 disagrees with GitLab CI_NODE_INDEX=1, CI_NODE_TOTAL=3; "
                        "remove --shard-count 4 (GitLab gives its own count)"),
            std::string::npos)
      << gitlab;
  const std::string env = error_of({{"BUILDKITE_PARALLEL_JOB", "1"},
                                    {"BUILDKITE_PARALLEL_JOB_COUNT", "3"},
                                    {"ESSIM_SHARD_COUNT", "2"}});
  EXPECT_NE(env.find("remove ESSIM_SHARD_COUNT=2 (Buildkite gives its own count)"),
            std::string::npos)
      << env;
}

TEST(ShardFromEnvironment, AnErrorInOneSchedulerIsNotHiddenByAnother) {
  const std::string e = error_of({{"CI_NODE_INDEX", "1"},
                                  {"CI_NODE_TOTAL", "2"},
                                  {"BUILDKITE_PARALLEL_JOB", "x"},
                                  {"BUILDKITE_PARALLEL_JOB_COUNT", "2"}});
  EXPECT_NE(e.find("BUILDKITE_PARALLEL_JOB is 'x'"), std::string::npos) << e;
}

// ---- what each scheduler sets ----

TEST(ShardFromEnvironment, Kubernetes) {
  expect_shard({{"JOB_COMPLETION_INDEX", "2"}}, 3, 2, 3,
               "Kubernetes JOB_COMPLETION_INDEX=2, --shard-count 3");
  expect_shard({{"JOB_COMPLETION_INDEX", "0"}, {"ESSIM_SHARD_COUNT", "1"}}, {}, 0, 1,
               "Kubernetes JOB_COMPLETION_INDEX=0, ESSIM_SHARD_COUNT=1");
  // Given twice and the same: fine.
  expect_shard({{"JOB_COMPLETION_INDEX", "1"}, {"ESSIM_SHARD_COUNT", "2"}}, 2, 1, 2,
               "Kubernetes JOB_COMPLETION_INDEX=1, --shard-count 2");
}

TEST(ShardFromEnvironment, GitLab) {
  expect_shard({{"CI_NODE_INDEX", "3"}, {"CI_NODE_TOTAL", "3"}}, {}, 2, 3,
               "GitLab CI_NODE_INDEX=3, CI_NODE_TOTAL=3");
  expect_shard({{"CI_NODE_INDEX", "01"}, {"CI_NODE_TOTAL", "2"}}, 2, 0, 2,
               "GitLab CI_NODE_INDEX=01, CI_NODE_TOTAL=2");
  expect_shard({{"CI_NODE_TOTAL", "1"}}, {}, 0, 1, "GitLab CI_NODE_TOTAL=1 (no parallel:)");
}

TEST(ShardFromEnvironment, CircleCI) {
  expect_shard({{"CIRCLE_NODE_INDEX", "0"}, {"CIRCLE_NODE_TOTAL", "4"}}, {}, 0, 4,
               "CircleCI CIRCLE_NODE_INDEX=0, CIRCLE_NODE_TOTAL=4");
}

TEST(ShardFromEnvironment, Buildkite) {
  expect_shard({{"BUILDKITE_PARALLEL_JOB", "4"}, {"BUILDKITE_PARALLEL_JOB_COUNT", "5"}}, {}, 4, 5,
               "Buildkite BUILDKITE_PARALLEL_JOB=4, BUILDKITE_PARALLEL_JOB_COUNT=5");
}

TEST(ShardFromEnvironment, SchedulersThatAgreeAreNamedTogether) {
  expect_shard({{"CI_NODE_INDEX", "2"},
                {"CI_NODE_TOTAL", "2"},
                {"CIRCLE_NODE_INDEX", "1"},
                {"CIRCLE_NODE_TOTAL", "2"}},
               2, 1, 2,
               "GitLab CI_NODE_INDEX=2, CI_NODE_TOTAL=2 and CircleCI CIRCLE_NODE_INDEX=1, "
               "CIRCLE_NODE_TOTAL=2");
}

TEST(ShardFromEnvironment, LargestNumbers) {
  expect_shard({{"CIRCLE_NODE_INDEX", "18446744073709551614"},
                {"CIRCLE_NODE_TOTAL", "18446744073709551615"}},
               {}, UINT64_MAX - 1, UINT64_MAX,
               "CircleCI CIRCLE_NODE_INDEX=18446744073709551614, "
               "CIRCLE_NODE_TOTAL=18446744073709551615");
  expect_shard(
      {{"CI_NODE_INDEX", "18446744073709551615"}, {"CI_NODE_TOTAL", "18446744073709551615"}}, {},
      UINT64_MAX - 1, UINT64_MAX,
      "GitLab CI_NODE_INDEX=18446744073709551615, CI_NODE_TOTAL=18446744073709551615");
}

// Every scheduler gives shard I of N for the same I and N, each in its own
// convention, and refuses an index not below the count.
RC_GTEST_PROP(ShardFromEnvironment, EverySchedulerReadsTheSameShard, ()) {
  const auto count = *rc::gen::inRange<std::uint64_t>(1, 1000);
  const auto index = *rc::gen::inRange<std::uint64_t>(0, 1100);
  const std::string i = std::to_string(index);
  const std::string n = std::to_string(count);
  const std::vector<Vars> each{
      {{"JOB_COMPLETION_INDEX", i}, {"ESSIM_SHARD_COUNT", n}},
      {{"CI_NODE_INDEX", std::to_string(index + 1)}, {"CI_NODE_TOTAL", n}},
      {{"CIRCLE_NODE_INDEX", i}, {"CIRCLE_NODE_TOTAL", n}},
      {{"BUILDKITE_PARALLEL_JOB", i}, {"BUILDKITE_PARALLEL_JOB_COUNT", n}}};
  Vars all;
  for (const Vars& vars : each) {
    const auto r = resolve(vars);
    RC_ASSERT(r.ok() == (index < count));
    if (!r.ok()) continue;
    RC_ASSERT(r.value().index == index);
    RC_ASSERT(r.value().count == count);
    all.insert(vars.begin(), vars.end());
  }
  if (index < count) RC_ASSERT(resolve(all).ok());
}

}  // namespace
}  // namespace essim::cli
