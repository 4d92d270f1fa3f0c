#pragma once
// The bus node: pulls committed events from the store, from its own durable
// position, and pushes them to its subscribers at least once. A subscriber
// acknowledges each event once handled; the bus redelivers after a timeout.
// Per subscriber, the bus keeps the position up to which everything is
// acknowledged, on its disk, and resumes from there after a restart.

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "model/bugs.h"
#include "model/messages.h"
#include "sim/env.h"

namespace essim::model {

struct BusConfig {
  sim::NodeId store = sim::kNoNode;
  std::vector<sim::NodeId> subscribers;
  Micros poll_every_us = 5'000;
  Micros redeliver_after_us = 50'000;
  Micros read_timeout_us = 100'000;
  Micros checkpoint_every_us = 10'000;
  std::uint32_t window = 64;         // events in flight per subscriber
  std::uint32_t buffer_max = 4'096;  // events held in memory
  // A rebuild's bus (a projection rebuilt from position 0) starts work at
  // this time; until then it is up but idle. kTimeMax: never.
  Micros start_at_us = 0;
  bool rebuild = false;
  Bugs bugs;
};

inline constexpr std::string_view kBusPositionsFile = "bus.positions";

class BusNode final : public sim::Node {
 public:
  explicit BusNode(BusConfig config) : config_(std::move(config)) {}

  void on_start(sim::Env& env) override;
  void on_message(sim::Env& env, const sim::Message& message) override;

  // For checkers: the position up to which `subscriber` acknowledged everything.
  std::uint64_t acked_through(sim::NodeId subscriber) const;
  std::uint64_t fetched_through() const { return fetched_through_; }

 private:
  struct Subscriber {
    sim::NodeId node = sim::kNoNode;
    std::uint64_t acked_through = 0;              // everything up to here is acknowledged
    std::uint64_t sent_through = 0;               // everything up to here was sent once
    std::set<std::uint64_t> acked{};              // acknowledged past acked_through
    std::map<std::uint64_t, Micros> in_flight{};  // position -> last sent at
  };

  void begin(sim::Env& env);
  void poll(sim::Env& env);
  void on_read(sim::Env& env, const ReadAllReply& reply);
  void on_ack(sim::Env& env, sim::NodeId from, std::uint64_t position);
  void dispatch(sim::Env& env);
  void redeliver(sim::Env& env);
  void advance(Subscriber& s);
  void trim();
  void save_positions(sim::Env& env);
  void send_event(sim::Env& env, Subscriber& s, const Event& e);

  BusConfig config_;
  std::vector<Subscriber> subscribers_;
  std::map<std::uint64_t, Event> buffer_;  // fetched, not yet acknowledged by all
  std::uint64_t fetched_through_ = 0;      // every event up to here is in the buffer or done
  std::uint64_t read_request_ = 0;         // the outstanding read (0: none)
  Micros read_sent_at_us_ = 0;
  std::uint64_t next_request_id_ = 1;
  bool positions_dirty_ = false;
  // Bug rebuild-skips-live-appends: the head when the rebuild began (0: not
  // read yet), and whether it jumped to the live head.
  std::uint64_t replay_until_ = 0;
  bool jumped_ = false;
  Bytes scratch_;
};

}  // namespace essim::model
