#pragma once
// Simulated time: an integer count of microseconds since the run began.
// No wall clock is read inside a run.

#include <cstdint>
#include <string>
#include <string_view>

#include "sim/result.h"

namespace essim::sim {

using Micros = std::int64_t;

inline constexpr Micros kMicrosPerMilli = 1'000;
inline constexpr Micros kMicrosPerSecond = 1'000'000;
// The latest time a run may reach: about 146 thousand years, far past any
// bound, and small enough that adding one more duration cannot overflow.
inline constexpr Micros kTimeMax = INT64_MAX / 2;
// The longest duration a scenario or repro may state: one day. A run lasts at
// most kChaosMax + kDurationMax (the heal bound), and every instant it
// computes is a time of the run plus a bounded number of durations, so no
// time arithmetic can come near kTimeMax.
inline constexpr Micros kDurationMax = 24 * 3600 * 1'000'000LL;
// The longest chaos phase (`duration:`, a repro's `chaos:`): one hour.
inline constexpr Micros kChaosMax = 3600 * 1'000'000LL;
// Workload rates, per second: at least one operation in 1000 s, at most a
// million a second, so a client's interval stays within 1us..kDurationMax.
inline constexpr double kRatePerSecondMin = 0.001;
inline constexpr double kRatePerSecondMax = 1'000'000;

constexpr Micros millis(std::int64_t n) {
  return n * kMicrosPerMilli;
}
constexpr Micros seconds(std::int64_t n) {
  return n * kMicrosPerSecond;
}

// A closed interval of durations, as in `1ms..50ms`.
struct DurationRange {
  Micros min_us = 0;
  Micros max_us = 0;
  friend bool operator==(const DurationRange&, const DurationRange&) = default;
};

// Parses a non-negative duration of at most kDurationMax: an integer or
// decimal number and a unit, one of `us`, `ms`, `s`, `m`, `h` (`150ms`, `2s`,
// `1.5s`, `0`). The error names the 1-based column where the text went wrong.
Result<Micros> parse_duration(std::string_view text);

// Parses `MIN..MAX` (each a duration, MIN <= MAX, exactly two dots between)
// or a single duration, which stands for the range holding that value only.
Result<DurationRange> parse_duration_range(std::string_view text);

// Parses a rate `N/s` or `N/m` (N an integer or decimal, no sign or
// exponent) into operations per second, within kRatePerSecondMin..Max.
Result<double> parse_rate(std::string_view text);

// The shortest exact spelling that parse_duration reads back: `150ms`, `2s`,
// `1500us`, `0s`.
std::string format_duration(Micros us);

// A point in simulated time for people: seconds with up to six decimals,
// trailing zeros dropped (`1.065438s`, `2.5s`, `0s`).
std::string format_time(Micros us);

}  // namespace essim::sim
