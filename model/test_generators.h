#pragma once
// RapidCheck generators for the model's types (tests only).

#include <rapidcheck.h>

#include "model/messages.h"

namespace rc {

// Values nested at most `depth` deep.
inline Gen<essim::Value> value_gen(int depth) {
  return gen::exec([depth]() -> essim::Value {
    switch (*gen::inRange(0, depth > 0 ? 6 : 4)) {
      case 0:
        return essim::Value();
      case 1:
        return essim::Value(*gen::arbitrary<bool>());
      case 2:
        return essim::Value(*gen::arbitrary<std::int64_t>());
      case 3:
        return essim::Value(*gen::arbitrary<std::string>());
      case 4:
        return essim::Value(
            *gen::resize(4, gen::container<essim::Value::List>(value_gen(depth - 1))));
      default:
        return essim::Value(
            *gen::resize(4, gen::container<essim::Value::Map>(gen::arbitrary<std::string>(),
                                                              value_gen(depth - 1))));
    }
  });
}

template <>
struct Arbitrary<essim::Value> {
  static Gen<essim::Value> arbitrary() { return value_gen(3); }
};

template <>
struct Arbitrary<essim::model::Id128> {
  static Gen<essim::model::Id128> arbitrary() {
    return gen::build<essim::model::Id128>(gen::set(&essim::model::Id128::hi),
                                           gen::set(&essim::model::Id128::lo));
  }
};

template <>
struct Arbitrary<essim::model::Event> {
  static Gen<essim::model::Event> arbitrary() {
    using essim::model::Event;
    return gen::exec([] {
      Event e;
      e.id = *gen::arbitrary<essim::model::Id128>();
      e.stream = *gen::arbitrary<std::string>();
      e.version = *gen::arbitrary<std::uint64_t>();
      e.position = *gen::arbitrary<std::uint64_t>();
      e.type = *gen::arbitrary<std::string>();
      e.schema_version = *gen::arbitrary<std::uint32_t>();
      e.payload = *gen::arbitrary<essim::model::Bytes>();
      e.metadata.recorded_at_us = *gen::arbitrary<std::int64_t>();
      e.metadata.actor = *gen::arbitrary<std::string>();
      e.metadata.causation_id = *gen::arbitrary<essim::model::Id128>();
      e.metadata.correlation_id = *gen::arbitrary<essim::model::Id128>();
      e.metadata.command_id = *gen::arbitrary<essim::model::Id128>();
      return e;
    });
  }
};

template <>
struct Arbitrary<essim::model::Message> {
  static Gen<essim::model::Message> arbitrary() {
    using namespace essim::model;
    auto events = [] { return *gen::container<std::vector<Event>>(gen::arbitrary<Event>()); };
    auto u64 = [] { return *gen::arbitrary<std::uint64_t>(); };
    auto text = [] { return *gen::arbitrary<std::string>(); };
    return gen::exec([=]() -> Message {
      switch (*gen::inRange<int>(0, static_cast<int>(std::variant_size_v<Message>))) {
        case 0:
          return AppendRequest{u64(), text(), *gen::arbitrary<std::int64_t>(),
                               *gen::arbitrary<Id128>(), events()};
        case 1:
          return AppendReply{
              u64(),
              *gen::element(AppendStatus::kOk, AppendStatus::kConflict, AppendStatus::kRejected),
              u64(),
              u64(),
              *gen::arbitrary<bool>(),
              text()};
        case 2:
          return ReadStreamRequest{u64(), text(), u64(), *gen::arbitrary<std::uint32_t>()};
        case 3:
          return ReadStreamReply{u64(), u64(), events()};
        case 4:
          return ReadAllRequest{u64(), u64(), *gen::arbitrary<std::uint32_t>()};
        case 5:
          return ReadAllReply{u64(), u64(), events()};
        case 6:
          return SnapshotSave{text(), u64(), *gen::arbitrary<Bytes>()};
        case 7:
          return SnapshotLoadRequest{u64(), text()};
        case 8:
          return SnapshotLoadReply{u64(), *gen::arbitrary<bool>(), u64(), *gen::arbitrary<Bytes>()};
        case 9:
          return Deliver{*gen::arbitrary<Event>()};
        case 10:
          return DeliverAck{u64()};
        case 11:
          return QueryRequest{u64()};
        case 13:
          return BackupRequest{u64(), u64(), u64(), u64()};
        case 14:
          return BackupChunk{
              u64(), u64(), u64(), *gen::arbitrary<Bytes>(), text(), *gen::arbitrary<bool>()};
        case 15:
          return KeyRequest{u64(), text(), *gen::arbitrary<bool>()};
        case 16:
          return KeyReply{u64(), text(),
                          *gen::element(KeyReply::Status::kKey, KeyReply::Status::kForgotten,
                                        KeyReply::Status::kNone),
                          *gen::arbitrary<Bytes>()};
        default:
          return QueryReply{u64(), *gen::arbitrary<ReadModel>(), u64(),
                            *gen::container<std::map<std::string, std::uint64_t>>(
                                gen::string<std::string>(), gen::arbitrary<std::uint64_t>())};
      }
    });
  }
};

}  // namespace rc
