#include "cli/shard.h"

#include <vector>

#include <fmt/format.h>

#include "cli/args.h"
#include "sim/assert.h"

namespace essim::cli {

namespace {

// The longest part of a variable's value a message shows.
constexpr std::size_t kShownBytesMax = 40;

// A value as a message shows it: control characters escaped, long ones cut.
std::string shown(std::string_view value) {
  std::string out;
  for (std::size_t i = 0; i < value.size(); ++i) {
    if (out.size() >= kShownBytesMax) {
      // Cut before a UTF-8 continuation byte, not inside a character.
      while (i < value.size() && (static_cast<unsigned char>(value[i]) & 0xC0) == 0x80) ++i;
      if (i < value.size()) out += "...";
      break;
    }
    const auto c = static_cast<unsigned char>(value[i]);
    if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

// One variable that is set.
struct Var {
  std::string_view name;
  std::string value;
  std::string named() const { return fmt::format("{}={}", name, shown(value)); }
};

std::optional<Var> lookup(const EnvLookup& env, std::string_view name) {
  auto value = env(name);
  if (!value) return std::nullopt;
  return Var{name, std::move(*value)};
}

// `v` as a whole number, or an error saying what `v` should hold.
sim::Result<std::uint64_t> number(const Var& v, std::string_view should_be) {
  const auto n = parse_u64(v.value);
  if (!n)
    return sim::Error{fmt::format("{} is '{}': not a whole number; it should be {}", v.name,
                                  shown(v.value), should_be)};
  return *n;
}

// A count: a whole number from 1.
sim::Result<std::uint64_t> count_of(const Var& v, std::string_view should_be) {
  auto n = number(v, should_be);
  if (n.ok() && n.value() == 0)
    return sim::Error{fmt::format("{} is 0; it should be {}, at least 1", v.name, should_be)};
  return n;
}

// The count a user gave for a Kubernetes Job: --shard-count or
// ESSIM_SHARD_COUNT (both: the same), with how to name it; nullopt if neither.
struct GivenCount {
  std::uint64_t count = 0;
  std::string named;
};

sim::Result<std::optional<GivenCount>> given_count(const EnvLookup& env,
                                                   std::optional<std::uint64_t> flag) {
  const std::optional<Var> var = lookup(env, "ESSIM_SHARD_COUNT");
  std::optional<GivenCount> from_var;
  if (var) {
    auto n = count_of(*var, "the number of shards (a Kubernetes Job's .spec.completions)");
    if (!n.ok()) return n.error();
    from_var = GivenCount{n.value(), var->named()};
  }
  if (!flag) return from_var;
  if (*flag == 0) return sim::Error{"--shard-count is 0; it should be at least 1"};
  if (from_var && from_var->count != *flag)
    return sim::Error{
        fmt::format("--shard-count {} and {} disagree; give one of them", *flag, from_var->named)};
  return std::optional<GivenCount>{GivenCount{*flag, fmt::format("--shard-count {}", *flag)}};
}

// What one scheduler's variables give.
struct Candidate {
  std::uint64_t index = 0;
  std::uint64_t count = 1;
  std::string_view scheduler;
  std::string source;
  bool count_is_given = false;  // the count came from GivenCount, not the scheduler
};

using Found = sim::Result<std::optional<Candidate>>;

Found kubernetes(const EnvLookup& env, const std::optional<GivenCount>& given) {
  const std::optional<Var> index = lookup(env, "JOB_COMPLETION_INDEX");
  if (!index) return std::optional<Candidate>{};
  const auto i = number(*index, "the pod's index in a Kubernetes Indexed Job, from 0");
  if (!i.ok()) return i.error();
  if (!given)
    return sim::Error{fmt::format(
        "{} (a Kubernetes Indexed Job) gives the index, but Kubernetes does not put the Job's "
        "count (.spec.completions) in the pod: give --shard-count N or set ESSIM_SHARD_COUNT",
        index->named())};
  if (i.value() >= given->count)
    return sim::Error{fmt::format(
        "{} is not below the count {} ({}); give the Job's .spec.completions as the count",
        index->named(), given->count, given->named)};
  return std::optional<Candidate>{
      Candidate{.index = i.value(),
                .count = given->count,
                .scheduler = "Kubernetes",
                .source = fmt::format("Kubernetes {}, {}", index->named(), given->named),
                .count_is_given = true}};
}

// A scheduler that sets an index and a count, `first` the number of its first index.
struct Pair {
  std::string_view scheduler;
  std::string_view index;
  std::string_view count;
  std::uint64_t first = 0;
};

Found pair(const EnvLookup& env, const Pair& p) {
  const std::optional<Var> index = lookup(env, p.index);
  const std::optional<Var> count = lookup(env, p.count);
  if (!index && !count) return std::optional<Candidate>{};
  if (p.first == 1 && !index && count && count->value == "1") {
    // GitLab sets CI_NODE_TOTAL=1 in a job without parallel:, and no index.
    return std::optional<Candidate>{
        Candidate{.index = 0,
                  .count = 1,
                  .scheduler = p.scheduler,
                  .source = fmt::format("{} {} (no parallel:)", p.scheduler, count->named())}};
  }
  if (!index || !count) {
    const Var& set = index ? *index : *count;
    return sim::Error{fmt::format("{} is set but {} is not; {} sets both in a parallel job",
                                  set.named(), index ? p.count : p.index, p.scheduler)};
  }
  const auto n = count_of(*count, fmt::format("the number of {} parallel jobs", p.scheduler));
  if (!n.ok()) return n.error();
  const std::string index_range = p.first == 0 ? fmt::format("from 0 to {} - 1", p.count)
                                               : fmt::format("from 1 to {}", p.count);
  const auto i = number(*index, fmt::format("this job's index, {}", index_range));
  if (!i.ok()) return i.error();
  if (i.value() < p.first)
    return sim::Error{
        fmt::format("{} is 0, but {} counts from 1 (to {}); is it another scheduler's index?",
                    p.index, p.scheduler, p.count)};
  const std::uint64_t zero_based = i.value() - p.first;
  if (zero_based >= n.value())
    return sim::Error{fmt::format("{} is {} {}: it should be {}", index->named(),
                                  p.first == 0 ? "not below" : "past", count->named(),
                                  index_range)};
  return std::optional<Candidate>{
      Candidate{.index = zero_based,
                .count = n.value(),
                .scheduler = p.scheduler,
                .source = fmt::format("{} {}, {}", p.scheduler, index->named(), count->named())}};
}

constexpr Pair kGitLab{"GitLab", "CI_NODE_INDEX", "CI_NODE_TOTAL", 1};
constexpr Pair kCircleCi{"CircleCI", "CIRCLE_NODE_INDEX", "CIRCLE_NODE_TOTAL", 0};
constexpr Pair kBuildkite{"Buildkite", "BUILDKITE_PARALLEL_JOB", "BUILDKITE_PARALLEL_JOB_COUNT", 0};

// The one shard every candidate gives, or why not. REQUIRES: !found.empty().
sim::Result<AutoShard> agreed(const std::vector<Candidate>& found,
                              const std::optional<GivenCount>& given) {
  ESSIM_ASSERT(!found.empty());
  const Candidate& first = found.front();
  ESSIM_ASSERT(first.index < first.count);
  AutoShard out{first.index, first.count, first.source};
  for (std::size_t i = 1; i < found.size(); ++i) {
    const Candidate& c = found[i];
    if (c.index != first.index || c.count != first.count)
      return sim::Error{fmt::format(
          "{} gives shard {}/{} but {} gives shard {}/{}; unset the variables of the scheduler "
          "that is not running this job, or give --shard I/N",
          first.source, first.index, first.count, c.source, c.index, c.count)};
    out.source += " and " + c.source;
  }
  for (const Candidate& c : found) {
    if (given && !c.count_is_given && given->count != c.count)
      return sim::Error{fmt::format("{} disagrees with {}; remove {} ({} gives its own count)",
                                    given->named, c.source, given->named, c.scheduler)};
  }
  return out;
}

}  // namespace

sim::Result<AutoShard> shard_from_environment(const EnvLookup& env,
                                              std::optional<std::uint64_t> shard_count) {
  const auto given = given_count(env, shard_count);
  if (!given.ok()) return given.error();
  std::vector<Candidate> found;
  for (const Found& f : {kubernetes(env, given.value()), pair(env, kGitLab), pair(env, kCircleCi),
                         pair(env, kBuildkite)}) {
    if (!f.ok()) return f.error();
    if (f.value()) found.push_back(*f.value());
  }
  if (!found.empty()) return agreed(found, given.value());
  if (given.value())
    return sim::Error{fmt::format(
        "{} gives the count but no variable gives the index: in a Kubernetes Indexed Job, "
        "JOB_COMPLETION_INDEX does; elsewhere give --shard I/N",
        given.value()->named)};
  return sim::Error{
      "no scheduler's shard variables are set: run it as a parallel job of one of them, or give "
      "--shard I/N"};
}

}  // namespace essim::cli
