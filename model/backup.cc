#include "model/backup.h"

#include <fmt/format.h>

#include "model/log.h"
#include "model/trace_notes.h"
#include "sim/assert.h"

namespace essim::model {

BackupAgentNode::BackupAgentNode(BackupAgentConfig config) : config_(std::move(config)) {
  ESSIM_ASSERT_MSG(config_.log != nullptr, "a backup agent needs a log");
}

void BackupAgentNode::on_start(sim::Env& env) {
  for (const Micros at : config_.at_us) {
    env.set_timer(std::max<Micros>(0, at - env.now()), [this](sim::Env& e) { due(e); });
  }
}

void BackupAgentNode::due(sim::Env& env) {
  Backup backup;
  backup.requested_at_us = env.now();
  config_.log->backups.push_back(std::move(backup));
  queued_.push_back(config_.log->backups.size() - 1);
  if (!current_) next(env);
}

void BackupAgentNode::next(sim::Env& env) {
  current_.reset();
  if (queued_.empty()) return;
  current_ = queued_.front();
  queued_.erase(queued_.begin());
  env.note(notes::kBackupBegan, *current_, 0);
  begin(env);
}

void BackupAgentNode::begin(sim::Env& env) {
  Backup& backup = config_.log->backups.at(*current_);
  backup.bytes.clear();
  backup.began_at_us = env.now();
  offset_ = 0;
  until_ = 0;
  previous_hash_ = 0;
  ask(env);
}

void BackupAgentNode::ask(sim::Env& env) {
  request_id_ = next_request_++;
  encode_into(BackupRequest{request_id_, offset_, until_, previous_hash_}, scratch_);
  env.send(config_.store, scratch_);
  const std::uint64_t asked = request_id_;
  env.set_timer(config_.request_timeout_us, [this, asked](sim::Env& e) {
    if (current_ && request_id_ == asked) ask(e);  // not answered: ask again
  });
}

void BackupAgentNode::on_message(sim::Env& env, const sim::Message& m) {
  auto decoded = decode(m.bytes);
  if (!decoded.ok() || m.from != config_.store) return;
  const auto* chunk = std::get_if<BackupChunk>(&decoded.value());
  // Only the answer to the request outstanding: a late or duplicated one is stale.
  if (chunk == nullptr || !current_ || chunk->request_id != request_id_) return;
  request_id_ = 0;
  Backup& backup = config_.log->backups.at(*current_);
  if (!chunk->refused.empty()) {
    if (chunk->restart) return begin(env);
    if (++refusals_ >= kRefusalsMax) {
      backup.gave_up =
          fmt::format("the store refused {} times in a row: {}", refusals_, chunk->refused);
      refusals_ = 0;
      return next(env);
    }
    const std::uint64_t waiting = request_id_ = next_request_++;
    env.set_timer(config_.request_timeout_us, [this, waiting](sim::Env& e) {
      if (current_ && request_id_ == waiting) ask(e);
    });
    return;
  }
  refusals_ = 0;
  const std::uint64_t until = until_ == 0 ? chunk->until : until_;
  const LogScan scan = scan_log(chunk->bytes, previous_hash_);
  const bool whole = scan.status == LogScan::Status::kClean && chunk->offset == offset_ &&
                     chunk->until == until && offset_ + chunk->bytes.size() <= until &&
                     (!chunk->bytes.empty() || offset_ == until);
  if (!whole) return begin(env);  // not what was asked for: begin again
  if (until_ == 0 && config_.on_fixed) config_.on_fixed(backup);
  until_ = until;
  backup.bytes.insert(backup.bytes.end(), chunk->bytes.begin(), chunk->bytes.end());
  offset_ += chunk->bytes.size();
  previous_hash_ = scan.last_hash;
  if (offset_ < until_) return ask(env);
  finish(env);
}

void BackupAgentNode::finish(sim::Env& env) {
  Backup& backup = config_.log->backups.at(*current_);
  backup.done_at_us = env.now();
  if (config_.on_done) config_.on_done(backup);
  env.note(notes::kBackupDone, backup.bytes.size(), scan_log(backup.bytes).bodies.size());
  next(env);
}

}  // namespace essim::model
