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

std::string_view to_string(MessageFate::Kind kind) {
  switch (kind) {
    case MessageFate::Kind::kDrop: return "drop";
    case MessageFate::Kind::kDuplicate: return "duplicate";
    case MessageFate::Kind::kDelay: return "delay";
    case MessageFate::Kind::kReorder: return "reorder";
  }
  return "unknown";
}

void Network::script_fates(std::vector<MessageFate> script) {
  std::sort(script.begin(), script.end());
  script_ = std::move(script);
  scripted_ = true;
}

bool Network::decide(bool drawn, NodeId from, NodeId to, std::uint64_t message,
                     MessageFate::Kind kind, Micros& amount_us) {
  bool fires = drawn;
  if (scripted_) {
    const MessageFate key{from, to, message, kind, 0};
    const auto it = std::lower_bound(script_.begin(), script_.end(), key);
    fires = it != script_.end() && it->from == from && it->to == to && it->message == message &&
            it->kind == kind;
    if (fires) amount_us = it->amount_us;
  }
  if (fires && recording_) recorded_.push_back({from, to, message, kind, amount_us});
  return fires;
}

Network::Route Network::route(Micros now_us, NodeId from, NodeId to) {
  Link& l = link(from, to);
  const std::uint64_t message = ++l.sent;
  Route route;
  if (l.cuts > 0) {
    route.dropped = true;
    route.reason = DropReason::kPartitioned;
    return route;
  }
  // Every draw below happens whatever a script says, so scripted runs keep
  // the latencies of the run they were recorded from.
  Micros unused = 0;
  if (decide(rng_.chance(faults_.drop), from, to, message, MessageFate::Kind::kDrop, unused)) {
    route.dropped = true;
    route.reason = DropReason::kRandom;
    return route;
  }
  Micros at_us = now_us + draw(faults_.latency);
  const bool delay_drawn = rng_.chance(faults_.delay);
  Micros extra_us = delay_drawn ? draw(faults_.delay_extra) : 0;
  if (decide(delay_drawn, from, to, message, MessageFate::Kind::kDelay, extra_us)) {
    route.delay_extra_us = extra_us;
    at_us += extra_us;
  }
  at_us = std::max(at_us, l.clogged_until_us);
  const bool reorder_drawn = rng_.chance(faults_.reorder);
  Micros jitter_us = reorder_drawn ? draw(faults_.reorder_jitter) : 0;
  if (decide(reorder_drawn, from, to, message, MessageFate::Kind::kReorder, jitter_us)) {
    route.jitter_us = jitter_us;
    at_us += jitter_us;
  } else {
    at_us = std::max(at_us, l.last_deliver_at_us);
    l.last_deliver_at_us = at_us;
  }
  route.copies = 1;
  route.deliver_at_us[0] = at_us;
  const bool duplicate_drawn = rng_.chance(faults_.duplicate);
  const Micros copy_latency_us = duplicate_drawn ? draw(faults_.latency) : faults_.latency.min_us;
  if (decide(duplicate_drawn, from, to, message, MessageFate::Kind::kDuplicate, unused)) {
    route.copies = 2;
    route.deliver_at_us[1] = std::max(now_us + copy_latency_us, l.clogged_until_us);
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
