#pragma once
// Events: immutable facts, as the store keeps them. A domain's evolve and its
// projection handlers read them; its deciders write NewEvents (domain.h).

#include <compare>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace essim {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;
// Simulated time: an integer count of microseconds.
using Micros = std::int64_t;

// A 128-bit identifier (event ids, command ids, correlation ids).
struct Id128 {
  std::uint64_t hi = 0;
  std::uint64_t lo = 0;
  bool empty() const { return hi == 0 && lo == 0; }
  friend auto operator<=>(const Id128&, const Id128&) = default;
  friend bool operator==(const Id128&, const Id128&) = default;
};
std::string to_string(const Id128& id);  // 32 hex digits

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

}  // namespace essim
