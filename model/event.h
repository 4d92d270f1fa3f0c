#pragma once
// Events: immutable facts, as the store keeps them.

#include <compare>
#include <cstdint>
#include <string>

#include "sim/rng.h"
#include "sim/time.h"
#include "sim/types.h"

namespace essim::model {

using sim::Bytes;
using sim::ByteView;
using sim::Micros;

// A 128-bit identifier (event ids, command ids, correlation ids).
struct Id128 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool empty() const { return hi == 0 && lo == 0; }
  friend auto operator<=>(const Id128&, const Id128&) = default;
  friend bool operator==(const Id128&, const Id128&) = default;
};
std::string to_string(const Id128& id);  // 32 hex digits
// A fresh id from a node's stream (never the empty id).
Id128 random_id(sim::Rng& rng);

using EventId = Id128;
using CommandId = Id128;

struct EventMetadata {
  Micros recorded_at_us = 0;
  std::string actor;
  EventId causation_id;
  EventId correlation_id;
  CommandId command_id;
  friend bool operator==(const EventMetadata&, const EventMetadata&) = default;
};

struct Event {
  EventId id;
  std::string stream;
  std::uint64_t version = 0;   // 1-based within its stream; 0 before the store assigns it
  std::uint64_t position = 0;  // 1-based global position; 0 before the store assigns it
  std::string type;
  std::uint32_t schema_version = 1;
  Bytes payload;
  EventMetadata metadata;
  friend bool operator==(const Event&, const Event&) = default;
};

// `stream@version (#position) type vN`
std::string describe(const Event& event);

}  // namespace essim::model
