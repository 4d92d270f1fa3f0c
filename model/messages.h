#pragma once
// Every message between nodes, and its encoding. Messages cross the Env seam as
// bytes in simulation too, so codec bugs surface in the same runs.
//
// Envelope: magic 0xE5, codec version, message type, varint body length, body.
// decode() checks all of it and never reads out of bounds.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <essim/value.h>

#include "model/event.h"
#include "sim/result.h"

namespace essim::model {

inline constexpr std::uint8_t kMagic = 0xE5;
inline constexpr std::uint8_t kCodecVersion = 1;

// Expected versions for appends.
inline constexpr std::int64_t kAnyVersion = -1;  // no check
inline constexpr std::int64_t kNoStream = 0;     // the stream must not exist yet

enum class AppendStatus : std::uint8_t { kOk = 0, kConflict = 1, kRejected = 2 };

struct AppendRequest {
  std::uint64_t request_id = 0;
  std::string stream;
  std::int64_t expected_version = kAnyVersion;
  CommandId command_id;       // empty: no idempotency
  std::vector<Event> events;  // version and position unset
  friend bool operator==(const AppendRequest&, const AppendRequest&) = default;
};

// Why a busy store turns an append away (AppendReply::message): a refusal
// that says nothing of whether an earlier send of the command, or a copy the
// network made, will land.
inline constexpr std::string_view kStoreOverloaded = "the store is overloaded; retry later";
// Why a store whose log is corrupt turns every append away: the same (it
// refuses before asking its command table).
inline constexpr std::string_view kStoreCorrupt = "the log is corrupt; appends refused";

struct AppendReply {
  std::uint64_t request_id = 0;
  AppendStatus status = AppendStatus::kOk;
  std::uint64_t first_position = 0;  // kOk: the first event's position
  std::uint64_t stream_version = 0;  // kOk: after the append; kConflict: the current one
  bool replayed = false;             // kOk: the answer to an earlier append of this command
  std::string message;               // kRejected: why
  friend bool operator==(const AppendReply&, const AppendReply&) = default;
};

struct ReadStreamRequest {
  std::uint64_t request_id = 0;
  std::string stream;
  std::uint64_t from_version = 1;
  std::uint32_t max_count = 0;
  friend bool operator==(const ReadStreamRequest&, const ReadStreamRequest&) = default;
};

struct ReadStreamReply {
  std::uint64_t request_id = 0;
  std::uint64_t stream_version = 0;  // the stream's current version
  std::vector<Event> events;
  friend bool operator==(const ReadStreamReply&, const ReadStreamReply&) = default;
};

struct ReadAllRequest {
  std::uint64_t request_id = 0;
  std::uint64_t from_position = 1;
  std::uint32_t max_count = 0;
  friend bool operator==(const ReadAllRequest&, const ReadAllRequest&) = default;
};

struct ReadAllReply {
  std::uint64_t request_id = 0;
  // Every position up to here is committed or will never be (no gaps below).
  std::uint64_t visible_position = 0;
  std::vector<Event> events;  // in position order
  friend bool operator==(const ReadAllReply&, const ReadAllReply&) = default;
};

struct SnapshotSave {
  std::string stream;
  std::uint64_t version = 0;
  Bytes state;
  friend bool operator==(const SnapshotSave&, const SnapshotSave&) = default;
};

struct SnapshotLoadRequest {
  std::uint64_t request_id = 0;
  std::string stream;
  friend bool operator==(const SnapshotLoadRequest&, const SnapshotLoadRequest&) = default;
};

struct SnapshotLoadReply {
  std::uint64_t request_id = 0;
  bool found = false;
  std::uint64_t version = 0;
  Bytes state;
  friend bool operator==(const SnapshotLoadReply&, const SnapshotLoadReply&) = default;
};

// Bus -> subscriber, and the subscriber's acknowledgement.
struct Deliver {
  Event event;
  friend bool operator==(const Deliver&, const Deliver&) = default;
};

struct DeliverAck {
  std::uint64_t position = 0;
  friend bool operator==(const DeliverAck&, const DeliverAck&) = default;
};

using essim::ReadModel;
using essim::Value;

struct QueryRequest {
  std::uint64_t request_id = 0;
  friend bool operator==(const QueryRequest&, const QueryRequest&) = default;
};

struct QueryReply {
  std::uint64_t request_id = 0;
  ReadModel model;
  std::uint64_t events_applied = 0;
  std::map<std::string, std::uint64_t> applied;  // stream -> highest version in the model
  friend bool operator==(const QueryReply&, const QueryReply&) = default;
};

// An online backup of the store's log, read through the store: the bytes
// [offset, until) of its log, whole records only. The first request of a
// backup has until 0, and the store's reply fixes the end: its last committed
// record. `previous_hash` is the hash of the record before `offset` (0 at
// the start), so the store can check what it read before it sends it.
struct BackupRequest {
  std::uint64_t request_id = 0;
  std::uint64_t offset = 0;
  std::uint64_t until = 0;
  std::uint64_t previous_hash = 0;
  friend bool operator==(const BackupRequest&, const BackupRequest&) = default;
};

struct BackupChunk {
  std::uint64_t request_id = 0;
  std::uint64_t offset = 0;
  std::uint64_t until = 0;  // the backup's end
  Bytes bytes;              // whole records from offset
  // Not served, and why; `restart` says the backup must begin again.
  std::string refused;
  bool restart = false;
  friend bool operator==(const BackupChunk&, const BackupChunk&) = default;
};

// A subject's key, asked of the key store (model/personal.h) by a writer
// about to seal personal data (it is created then if the subject has none)
// or by a reader that reveals it.
struct KeyRequest {
  std::uint64_t request_id = 0;
  std::string subject;
  bool create = true;  // a writer's request: make a key if there is none
  friend bool operator==(const KeyRequest&, const KeyRequest&) = default;
};

struct KeyReply {
  std::uint64_t request_id = 0;
  std::string subject;
  enum class Status : std::uint8_t { kKey, kForgotten, kNone } status = Status::kNone;
  Bytes key;  // kKey: the subject's key
  friend bool operator==(const KeyReply&, const KeyReply&) = default;
};

using Message = std::variant<AppendRequest, AppendReply, ReadStreamRequest, ReadStreamReply,
                             ReadAllRequest, ReadAllReply, SnapshotSave, SnapshotLoadRequest,
                             SnapshotLoadReply, Deliver, DeliverAck, QueryRequest, QueryReply,
                             BackupRequest, BackupChunk, KeyRequest, KeyReply>;

Bytes encode(const Message& message);
void encode_into(const Message& message, Bytes& out);
// Any bytes at all: a message, or an error that says what is wrong and where.
sim::Result<Message> decode(ByteView bytes);

std::string_view message_name(const Message& message);

// The read model's own encoding (for projection files and query replies).
void encode_read_model(const ReadModel& model, Bytes& out);
sim::Result<ReadModel> decode_read_model(ByteView bytes);

}  // namespace essim::model
