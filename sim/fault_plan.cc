#include "sim/fault_plan.h"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "sim/assert.h"

namespace essim::sim {

std::string_view to_string(FaultKind kind) {
  switch (kind) {
    case FaultKind::kCrash:
      return "crash";
    case FaultKind::kRestart:
      return "restart";
    case FaultKind::kPartition:
      return "partition";
    case FaultKind::kHeal:
      return "heal";
    case FaultKind::kClog:
      return "clog";
  }
  return "unknown";
}

namespace {

Result<bool> check_spacing(const char* family, const DurationRange& every) {
  if (every.min_us <= 0 || every.max_us < every.min_us) {
    return Error{fmt::format("faults.{}.every must be a range of positive durations, not {}..{}",
                             family, format_duration(every.min_us), format_duration(every.max_us))};
  }
  return true;
}

Result<bool> check_length(const char* what, const DurationRange& range) {
  if (range.min_us < 0 || range.max_us < range.min_us) {
    return Error{fmt::format("{} must be a range 0 <= min <= max, not {}..{}", what,
                             format_duration(range.min_us), format_duration(range.max_us))};
  }
  return true;
}

Result<bool> check_nodes(const char* what, const std::vector<NodeId>& nodes, NodeId count,
                         std::size_t at_least) {
  if (nodes.size() < at_least) {
    return Error{fmt::format("{} needs at least {} node(s), has {}", what, at_least, nodes.size())};
  }
  for (const NodeId n : nodes) {
    if (n >= count) return Error{fmt::format("{} names node {}, which does not exist", what, n)};
  }
  return true;
}

Micros draw(Rng& rng, const DurationRange& range) {
  return rng.between(range.min_us, range.max_us);
}

}  // namespace

Result<bool> FaultConfig::validate(NodeId node_count) const {
  if (crashes.enabled) {
    if (auto r = check_spacing("crashes", crashes.every); !r) return r;
    if (auto r = check_length("faults.crashes.restart_after", crashes.restart_after); !r) return r;
    if (auto r = check_nodes("faults.crashes.targets", crashes.targets, node_count, 1); !r)
      return r;
  }
  if (partitions.enabled) {
    if (auto r = check_spacing("partitions", partitions.every); !r) return r;
    if (auto r = check_length("faults.partitions.heal_after", partitions.heal_after); !r) return r;
    if (auto r = check_nodes("faults.partitions", partitions.nodes, node_count, 2); !r) return r;
  }
  if (clogs.enabled) {
    if (auto r = check_spacing("clogs", clogs.every); !r) return r;
    if (auto r = check_length("faults.clogs.duration", clogs.duration); !r) return r;
    if (auto r = check_nodes("faults.clogs", clogs.nodes, node_count, 2); !r) return r;
  }
  return true;
}

namespace {

// How many times a family spaced by `every` can fire within `chaos_us`: the
// k-th draw lands at or after k * every.min_us, and only draws before the end
// count.
std::uint64_t draws_max(const DurationRange& every, Micros chaos_us) {
  ESSIM_ASSERT(every.min_us > 0);
  const auto chaos = static_cast<std::uint64_t>(chaos_us);
  const auto min = static_cast<std::uint64_t>(every.min_us);
  return chaos / min + 1;
}

}  // namespace

FaultPlanBound fault_plan_bound(const FaultConfig& config, Micros chaos_us) {
  ESSIM_ASSERT(chaos_us >= 0);
  ESSIM_ASSERT(chaos_us <= kTimeMax);
  FaultPlanBound bound;
  // A draw count is at most kTimeMax, so each product stays below 2^64 for
  // node lists shorter than 2^31.
  if (config.crashes.enabled) bound.crashes = 2 * draws_max(config.crashes.every, chaos_us);
  if (config.partitions.enabled) {
    ESSIM_ASSERT(config.partitions.nodes.size() < (std::uint64_t{1} << 31));
    bound.partitions =
        draws_max(config.partitions.every, chaos_us) * (2 + config.partitions.nodes.size());
  }
  if (config.clogs.enabled) bound.clogs = draws_max(config.clogs.every, chaos_us);
  return bound;
}

std::uint64_t entries(const FaultPlan& plan) {
  std::uint64_t n = 0;
  for (const FaultAction& a : plan.actions) n += 1 + a.side_a.size() + a.side_b.size();
  return n;
}

FaultPlan plan_faults(const FaultConfig& config, const Rng& rng, Micros chaos_us) {
  ESSIM_ASSERT_MSG(chaos_us >= 0, "a chaos phase cannot be negative");
  const std::uint64_t bound = fault_plan_bound(config, chaos_us).total();
  ESSIM_ASSERT_MSG(bound <= kFaultPlanEntriesMax,
                   fmt::format("a fault plan of up to {} entries, above the {} allowed; the "
                               "scenario loader should have refused it",
                               bound, kFaultPlanEntriesMax));
  FaultPlan plan;
  if (config.crashes.enabled) {
    ESSIM_ASSERT(!config.crashes.targets.empty());
    ESSIM_ASSERT(config.crashes.every.min_us > 0);
    Rng r = rng.split("crashes");
    for (Micros at = draw(r, config.crashes.every); at < chaos_us;
         at += draw(r, config.crashes.every)) {
      const NodeId node = config.crashes.targets[r.below(config.crashes.targets.size())];
      const Micros down_us = draw(r, config.crashes.restart_after);
      plan.actions.push_back({.at_us = at, .kind = FaultKind::kCrash, .node = node});
      plan.actions.push_back({.at_us = at + down_us, .kind = FaultKind::kRestart, .node = node});
    }
  }
  if (config.partitions.enabled) {
    const auto& nodes = config.partitions.nodes;
    ESSIM_ASSERT(nodes.size() >= 2);
    ESSIM_ASSERT(config.partitions.every.min_us > 0);
    Rng r = rng.split("partitions");
    std::uint32_t id = 0;
    for (Micros at = draw(r, config.partitions.every); at < chaos_us;
         at += draw(r, config.partitions.every)) {
      FaultAction cut{.at_us = at, .kind = FaultKind::kPartition, .partition = ++id};
      // A random proper, non-empty subset on side A: pick a size, then shuffle
      // (Fisher-Yates with our own draws) and split.
      std::vector<NodeId> order = nodes;
      for (std::size_t i = order.size() - 1; i > 0; --i) {
        std::swap(order[i], order[r.below(i + 1)]);
      }
      const std::size_t a_size = 1 + r.below(order.size() - 1);
      cut.side_a.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(a_size));
      cut.side_b.assign(order.begin() + static_cast<std::ptrdiff_t>(a_size), order.end());
      std::sort(cut.side_a.begin(), cut.side_a.end());
      std::sort(cut.side_b.begin(), cut.side_b.end());
      const Micros heal_at = at + draw(r, config.partitions.heal_after);
      plan.actions.push_back(std::move(cut));
      plan.actions.push_back({.at_us = heal_at, .kind = FaultKind::kHeal, .partition = id});
    }
  }
  if (config.clogs.enabled) {
    const auto& nodes = config.clogs.nodes;
    ESSIM_ASSERT(nodes.size() >= 2);
    ESSIM_ASSERT(config.clogs.every.min_us > 0);
    Rng r = rng.split("clogs");
    for (Micros at = draw(r, config.clogs.every); at < chaos_us;
         at += draw(r, config.clogs.every)) {
      const std::size_t from = r.below(nodes.size());
      std::size_t to = r.below(nodes.size() - 1);
      if (to >= from) ++to;
      plan.actions.push_back({.at_us = at,
                              .kind = FaultKind::kClog,
                              .node = nodes[from],
                              .peer = nodes[to],
                              .duration_us = draw(r, config.clogs.duration)});
    }
  }
  std::stable_sort(plan.actions.begin(), plan.actions.end(),
                   [](const FaultAction& a, const FaultAction& b) { return a.at_us < b.at_us; });
  ESSIM_ASSERT(entries(plan) <= bound);
  return plan;
}

std::string describe(const FaultAction& a) {
  std::string at = format_time(a.at_us);
  switch (a.kind) {
    case FaultKind::kCrash:
    case FaultKind::kRestart:
      return fmt::format("{} {} n{}", at, to_string(a.kind), a.node);
    case FaultKind::kPartition:
      return fmt::format("{} partition #{} {{{}}} | {{{}}}", at, a.partition,
                         fmt::join(a.side_a, ","), fmt::join(a.side_b, ","));
    case FaultKind::kHeal:
      return fmt::format("{} heal #{}", at, a.partition);
    case FaultKind::kClog:
      return fmt::format("{} clog n{} -> n{} for {}", at, a.node, a.peer,
                         format_duration(a.duration_us));
  }
  return at;
}

}  // namespace essim::sim
