#include "model/bus.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/codec.h"
#include "model/trace_notes.h"

namespace essim::model {

void BusNode::on_start(sim::Env& env) {
  subscribers_.clear();
  if (env.now() < config_.start_at_us) {  // a rebuild not begun yet
    if (config_.start_at_us < sim::kTimeMax)
      env.set_timer(config_.start_at_us - env.now(), [this](sim::Env& e) { begin(e); });
    return;
  }
  begin(env);
}

void BusNode::begin(sim::Env& env) {
  for (const sim::NodeId node : config_.subscribers) subscribers_.push_back({.node = node});
  auto& disk = env.storage();
  if (disk.exists(kBusPositionsFile)) {
    auto bytes = disk.read_all(kBusPositionsFile);
    if (bytes.ok()) {
      Reader r(bytes.value());
      const std::size_t n = r.count(2);
      std::map<sim::NodeId, std::uint64_t> saved;
      for (std::size_t i = 0; i < n && r.ok(); ++i) {
        const auto node = static_cast<sim::NodeId>(r.varint());
        saved[node] = r.varint();
      }
      // A bad read is a crash-safe file gone wrong: start from 0 (at least once).
      if (r.ok() && r.at_end()) {
        for (Subscriber& s : subscribers_) {
          if (saved.contains(s.node)) s.acked_through = s.sent_through = saved[s.node];
        }
      }
    }
  }
  fetched_through_ = subscribers_.empty() ? 0 : subscribers_.front().acked_through;
  for (const Subscriber& s : subscribers_)
    fetched_through_ = std::min(fetched_through_, s.acked_through);
  env.note(notes::kBusRecovered, fetched_through_, 0);
  env.set_timer(config_.poll_every_us, [this](sim::Env& e) { poll(e); });
  env.set_timer(config_.checkpoint_every_us, [this](sim::Env& e) { save_positions(e); });
}

std::uint64_t BusNode::acked_through(sim::NodeId subscriber) const {
  for (const Subscriber& s : subscribers_) {
    if (s.node == subscriber) return s.acked_through;
  }
  return 0;
}

void BusNode::poll(sim::Env& env) {
  env.set_timer(config_.poll_every_us, [this](sim::Env& e) { poll(e); });
  redeliver(env);
  const bool waiting = read_request_ != 0 && env.now() - read_sent_at_us_ < config_.read_timeout_us;
  if (waiting || buffer_.size() >= config_.buffer_max || subscribers_.empty()) return;
  read_request_ = next_request_id_++;
  read_sent_at_us_ = env.now();
  ReadAllRequest request;
  request.request_id = read_request_;
  request.from_position = fetched_through_ + 1;
  request.max_count = 128;
  encode_into(request, scratch_);
  env.send(config_.store, scratch_);
}

void BusNode::on_message(sim::Env& env, const sim::Message& m) {
  auto decoded = decode(m.bytes);
  if (!decoded.ok()) {
    env.log("bus: dropped an undecodable message: " + decoded.error().message);
    return;
  }
  if (const auto* reply = std::get_if<ReadAllReply>(&decoded.value())) {
    on_read(env, *reply);
  } else if (const auto* ack = std::get_if<DeliverAck>(&decoded.value())) {
    on_ack(env, m.from, ack->position);
  }
}

void BusNode::on_read(sim::Env& env, const ReadAllReply& reply) {
  if (reply.request_id != read_request_) return;  // late or duplicated
  read_request_ = 0;
  const bool skips = config_.rebuild && config_.bugs.has(Bug::kRebuildSkipsLiveAppends);
  if (skips && replay_until_ == 0)
    replay_until_ = std::max<std::uint64_t>(1, reply.visible_position);
  for (const Event& e : reply.events) {
    // The bug replays the history up to the head it first saw, no further.
    if (skips && !jumped_ && e.position > replay_until_) break;
    if (e.position > fetched_through_) buffer_.emplace(e.position, e);
  }
  // Below the visible position nothing more will ever commit; past the last
  // event returned there may be more to read.
  const bool full = reply.events.size() >= 128;
  std::uint64_t through = full ? reply.events.back().position : reply.visible_position;
  if (skips && !jumped_ && through >= replay_until_) {
    // ...then goes live from the head as it is now: what was appended while
    // it replayed is never delivered.
    jumped_ = true;
    through = reply.visible_position;
  }
  fetched_through_ = std::max(fetched_through_, through);
  for (Subscriber& s : subscribers_) advance(s);
  dispatch(env);
  if (full) poll(env);
}

void BusNode::send_event(sim::Env& env, Subscriber& s, const Event& e) {
  encode_into(Deliver{e}, scratch_);
  env.send(s.node, scratch_);
  s.in_flight[e.position] = env.now();
}

void BusNode::dispatch(sim::Env& env) {
  const bool ack_on_send = config_.bugs.has(Bug::kBusAcksBeforeHandled);
  for (Subscriber& s : subscribers_) {
    for (auto it = buffer_.upper_bound(s.sent_through);
         it != buffer_.end() && s.in_flight.size() < config_.window; ++it) {
      send_event(env, s, it->second);
      s.sent_through = it->first;
      if (ack_on_send) {
        // The bug: handled as soon as sent, never redelivered.
        s.in_flight.erase(it->first);
        s.acked.insert(it->first);
      }
    }
    if (ack_on_send) {
      s.sent_through = std::max(s.sent_through, fetched_through_);
      advance(s);
    }
  }
  trim();
}

void BusNode::redeliver(sim::Env& env) {
  for (Subscriber& s : subscribers_) {
    for (auto& [position, sent_at] : s.in_flight) {
      if (env.now() - sent_at < config_.redeliver_after_us) continue;
      const auto e = buffer_.find(position);
      if (e == buffer_.end()) continue;
      encode_into(Deliver{e->second}, scratch_);
      env.send(s.node, scratch_);
      sent_at = env.now();
    }
  }
}

void BusNode::on_ack(sim::Env& env, sim::NodeId from, std::uint64_t position) {
  for (Subscriber& s : subscribers_) {
    if (s.node != from) continue;
    if (s.in_flight.erase(position) == 0 && position <= s.acked_through) return;
    if (position > s.acked_through) s.acked.insert(position);
    advance(s);
  }
  trim();
  dispatch(env);
}

void BusNode::advance(Subscriber& s) {
  const std::uint64_t before = s.acked_through;
  auto it = buffer_.upper_bound(s.acked_through);
  for (; it != buffer_.end() && it->first <= fetched_through_; ++it) {
    if (!s.acked.contains(it->first)) break;
  }
  // Everything before the first unacknowledged event (or all that was fetched).
  const std::uint64_t through =
      it == buffer_.end() || it->first > fetched_through_ ? fetched_through_ : it->first - 1;
  s.acked_through = std::max(s.acked_through, through);
  s.sent_through = std::max(s.sent_through, s.acked_through);
  s.acked.erase(s.acked.begin(), s.acked.upper_bound(s.acked_through));
  if (s.acked_through != before) positions_dirty_ = true;
}

void BusNode::trim() {
  std::uint64_t done = fetched_through_;
  for (const Subscriber& s : subscribers_) done = std::min(done, s.acked_through);
  buffer_.erase(buffer_.begin(), buffer_.upper_bound(done));
}

void BusNode::save_positions(sim::Env& env) {
  env.set_timer(config_.checkpoint_every_us, [this](sim::Env& e) { save_positions(e); });
  if (!positions_dirty_) return;
  positions_dirty_ = false;
  Bytes out;
  Writer w(out);
  w.varint(subscribers_.size());
  for (const Subscriber& s : subscribers_) {
    w.varint(s.node);
    w.varint(s.acked_through);
  }
  if (!env.replace_durably(kBusPositionsFile, out)) return;  // fail-stopped
}

}  // namespace essim::model
