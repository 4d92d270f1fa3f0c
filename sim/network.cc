#include "sim/network.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/assert.h"

namespace essim::sim {

namespace {

Result<bool> check_probability(const char* name, double p) {
  if (!(p >= 0.0 && p <= 1.0)) {
    return Error{fmt::format("network.{} must be a probability in [0, 1], not {}", name, p)};
  }
  return true;
}

Result<bool> check_range(const char* name, const DurationRange& range) {
  if (range.min_us < 0 || range.max_us < range.min_us || range.max_us > kTimeMax / 4) {
    return Error{fmt::format("network.{} must be a range 0 <= min <= max, not {}..{}", name,
                             format_duration(range.min_us), format_duration(range.max_us))};
  }
  return true;
}

}  // namespace

Result<bool> NetworkFaults::validate() const {
  for (const auto& [name, p] : {std::pair{"drop", drop}, std::pair{"duplicate", duplicate},
                                std::pair{"delay", delay}, std::pair{"reorder", reorder}}) {
    if (auto ok = check_probability(name, p); !ok) return ok;
  }
  for (const auto& [name, r] :
       {std::pair{"latency", latency}, std::pair{"delay_extra", delay_extra},
        std::pair{"reorder_jitter", reorder_jitter}}) {
    if (auto ok = check_range(name, r); !ok) return ok;
  }
  return true;
}

Network::Network(const Rng& rng, const NetworkFaults& faults) : rng_(rng), faults_(faults) {
  const auto valid = faults_.validate();
  ESSIM_ASSERT_MSG(valid.ok(), valid.ok() ? "" : valid.error().message);
}

void Network::set_node_count(NodeId count) {
  ESSIM_ASSERT_MSG(count >= node_count_, "nodes cannot be removed from a network");
  std::vector<Link> links(std::size_t{count} * count);
  for (NodeId from = 0; from < node_count_; ++from) {
    for (NodeId to = 0; to < node_count_; ++to) {
      links[std::size_t{from} * count + to] = link(from, to);
    }
  }
  links_ = std::move(links);
  node_count_ = count;
}

Network::Link& Network::link(NodeId from, NodeId to) {
  ESSIM_ASSERT_MSG(from < node_count_, "link from an unknown node");
  ESSIM_ASSERT_MSG(to < node_count_, "link to an unknown node");
  return links_[std::size_t{from} * node_count_ + to];
}

const Network::Link& Network::link(NodeId from, NodeId to) const {
  ESSIM_ASSERT_MSG(from < node_count_, "link from an unknown node");
  ESSIM_ASSERT_MSG(to < node_count_, "link to an unknown node");
  return links_[std::size_t{from} * node_count_ + to];
}

Micros Network::draw(const DurationRange& range) {
  if (range.min_us == range.max_us) return range.min_us;
  return rng_.between(range.min_us, range.max_us);
}

Network::Route Network::route(Micros now_us, NodeId from, NodeId to) {
  Link& l = link(from, to);
  Route route;
  if (l.cuts > 0) {
    route.dropped = true;
    route.reason = DropReason::kPartitioned;
    return route;
  }
  if (rng_.chance(faults_.drop)) {
    route.dropped = true;
    route.reason = DropReason::kRandom;
    return route;
  }
  Micros at_us = now_us + draw(faults_.latency);
  if (rng_.chance(faults_.delay)) {
    route.delay_extra_us = draw(faults_.delay_extra);
    at_us += route.delay_extra_us;
  }
  at_us = std::max(at_us, l.clogged_until_us);
  if (rng_.chance(faults_.reorder)) {
    route.jitter_us = draw(faults_.reorder_jitter);
    at_us += route.jitter_us;
  } else {
    at_us = std::max(at_us, l.last_deliver_at_us);
    l.last_deliver_at_us = at_us;
  }
  route.copies = 1;
  route.deliver_at_us[0] = at_us;
  if (rng_.chance(faults_.duplicate)) {
    route.copies = 2;
    route.deliver_at_us[1] = std::max(now_us + draw(faults_.latency), l.clogged_until_us);
  }
  return route;
}

void Network::apply_cut(const ActivePartition& p, int delta) {
  for (const NodeId a : p.side_a) {
    for (const NodeId b : p.side_b) {
      if (a == b) continue;
      link(a, b).cuts += delta;
      link(b, a).cuts += delta;
    }
  }
}

std::uint64_t Network::partition(const std::vector<NodeId>& side_a,
                                 const std::vector<NodeId>& side_b) {
  for (const NodeId n : side_a) ESSIM_ASSERT_MSG(n < node_count_, "partition of an unknown node");
  for (const NodeId n : side_b) ESSIM_ASSERT_MSG(n < node_count_, "partition of an unknown node");
  ActivePartition p{next_partition_id_++, side_a, side_b};
  apply_cut(p, +1);
  partitions_.push_back(std::move(p));
  return partitions_.back().id;
}

bool Network::heal(std::uint64_t id) {
  const auto it = std::find_if(partitions_.begin(), partitions_.end(),
                               [id](const ActivePartition& p) { return p.id == id; });
  if (it == partitions_.end()) return false;
  apply_cut(*it, -1);
  partitions_.erase(it);
  return true;
}

void Network::heal_all() {
  while (!partitions_.empty()) heal(partitions_.front().id);
}

std::vector<std::uint64_t> Network::partition_ids() const {
  std::vector<std::uint64_t> ids;
  for (const ActivePartition& p : partitions_) ids.push_back(p.id);
  return ids;
}

bool Network::cut(NodeId from, NodeId to) const {
  return link(from, to).cuts > 0;
}

void Network::clog(NodeId from, NodeId to, Micros until_us) {
  Link& l = link(from, to);
  l.clogged_until_us = std::max(l.clogged_until_us, until_us);
}

void Network::unclog_all() {
  for (Link& l : links_) l.clogged_until_us = 0;
}

void Network::calm() {
  faults_.drop = 0.0;
  faults_.duplicate = 0.0;
  faults_.delay = 0.0;
  faults_.reorder = 0.0;
}

}  // namespace essim::sim
