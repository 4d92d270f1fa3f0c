#pragma once
// `--shard I/N`: shard I of N takes every N-th seed. `--shard auto`: I and N
// from the variables a job scheduler sets in each of N parallel jobs.

#include <charconv>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "sim/result.h"

namespace essim::cli {

// Reads `I/N` with 0 <= I < N.
inline bool parse_shard(std::string_view text, std::uint64_t& index, std::uint64_t& count) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  const char* end = text.data() + text.size();
  const auto a = std::from_chars(text.data(), text.data() + slash, index);
  const auto b = std::from_chars(text.data() + slash + 1, end, count);
  return a.ec == std::errc{} && a.ptr == text.data() + slash && b.ec == std::errc{} &&
         b.ptr == end && count > 0 && index < count;
}

// The variables `--shard auto` reads, by scheduler, for help and messages.
inline constexpr std::string_view kShardVariables =
    "Kubernetes Indexed Job JOB_COMPLETION_INDEX (0-based; the count from --shard-count N or "
    "ESSIM_SHARD_COUNT), GitLab parallel: CI_NODE_INDEX/CI_NODE_TOTAL (1-based), CircleCI "
    "CIRCLE_NODE_INDEX/CIRCLE_NODE_TOTAL, Buildkite "
    "BUILDKITE_PARALLEL_JOB/BUILDKITE_PARALLEL_JOB_COUNT";

// A shard and where it came from, e.g. "GitLab CI_NODE_INDEX=3, CI_NODE_TOTAL=3".
struct AutoShard {
  std::uint64_t index = 0;
  std::uint64_t count = 1;
  std::string source;
};

// An environment variable's value (possibly empty), or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// `--shard auto`: the shard the variables of kShardVariables give, reading
// them only through `env`. `shard_count` is --shard-count, if given; it and
// ESSIM_SHARD_COUNT give a Kubernetes Job's count (Kubernetes does not put
// .spec.completions in the pod) and, for the other schedulers, must agree
// with theirs. Every scheduler whose variables are set must give the same
// shard. An error names the variable, its value and what to do: a variable
// missing from its pair, not a whole number, an index not below the count, a
// count of 0, GitLab's 1-based index 0, schedulers that disagree, or none set.
sim::Result<AutoShard> shard_from_environment(const EnvLookup& env,
                                              std::optional<std::uint64_t> shard_count);

}  // namespace essim::cli
