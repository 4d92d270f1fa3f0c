#include "model/router.h"

#include "model/trace_notes.h"

namespace essim::model {

std::optional<std::string> behind_in(const Versions& answer, const Versions& served) {
  for (const auto& [stream, version] : served) {
    const auto it = answer.find(stream);
    if (it == answer.end() || it->second < version) return stream;
  }
  return std::nullopt;
}

void RouterNode::on_start(sim::Env& env) {
  asked_.clear();
  served_max_.clear();
  live_latest_.reset();
  if (config_.start_at_us >= sim::kTimeMax) return;  // no rebuild in this run
  const Micros wait = config_.start_at_us > env.now() ? config_.start_at_us - env.now() : 0;
  env.set_timer(wait, [this](sim::Env& e) { tick(e); });
}

void RouterNode::tick(sim::Env& env) {
  env.set_timer(config_.query_every_us, [this](sim::Env& e) { tick(e); });
  // Answers may take a few rounds to come; older ones are not served.
  asked_.erase(asked_.begin(), asked_.lower_bound(next_request_ > 16 ? next_request_ - 16 : 0));
  if (!cut_over()) ask(env, config_.live);
  ask(env, config_.rebuilt);
}

void RouterNode::ask(sim::Env& env, sim::NodeId node) {
  const std::uint64_t id = next_request_++;
  asked_[id] = node;
  encode_into(QueryRequest{id}, scratch_);
  env.send(node, scratch_);
}

void RouterNode::on_message(sim::Env& env, const sim::Message& m) {
  auto decoded = decode(m.bytes);
  if (!decoded.ok()) return;
  const auto* answer = std::get_if<QueryReply>(&decoded.value());
  if (answer == nullptr) return;
  const auto it = asked_.find(answer->request_id);
  if (it == asked_.end() || it->second != m.from) return;  // late, duplicated or stray
  asked_.erase(it);
  const bool rebuilt = m.from == config_.rebuilt;
  if (!rebuilt && cut_over()) return;
  if (!rebuilt) live_latest_ = answer->applied;
  // Reads never go back: an answer behind what was already served is not
  // served (the query waits for the next round).
  const bool current = !behind_in(answer->applied, served_max_).has_value();
  const bool early = rebuilt && config_.bugs.has(Bug::kRebuildCutsOverEarly);
  if (!current && !early) return;
  if (rebuilt && !cut_over()) {
    // Caught up: with the live projection as it last answered, not merely
    // with what was served (nothing, maybe, in the first round).
    const bool caught_up =
        live_latest_.has_value() && !behind_in(answer->applied, *live_latest_).has_value();
    if (!caught_up && !early) return;
    config_.log->cut_over_at_us = env.now();
    env.note(notes::kRebuildCutOver, answer->events_applied, config_.log->live_served);
  }
  serve(env, *answer, rebuilt);
}

void RouterNode::serve(sim::Env& env, const QueryReply& answer, bool rebuilt) {
  RebuildLog& log = *config_.log;
  for (const auto& [stream, version] : answer.applied) {
    std::uint64_t& max = served_max_[stream];
    max = std::max(max, version);
  }
  if (!rebuilt) {
    ++log.live_served;
    for (const auto& [stream, version] : answer.applied) {
      std::uint64_t& max = log.live_max[stream];
      max = std::max(max, version);
    }
    return;
  }
  ++log.rebuilt_served;
  if (log.first_rebuilt.size() < kFirstAnswersKept)
    log.first_rebuilt.push_back({env.now(), answer.applied, answer.events_applied});
}

}  // namespace essim::model
