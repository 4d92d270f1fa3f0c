#pragma once
// The simulated network's rules: for each message sent, when (and whether, and
// how many times) it arrives. Every decision is drawn from the network's own
// stream, so turning a fault on or off never shifts any other component's
// draws. The Simulation carries the messages; this class only decides.
//
// Without the reorder fault a link is FIFO, like a TCP connection: a message
// never overtakes an earlier one on the same link. Reorder lets a message
// ignore that order and adds jitter; duplicate copies travel on their own.

#include <cstdint>
#include <string_view>
#include <vector>

#include "sim/result.h"
#include "sim/rng.h"
#include "sim/time.h"
#include "sim/types.h"

namespace essim::sim {

struct NetworkFaults {
  DurationRange latency{kMicrosPerMilli, kMicrosPerMilli};  // every message
  double drop = 0.0;                                        // per message
  double duplicate = 0.0;                                   // per message: one extra copy
  double delay = 0.0;                                       // per message: an extra delay...
  DurationRange delay_extra{0, 0};                          // ...drawn from here
  double reorder = 0.0;                                     // per message: leave FIFO order...
  DurationRange reorder_jitter{0, 0};                       // ...with this much jitter

  // Every probability within [0, 1], every range non-negative.
  Result<bool> validate() const;
};

// One fault decision about one message, named by its link and its number on
// that link (1 for the first message sent from `from` to `to`), which stays
// meaningful when other messages come and go.
struct MessageFate {
  enum class Kind : std::uint8_t { kDrop, kDuplicate, kDelay, kReorder };
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  std::uint64_t message = 0;
  Kind kind = Kind::kDrop;
  Micros amount_us = 0;  // kDelay: the extra delay; kReorder: the jitter
  friend auto operator<=>(const MessageFate&, const MessageFate&) = default;
};
std::string_view to_string(MessageFate::Kind kind);

class Network {
 public:
  // What happens to one message.
  struct Route {
    bool dropped = false;
    DropReason reason = DropReason::kRandom;
    int copies = 0;  // 1, or 2 when duplicated
    Micros deliver_at_us[2] = {0, 0};
    Micros delay_extra_us = 0;  // > 0 when the delay fault fired
    Micros jitter_us = -1;      // >= 0 when the reorder fault fired
  };

  Network(const Rng& rng, const NetworkFaults& faults);

  // Resizes the link table for `count` nodes (existing links keep their state).
  void set_node_count(NodeId count);
  NodeId node_count() const { return node_count_; }

  Route route(Micros now_us, NodeId from, NodeId to);

  // Every fault decision made from now on is kept (recorded_fates()).
  void record_fates() { recording_ = true; }
  const std::vector<MessageFate>& recorded_fates() const { return recorded_; }
  // From now on, message faults are exactly the fates in `script`: the random
  // draws still happen (so latencies stay as they were) but decide nothing.
  void script_fates(std::vector<MessageFate> script);

  // Partitions: every link between a node of side_a and a node of side_b is
  // cut both ways until healed. Partitions may overlap; a link is cut while
  // any partition cuts it. Returns the partition's id.
  std::uint64_t partition(const std::vector<NodeId>& side_a, const std::vector<NodeId>& side_b);
  // Returns false when `id` is not an active partition.
  bool heal(std::uint64_t id);
  void heal_all();
  bool cut(NodeId from, NodeId to) const;
  std::size_t active_partitions() const { return partitions_.size(); }
  std::vector<std::uint64_t> partition_ids() const;

  // Holds every message sent on from -> to before `until_us` back until then.
  void clog(NodeId from, NodeId to, Micros until_us);
  void unclog_all();

  const NetworkFaults& faults() const { return faults_; }
  // Turns every random fault off (the heal phase); latency stays.
  void calm();

 private:
  struct Link {
    std::uint64_t sent = 0;         // messages sent on this link
    Micros last_deliver_at_us = 0;  // FIFO: no in-order message arrives before this
    Micros clogged_until_us = 0;
    std::uint32_t cuts = 0;  // active partitions that cut this link
  };
  struct ActivePartition {
    std::uint64_t id;
    std::vector<NodeId> side_a;
    std::vector<NodeId> side_b;
  };

  Link& link(NodeId from, NodeId to);
  const Link& link(NodeId from, NodeId to) const;
  void apply_cut(const ActivePartition& p, int delta);
  Micros draw(const DurationRange& range);
  // Applies the script (when scripted) to one drawn decision, and records it.
  bool decide(bool drawn, NodeId from, NodeId to, std::uint64_t message, MessageFate::Kind kind,
              Micros& amount_us);

  Rng rng_;
  NetworkFaults faults_;
  NodeId node_count_ = 0;
  std::vector<Link> links_;
  std::vector<ActivePartition> partitions_;
  std::uint64_t next_partition_id_ = 1;
  bool recording_ = false;
  std::vector<MessageFate> recorded_;
  bool scripted_ = false;
  std::vector<MessageFate> script_;  // sorted
};

}  // namespace essim::sim
