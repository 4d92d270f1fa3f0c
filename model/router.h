#pragma once
// The query side of a projection rebuild. While a projection (the live one)
// serves queries, a second worker rebuilds the same read model from position
// 0 through a bus of its own. From the rebuild's start the router queries
// both, every query_every_us; it serves the live one's answers until the
// rebuilt one's answer has caught up with everything already served (every
// stream at least at the version served, and at the version the live one
// last answered with), then cuts over and serves the rebuilt one from then on. Reads never go back:
// an answer behind what was already served (a worker that restarted from an older durable state, a
// late answer) is not served, and the query waits for the next round, as
// does one that a node does not answer (down, partitioned, lost).
//
// The router keeps what it served in a RebuildLog the harness owns, for the
// properties (properties/rebuild.h) to check; it is not a crash target (it
// keeps no durable state of its own).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/bugs.h"
#include "model/messages.h"
#include "sim/env.h"

namespace essim::model {

using Versions = std::map<std::string, std::uint64_t>;  // stream -> highest version applied

// The first stream in which `answer` is behind `served`, or nullopt when it
// dominates (every stream of `served` at least at its version in `answer`).
std::optional<std::string> behind_in(const Versions& answer, const Versions& served);

// What the router served, kept outside the node.
struct RebuildLog {
  struct Answer {
    Micros at_us = 0;
    Versions applied;
    std::uint64_t events_applied = 0;
  };
  std::uint64_t live_served = 0;  // answers served from the live projection
  Versions live_max;              // per stream, the highest version it served
  // What the live projection had made durable when the rebuild started
  // (recorded by the harness, not the router, from its bus's acknowledged
  // position): what every query after the cut-over must at least see.
  // nullopt when the bus was down then.
  std::optional<Versions> live_at_start;
  std::optional<Micros> cut_over_at_us;
  std::uint64_t rebuilt_served = 0;
  // The first answers served from the rebuilt projection (kFirstAnswersKept).
  std::vector<Answer> first_rebuilt;
};
inline constexpr std::size_t kFirstAnswersKept = 8;

struct RouterConfig {
  sim::NodeId live = sim::kNoNode;
  sim::NodeId rebuilt = sim::kNoNode;
  Micros start_at_us = 0;  // the rebuild's start; kTimeMax: never
  Micros query_every_us = 10'000;
  RebuildLog* log = nullptr;
  Bugs bugs;
};

class RouterNode final : public sim::Node {
 public:
  explicit RouterNode(RouterConfig config) : config_(config) {}
  void on_start(sim::Env& env) override;
  void on_message(sim::Env& env, const sim::Message& message) override;
  bool cut_over() const { return config_.log->cut_over_at_us.has_value(); }

 private:
  void tick(sim::Env& env);
  void ask(sim::Env& env, sim::NodeId node);
  void serve(sim::Env& env, const QueryReply& answer, bool rebuilt);

  RouterConfig config_;
  std::uint64_t next_request_ = 1;
  std::map<std::uint64_t, sim::NodeId> asked_;  // request id -> node, recent rounds
  Versions served_max_;                         // per stream, the highest version served
  std::optional<Versions> live_latest_;         // the live projection's latest answer
  Bytes scratch_;
};

}  // namespace essim::model
