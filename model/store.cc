#include "model/store.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/codec.h"
#include "model/probes.h"
#include "model/trace_notes.h"
#include "sim/assert.h"
#include "sim/probe.h"

namespace essim::model {

namespace {

constexpr std::uint8_t kCommitRecord = 1;
constexpr std::uint8_t kSnapshotRecord = 2;

void encode_snapshot(const SnapshotSave& s, Bytes& out) {
  Writer w(out);
  w.u8(kSnapshotRecord);
  w.string(s.stream);
  w.varint(s.version);
  w.bytes(s.state);
}

sim::Result<SnapshotSave> decode_snapshot(ByteView body) {
  Reader r(body);
  if (r.u8() != kSnapshotRecord) r.fail("not a snapshot record");
  SnapshotSave s;
  s.stream = r.string();
  s.version = r.varint();
  s.state = r.bytes();
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return sim::Error{"bad snapshot record: " + r.error()};
  return s;
}

}  // namespace

void encode_commit(const CommitRecord& commit, Bytes& out) {
  Writer w(out);
  w.u8(kCommitRecord);
  w.id(commit.command_id);
  w.varint(commit.events.size());
  for (const Event& e : commit.events) w.event(e);
}

sim::Result<CommitRecord> decode_commit(ByteView body) {
  Reader r(body);
  if (r.u8() != kCommitRecord) r.fail("not a commit record");
  CommitRecord c;
  c.command_id = r.id();
  const std::size_t n = r.count(72);
  for (std::size_t i = 0; i < n && r.ok(); ++i) c.events.push_back(r.event());
  if (r.ok() && c.events.empty()) r.fail("a commit without events");
  if (r.ok() && !r.at_end()) r.fail("trailing bytes");
  if (!r.ok()) return sim::Error{"bad commit record: " + r.error()};
  return c;
}

StoreLog read_store_log(ByteView log) {
  const LogScan scan = scan_log(log);
  StoreLog out;
  out.status = scan.status;
  out.problem = scan.problem;
  out.valid_bytes = scan.valid_bytes;
  out.last_hash = scan.last_hash;
  for (const ByteView body : scan.bodies) {
    auto commit = decode_commit(body);
    if (!commit.ok()) {
      // A record with a good CRC that does not decode: the writer was wrong.
      out.status = LogScan::Status::kCorrupt;
      out.problem = commit.error().message;
      break;
    }
    out.commits.push_back(std::move(commit).value());
  }
  return out;
}

std::vector<SnapshotSave> read_snapshot_log(ByteView log) {
  std::vector<SnapshotSave> out;
  for (const ByteView body : scan_log(log).bodies) {
    auto s = decode_snapshot(body);
    if (!s.ok()) break;
    out.push_back(std::move(s).value());
  }
  return out;
}

// ---- recovery ----

void StoreNode::apply_durable(const CommitRecord& commit) {
  ESSIM_ASSERT(!commit.events.empty());
  for (const Event& e : commit.events) {
    Stream& s = streams_[e.stream];
    s.durable_version = std::max(s.durable_version, e.version);
    s.assigned_version = s.durable_version;
    if (s.positions.size() < e.version) s.positions.resize(e.version, 0);
    s.positions[e.version - 1] = e.position;
    next_position_ = std::max(next_position_, e.position + 1);
    events_[e.position] = e;
  }
  const Event& last = commit.events.back();
  if (!commit.command_id.empty()) {
    commands_[commit.command_id] = {commit.events.front().position, last.version};
  }
}

bool StoreNode::recover_events(sim::Env& env) {
  const std::optional<Bytes> read = read_reliably(env.storage(), kEventsFile);
  if (!read) {
    env.fail_stop(
        fmt::format("recovery: no read of {} could be trusted (reads disagree)", kEventsFile));
    return false;
  }
  const Bytes& bytes = *read;
  const StoreLog log = read_store_log(bytes);
  for (const CommitRecord& c : log.commits) apply_durable(c);
  last_hash_ = log.last_hash;
  written_bytes_ = bytes.size();
  committed_bytes_ = log.valid_bytes;
  if (log.status == LogScan::Status::kTornTail) {
    if (config_.bugs.has(Bug::kNoTornTailTruncation)) {
      env.note(notes::kLogTornTailKept, log.valid_bytes, bytes.size());
    } else {
      env.note(notes::kLogTruncated, log.valid_bytes, bytes.size());
      sim::probe(probes::kTornTailTruncated);
      if (!env.ok_or_fail_stop(env.storage().truncate(kEventsFile, log.valid_bytes))) return false;
      if (!env.ok_or_fail_stop(env.storage().sync(kEventsFile))) return false;
      written_bytes_ = log.valid_bytes;
    }
  } else if (log.status == LogScan::Status::kCorrupt) {
    corrupt_ = true;
    env.note(notes::kLogCorrupt, log.valid_bytes, bytes.size());
    sim::probe(probes::kCorruptRecordRefused);
    env.log(
        fmt::format("events.log is corrupt: {}; serving the {} records before it, "
                    "refusing appends",
                    log.problem, log.commits.size()));
  }
  env.note(notes::kStoreRecovered, log.commits.size(), next_position_ - 1);
  return true;
}

bool StoreNode::recover_snapshots(sim::Env& env) {
  const std::optional<Bytes> read = read_reliably(env.storage(), kSnapshotsFile);
  if (!read) {
    env.fail_stop(
        fmt::format("recovery: no read of {} could be trusted (reads disagree)", kSnapshotsFile));
    return false;
  }
  const Bytes& bytes = *read;
  const LogScan scan = scan_log(bytes);
  for (const ByteView body : scan.bodies) {
    auto decoded = decode_snapshot(body);
    if (!decoded.ok()) break;
    SnapshotSave snapshot = std::move(decoded).value();
    const std::string stream = snapshot.stream;
    snapshots_[stream] = std::move(snapshot);
  }
  snapshot_hash_ = scan.last_hash;
  // Snapshots are a cache: whatever follows a bad record is dropped.
  if (scan.status != LogScan::Status::kClean) {
    if (!env.ok_or_fail_stop(env.storage().truncate(kSnapshotsFile, scan.valid_bytes))) {
      return false;
    }
    if (!env.ok_or_fail_stop(env.storage().sync(kSnapshotsFile))) return false;
  }
  return true;
}

void StoreNode::on_start(sim::Env& env) {
  start(env);
}

void StoreNode::start(sim::Env& env) {
  if (config_.ready && !config_.ready()) {
    const Micros wait = std::max(config_.ready_poll_us, config_.ready_from_us - env.now());
    env.set_timer(wait, [this](sim::Env& e) { start(e); });
    return;
  }
  started_ = true;
  if (!recover_events(env)) return;  // fail-stopped
  if (!recover_snapshots(env)) return;
}

std::uint64_t StoreNode::visible_position() const {
  for (const auto& [first, append] : in_progress_) {
    if (!append.acknowledged) return first - 1;
  }
  return next_position_ - 1;
}

// ---- messages ----

void StoreNode::reply(sim::Env& env, sim::NodeId to, const Message& message) {
  encode_into(message, scratch_);
  env.send(to, scratch_);
}

void StoreNode::on_message(sim::Env& env, const sim::Message& m) {
  if (!started_) return;  // a restored store whose files are not in place yet
  auto decoded = decode(m.bytes);
  if (!decoded.ok()) {
    env.log(fmt::format("store: dropped an undecodable message from n{}: {}", m.from,
                        decoded.error().message));
    return;
  }
  Message message = std::move(decoded).value();
  std::visit(
      [&](auto& request) {
        using T = std::decay_t<decltype(request)>;
        if constexpr (std::is_same_v<T, AppendRequest> || std::is_same_v<T, ReadStreamRequest> ||
                      std::is_same_v<T, ReadAllRequest> || std::is_same_v<T, SnapshotSave> ||
                      std::is_same_v<T, SnapshotLoadRequest> || std::is_same_v<T, BackupRequest>) {
          handle(env, m.from, request);
        } else {
          env.log(fmt::format("store: ignored a {} from n{}", message_name(message), m.from));
        }
      },
      message);
}

void StoreNode::reject(sim::Env& env, sim::NodeId to, std::uint64_t request_id, std::string why) {
  AppendReply r;
  r.request_id = request_id;
  r.status = AppendStatus::kRejected;
  r.message = std::move(why);
  reply(env, to, r);
}

void StoreNode::handle(sim::Env& env, sim::NodeId from, AppendRequest& request) {
  if (corrupt_) return reject(env, from, request.request_id, std::string(kStoreCorrupt));
  if (request.stream.empty()) return reject(env, from, request.request_id, "empty stream name");
  if (request.events.empty())
    return reject(env, from, request.request_id, "an append needs events");
  for (const Event& e : request.events) {
    if (e.type.empty()) return reject(env, from, request.request_id, "an event needs a type");
  }
  if (!request.command_id.empty()) {
    const auto done = commands_.find(request.command_id);
    if (done != commands_.end()) {
      AppendReply r;
      r.request_id = request.request_id;
      r.first_position = done->second.first_position;
      r.stream_version = done->second.stream_version;
      r.replayed = true;
      sim::probe(probes::kCommandAnsweredFromTable);
      return reply(env, from, r);
    }
    // Still in progress: the client's retry will find it done.
    if (commands_in_progress_.contains(request.command_id)) return;
  }
  if (in_progress_.size() >= config_.pending_max) {
    sim::probe(probes::kAppendRefusedBusy);
    return reject(env, from, request.request_id, std::string(kStoreOverloaded));
  }
  Stream& s = streams_[request.stream];
  const bool check = !config_.bugs.has(Bug::kNoConcurrencyCheck);
  const bool matches = request.expected_version == kAnyVersion ||
                       static_cast<std::uint64_t>(request.expected_version) == s.durable_version;
  // In progress appends to this stream count too: they will commit first.
  if (check && (!matches || (request.expected_version != kAnyVersion &&
                             s.assigned_version != s.durable_version))) {
    AppendReply r;
    r.request_id = request.request_id;
    r.status = AppendStatus::kConflict;
    r.stream_version = s.assigned_version;
    return reply(env, from, r);
  }
  const std::uint64_t first_position = next_position_;
  for (Event& e : request.events) {
    e.stream = request.stream;
    e.version = ++s.assigned_version;
    e.position = next_position_++;
    e.metadata.command_id = request.command_id;
  }
  Micros commit_at = env.now() + env.rng().between(0, config_.commit_delay_max_us);
  commit_at = std::max(commit_at, s.last_commit_at_us);
  s.last_commit_at_us = commit_at;
  if (!request.command_id.empty()) commands_in_progress_.insert(request.command_id);
  in_progress_.emplace(first_position, InProgress{std::move(request), from});
  env.set_timer(commit_at - env.now(),
                [this, first_position](sim::Env& e) { write(e, first_position); });
}

void StoreNode::write(sim::Env& env, std::uint64_t first_position) {
  InProgress& append = in_progress_.at(first_position);
  Bytes body;
  encode_commit(CommitRecord{append.request.command_id, append.request.events}, body);
  Bytes record;
  last_hash_ = append_record(record, last_hash_, body);
  if (!env.ok_or_fail_stop(env.storage().append(kEventsFile, record))) return;
  written_bytes_ += record.size();
  append.written = true;
  if (config_.bugs.has(Bug::kAckBeforeSync)) make_durable(env, append);
  arm_sync(env);
}

void StoreNode::arm_sync(sim::Env& env) {
  if (sync_armed_) return;
  sync_armed_ = true;
  env.set_timer(config_.group_commit_us, [this](sim::Env& e) { group_commit(e); });
}

void StoreNode::group_commit(sim::Env& env) {
  // The fsync starts now and covers what is written now; it takes a while.
  for (auto& [first, append] : in_progress_) {
    if (append.written) append.syncing = true;
  }
  syncing_bytes_ = written_bytes_;
  const Micros latency =
      env.rng().between(config_.fsync_latency.min_us, config_.fsync_latency.max_us);
  env.set_timer(latency, [this](sim::Env& e) { sync_done(e); });
}

void StoreNode::sync_done(sim::Env& env) {
  sync_armed_ = false;
  // Only snapshots may have been written so far: there is no log to sync yet.
  if (env.storage().exists(kEventsFile)) {
    const sim::Status events = env.storage().sync(kEventsFile);
    if (!events.is_ok() && config_.bugs.has(Bug::kAckAfterFailedSync)) {
      return ignore_failed_sync(env, events);
    }
    // Fail-stop: what the failed sync covered may be gone, so nothing it
    // covered may be acknowledged; recovery reads what is really on disk.
    if (!env.ok_or_fail_stop(events)) return;
    committed_bytes_ = std::max(committed_bytes_, syncing_bytes_);
  }
  if (snapshots_dirty_) {
    if (!env.ok_or_fail_stop(env.storage().sync(kSnapshotsFile))) return;
    snapshots_dirty_ = false;
  }
  std::uint64_t synced = 0;
  bool more = false;
  for (auto it = in_progress_.begin(); it != in_progress_.end();) {
    InProgress& append = it->second;
    if (!append.syncing) {
      more |= append.written;
      ++it;
      continue;
    }
    if (!append.acknowledged) make_durable(env, append);
    ++synced;
    it = in_progress_.erase(it);
  }
  env.note(notes::kGroupCommit, synced, visible_position());
  if (more || snapshots_dirty_) arm_sync(env);
}

// The bug (PostgreSQL before 2018): a failed fsync is taken for a slow one and
// retried. The retry succeeds, as the lost pages are no longer dirty, and the
// appends the failed sync covered are acknowledged though their records are gone.
void StoreNode::ignore_failed_sync(sim::Env& env, const sim::Status& failure) {
  ESSIM_ASSERT(config_.bugs.has(Bug::kAckAfterFailedSync));
  ESSIM_ASSERT(!failure.is_ok());
  std::uint64_t covered = 0;
  for (auto& [first, append] : in_progress_) {
    covered += append.syncing ? 1 : 0;
    append.syncing = false;
  }
  env.note(notes::kSyncFailureIgnored, covered, visible_position());
  arm_sync(env);
}

void StoreNode::make_durable(sim::Env& env, InProgress& append) {
  append.acknowledged = true;
  const AppendRequest& request = append.request;
  for (const Event& e : request.events) {
    Stream& s = streams_[e.stream];
    s.durable_version = std::max(s.durable_version, e.version);
    if (s.positions.size() < e.version) s.positions.resize(e.version, 0);
    s.positions[e.version - 1] = e.position;
    events_[e.position] = e;
  }
  const std::uint64_t first_position = request.events.front().position;
  const std::uint64_t version = request.events.back().version;
  if (!request.command_id.empty()) {
    commands_[request.command_id] = {first_position, version};
    commands_in_progress_.erase(request.command_id);
  }
  env.note(notes::kAck, first_position, request.events.size());
  AppendReply r;
  r.request_id = request.request_id;
  r.first_position = first_position;
  r.stream_version = version;
  reply(env, append.from, r);
}

void StoreNode::handle(sim::Env& env, sim::NodeId from, const ReadStreamRequest& request) {
  ReadStreamReply r;
  r.request_id = request.request_id;
  const auto it = streams_.find(request.stream);
  if (it != streams_.end()) {
    const Stream& s = it->second;
    r.stream_version = s.durable_version;
    const std::uint32_t max =
        std::min(request.max_count == 0 ? config_.read_batch_max : request.max_count,
                 config_.read_batch_max);
    for (std::uint64_t v = std::max<std::uint64_t>(request.from_version, 1);
         v <= s.durable_version && r.events.size() < max; ++v) {
      const auto e = events_.find(s.positions[v - 1]);
      if (e == events_.end()) break;  // not durable (cannot happen below durable_version)
      r.events.push_back(e->second);
    }
  }
  reply(env, from, r);
}

void StoreNode::handle(sim::Env& env, sim::NodeId from, const ReadAllRequest& request) {
  ReadAllReply r;
  r.request_id = request.request_id;
  // The bug serves every durable event, ignoring positions still in progress below.
  r.visible_position = config_.bugs.has(Bug::kReadAcrossCommitGaps)
                           ? (events_.empty() ? 0 : events_.rbegin()->first)
                           : visible_position();
  const std::uint32_t max = std::min(
      request.max_count == 0 ? config_.read_batch_max : request.max_count, config_.read_batch_max);
  for (auto it = events_.lower_bound(request.from_position);
       it != events_.end() && it->first <= r.visible_position && r.events.size() < max; ++it) {
    r.events.push_back(it->second);
  }
  if (r.events.size() < max && events_.upper_bound(r.visible_position) != events_.end())
    sim::probe(probes::kReadAllHeldAtGap);
  reply(env, from, r);
}

void StoreNode::handle(sim::Env& env, sim::NodeId /*from*/, SnapshotSave& request) {
  if (corrupt_ || request.stream.empty()) return;
  const auto it = snapshots_.find(request.stream);
  if (it != snapshots_.end() && it->second.version >= request.version) return;
  Bytes body;
  encode_snapshot(request, body);
  Bytes record;
  snapshot_hash_ = append_record(record, snapshot_hash_, body);
  if (!env.ok_or_fail_stop(env.storage().append(kSnapshotsFile, record))) return;
  snapshots_dirty_ = true;
  arm_sync(env);
  env.note(notes::kSnapshotSaved, request.version, 0);
  snapshots_[request.stream] = std::move(request);
}

void StoreNode::handle(sim::Env& env, sim::NodeId from, const SnapshotLoadRequest& request) {
  SnapshotLoadReply r;
  r.request_id = request.request_id;
  const auto it = snapshots_.find(request.stream);
  if (it != snapshots_.end()) {
    r.found = true;
    r.version = it->second.version;
    r.state = it->second.state;
  }
  reply(env, from, r);
}

// ---- backups ----

// The chunk of [request.offset, request.until) this store can vouch for:
// whole records that pass their checksums and link to `previous_hash`. A
// read can be corrupted in flight, so a chunk that does not check out is read
// again, a few times, before the request is refused.
void StoreNode::handle(sim::Env& env, sim::NodeId from, const BackupRequest& request) {
  BackupChunk r;
  r.request_id = request.request_id;
  r.offset = request.offset;
  if (corrupt_) {
    r.refused = "the log is corrupt; backups refused";
    return reply(env, from, r);
  }
  // The bug serves whatever the file holds, synced or not.
  const std::uint64_t end =
      config_.bugs.has(Bug::kBackupCopiesUncommitted) ? written_bytes_ : committed_bytes_;
  r.until = request.until == 0 ? end : request.until;
  // A backup that began before a crash whose records this log no longer holds.
  if (r.until > written_bytes_ || request.offset > r.until) {
    r.refused = fmt::format("the backup's end (byte {}) is past this log's {} bytes; begin again",
                            r.until, written_bytes_);
    r.restart = true;
    return reply(env, from, r);
  }
  if (request.offset == r.until) return reply(env, from, r);
  std::uint64_t length =
      std::min<std::uint64_t>(r.until - request.offset, config_.backup_chunk_max);
  // A few reads, and one more to read a record longer than a chunk whole.
  constexpr int kReads = 4;
  for (int attempt = 0; attempt < kReads; ++attempt) {
    auto read = env.storage().read(kEventsFile, request.offset, length);
    if (!read.ok()) continue;
    const LogScan scan = scan_log(read.value(), request.previous_hash);
    const bool chunk_ends = request.offset + read.value().size() == r.until;
    if (scan.valid_bytes == 0 && !chunk_ends && scan.defect == LogScan::Defect::kLengthPastEnd) {
      length = std::min<std::uint64_t>(r.until - request.offset,
                                       kRecordHeaderBytes + std::uint64_t{scan.bad_length});
      continue;
    }
    // Whole records only: a chunk may end inside the next one, never a backup.
    const bool whole =
        scan.status == LogScan::Status::kClean ||
        (!chunk_ends && scan.status == LogScan::Status::kTornTail && scan.valid_bytes > 0 &&
         (scan.defect == LogScan::Defect::kLengthPastEnd ||
          scan.defect == LogScan::Defect::kShortHeader));
    if (!whole) continue;
    r.bytes.assign(read.value().begin(),
                   read.value().begin() + static_cast<std::ptrdiff_t>(scan.valid_bytes));
    return reply(env, from, r);
  }
  r.refused = "reads of the log failed or did not check out; ask again";
  reply(env, from, r);
}

}  // namespace essim::model
