#include "model/messages.h"

#include <fmt/format.h>

#include "model/codec.h"

namespace essim::model {

namespace {

// ---- bodies: one write and one read per message type ----

void write_events(Writer& w, const std::vector<Event>& events) {
  w.varint(events.size());
  for (const Event& e : events) w.event(e);
}

std::vector<Event> read_events(Reader& r) {
  // An encoded event takes at least 16 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 1 + 48 bytes.
  const std::size_t n = r.count(72);
  std::vector<Event> events;
  events.reserve(n);
  for (std::size_t i = 0; i < n && r.ok(); ++i) events.push_back(r.event());
  return events;
}

void write_model(Writer& w, const ReadModel& model) {
  essim::encode(w, model);
}

ReadModel read_model(Reader& r) {
  auto model = essim::decode_read_model(r);
  if (model) return std::move(model).value();
  if (r.ok()) r.fail(model.error().message);
  return {};
}

void write_body(Writer& w, const AppendRequest& m) {
  w.varint(m.request_id);
  w.string(m.stream);
  w.svarint(m.expected_version);
  w.id(m.command_id);
  write_events(w, m.events);
}
void read_body(Reader& r, AppendRequest& m) {
  m.request_id = r.varint();
  m.stream = r.string();
  m.expected_version = r.svarint();
  m.command_id = r.id();
  m.events = read_events(r);
}

void write_body(Writer& w, const AppendReply& m) {
  w.varint(m.request_id);
  w.u8(static_cast<std::uint8_t>(m.status));
  w.varint(m.first_position);
  w.varint(m.stream_version);
  w.boolean(m.replayed);
  w.string(m.message);
}
void read_body(Reader& r, AppendReply& m) {
  m.request_id = r.varint();
  const std::uint8_t status = r.u8();
  if (status > static_cast<std::uint8_t>(AppendStatus::kRejected)) r.fail("unknown append status");
  m.status = static_cast<AppendStatus>(status);
  m.first_position = r.varint();
  m.stream_version = r.varint();
  m.replayed = r.boolean();
  m.message = r.string();
}

void write_body(Writer& w, const ReadStreamRequest& m) {
  w.varint(m.request_id);
  w.string(m.stream);
  w.varint(m.from_version);
  w.varint(m.max_count);
}
void read_body(Reader& r, ReadStreamRequest& m) {
  m.request_id = r.varint();
  m.stream = r.string();
  m.from_version = r.varint();
  const std::uint64_t max = r.varint();
  if (max > UINT32_MAX) r.fail("max_count out of range");
  m.max_count = static_cast<std::uint32_t>(max);
}

void write_body(Writer& w, const ReadStreamReply& m) {
  w.varint(m.request_id);
  w.varint(m.stream_version);
  write_events(w, m.events);
}
void read_body(Reader& r, ReadStreamReply& m) {
  m.request_id = r.varint();
  m.stream_version = r.varint();
  m.events = read_events(r);
}

void write_body(Writer& w, const ReadAllRequest& m) {
  w.varint(m.request_id);
  w.varint(m.from_position);
  w.varint(m.max_count);
}
void read_body(Reader& r, ReadAllRequest& m) {
  m.request_id = r.varint();
  m.from_position = r.varint();
  const std::uint64_t max = r.varint();
  if (max > UINT32_MAX) r.fail("max_count out of range");
  m.max_count = static_cast<std::uint32_t>(max);
}

void write_body(Writer& w, const ReadAllReply& m) {
  w.varint(m.request_id);
  w.varint(m.visible_position);
  write_events(w, m.events);
}
void read_body(Reader& r, ReadAllReply& m) {
  m.request_id = r.varint();
  m.visible_position = r.varint();
  m.events = read_events(r);
}

void write_body(Writer& w, const SnapshotSave& m) {
  w.string(m.stream);
  w.varint(m.version);
  w.bytes(m.state);
}
void read_body(Reader& r, SnapshotSave& m) {
  m.stream = r.string();
  m.version = r.varint();
  m.state = r.bytes();
}

void write_body(Writer& w, const SnapshotLoadRequest& m) {
  w.varint(m.request_id);
  w.string(m.stream);
}
void read_body(Reader& r, SnapshotLoadRequest& m) {
  m.request_id = r.varint();
  m.stream = r.string();
}

void write_body(Writer& w, const SnapshotLoadReply& m) {
  w.varint(m.request_id);
  w.boolean(m.found);
  w.varint(m.version);
  w.bytes(m.state);
}
void read_body(Reader& r, SnapshotLoadReply& m) {
  m.request_id = r.varint();
  m.found = r.boolean();
  m.version = r.varint();
  m.state = r.bytes();
}

void write_body(Writer& w, const Deliver& m) {
  w.event(m.event);
}
void read_body(Reader& r, Deliver& m) {
  m.event = r.event();
}

void write_body(Writer& w, const DeliverAck& m) {
  w.varint(m.position);
}
void read_body(Reader& r, DeliverAck& m) {
  m.position = r.varint();
}

void write_body(Writer& w, const QueryRequest& m) {
  w.varint(m.request_id);
}
void read_body(Reader& r, QueryRequest& m) {
  m.request_id = r.varint();
}

void write_body(Writer& w, const QueryReply& m) {
  w.varint(m.request_id);
  write_model(w, m.model);
  w.varint(m.events_applied);
  w.varint(m.applied.size());
  for (const auto& [stream, version] : m.applied) {
    w.string(stream);
    w.varint(version);
  }
}
void read_body(Reader& r, QueryReply& m) {
  m.request_id = r.varint();
  m.model = read_model(r);
  m.events_applied = r.varint();
  const std::size_t n = r.count(2);
  for (std::size_t i = 0; i < n && r.ok(); ++i) {
    std::string stream = r.string();
    m.applied[std::move(stream)] = r.varint();
  }
}

void write_body(Writer& w, const BackupRequest& m) {
  w.varint(m.request_id);
  w.varint(m.offset);
  w.varint(m.until);
  w.u64(m.previous_hash);
}
void read_body(Reader& r, BackupRequest& m) {
  m.request_id = r.varint();
  m.offset = r.varint();
  m.until = r.varint();
  m.previous_hash = r.u64();
}

void write_body(Writer& w, const BackupChunk& m) {
  w.varint(m.request_id);
  w.varint(m.offset);
  w.varint(m.until);
  w.bytes(m.bytes);
  w.string(m.refused);
  w.boolean(m.restart);
}
void read_body(Reader& r, BackupChunk& m) {
  m.request_id = r.varint();
  m.offset = r.varint();
  m.until = r.varint();
  m.bytes = r.bytes();
  m.refused = r.string();
  m.restart = r.boolean();
}

void write_body(Writer& w, const KeyRequest& m) {
  w.varint(m.request_id);
  w.string(m.subject);
  w.boolean(m.create);
}
void read_body(Reader& r, KeyRequest& m) {
  m.request_id = r.varint();
  m.subject = r.string();
  m.create = r.boolean();
}

void write_body(Writer& w, const KeyReply& m) {
  w.varint(m.request_id);
  w.string(m.subject);
  w.u8(static_cast<std::uint8_t>(m.status));
  w.bytes(m.key);
}
void read_body(Reader& r, KeyReply& m) {
  m.request_id = r.varint();
  m.subject = r.string();
  const std::uint8_t status = r.u8();
  if (status > static_cast<std::uint8_t>(KeyReply::Status::kNone)) r.fail("unknown key status");
  m.status = static_cast<KeyReply::Status>(status);
  m.key = r.bytes();
}

constexpr std::string_view kNames[] = {
    "AppendRequest", "AppendReply",  "ReadStreamRequest",   "ReadStreamReply",   "ReadAllRequest",
    "ReadAllReply",  "SnapshotSave", "SnapshotLoadRequest", "SnapshotLoadReply", "Deliver",
    "DeliverAck",    "QueryRequest", "QueryReply",          "BackupRequest",     "BackupChunk",
    "KeyRequest",    "KeyReply"};
static_assert(std::size(kNames) == std::variant_size_v<Message>);

// Builds the alternative with index `type` and reads its body.
template <std::size_t I = 0>
Message read_alternative(std::size_t type, Reader& r) {
  if constexpr (I < std::variant_size_v<Message>) {
    if (type == I) {
      std::variant_alternative_t<I, Message> m;
      read_body(r, m);
      return m;
    }
    return read_alternative<I + 1>(type, r);
  } else {
    r.fail("unknown message type");
    return Message{};
  }
}

}  // namespace

std::string_view message_name(const Message& message) {
  return kNames[message.index()];
}

void encode_into(const Message& message, Bytes& out) {
  out.clear();
  Bytes body;
  Writer bw(body);
  std::visit([&bw](const auto& m) { write_body(bw, m); }, message);
  Writer w(out);
  w.u8(kMagic);
  w.u8(kCodecVersion);
  w.u8(static_cast<std::uint8_t>(message.index()));
  w.varint(body.size());
  out.insert(out.end(), body.begin(), body.end());
}

Bytes encode(const Message& message) {
  Bytes out;
  encode_into(message, out);
  return out;
}

sim::Result<Message> decode(ByteView bytes) {
  Reader r(bytes);
  const std::uint8_t magic = r.u8();
  if (r.ok() && magic != kMagic) {
    return sim::Error{
        fmt::format("not an essim message (first byte 0x{:02x}, not 0x{:02x})", magic, kMagic)};
  }
  const std::uint8_t version = r.u8();
  if (r.ok() && version != kCodecVersion) {
    return sim::Error{fmt::format("codec version {} is not supported (this build speaks {})",
                                  version, kCodecVersion)};
  }
  const std::uint8_t type = r.u8();
  const std::uint64_t length = r.varint();
  if (r.ok() && length != r.remaining()) {
    return sim::Error{fmt::format("message body says {} bytes, {} follow", length, r.remaining())};
  }
  if (!r.ok()) return sim::Error{"bad message envelope: " + r.error()};
  Message m = read_alternative(type, r);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes after the message body");
  if (!r.ok()) return sim::Error{fmt::format("bad message (type {}): {}", type, r.error())};
  return m;
}

void encode_read_model(const ReadModel& model, Bytes& out) {
  Writer w(out);
  write_model(w, model);
}

sim::Result<ReadModel> decode_read_model(ByteView bytes) {
  Reader r(bytes);
  ReadModel model = read_model(r);
  if (r.ok() && !r.at_end()) r.fail("trailing bytes after the read model");
  if (!r.ok()) return sim::Error{"bad read model: " + r.error()};
  return model;
}

}  // namespace essim::model
