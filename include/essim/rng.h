#pragma once
// The one source of randomness in a simulation. A domain's generate() draws
// its work from the Rng it is given, never from anything else, so the same
// seed gives the same workload.
//
// xoshiro256** seeded through splitmix64: the same seed gives the same numbers
// on every compiler, standard library and machine. Bounded integers and
// probabilities are computed here, never with std::*_distribution, whose output
// differs between standard libraries.

#include <array>
#include <cstdint>
#include <string_view>

namespace essim {

class Rng {
 public:
  explicit Rng(std::uint64_t seed);

  // A generator in exactly this xoshiro256** state (for reference vectors).
  // REQUIRES: not all four words zero.
  static Rng from_state(const std::array<std::uint64_t, 4>& state);

  // The next raw 64-bit output.
  std::uint64_t next();

  // Uniform in [0, bound). REQUIRES: bound > 0.
  std::uint64_t below(std::uint64_t bound);

  // Uniform in [min, max], both included. REQUIRES: min <= max.
  std::int64_t between(std::int64_t min, std::int64_t max);

  // True with probability `p`. REQUIRES: 0 <= p <= 1. Draws nothing when p is
  // exactly 0 or 1, so a fault that is off costs no draw.
  bool chance(double p);

  // Uniform in [0, 1), with 53 random bits.
  double unit();

  // An independent stream for one component, derived from this stream's seed
  // and `label` only: it does not advance this stream, and the order in which
  // components split their streams changes nothing.
  Rng split(std::string_view label) const;
  Rng split(std::string_view label, std::uint64_t index) const;

  // The seed this stream was created from (for reports and sub-streams).
  std::uint64_t seed() const { return seed_; }

 private:
  std::uint64_t seed_;
  std::array<std::uint64_t, 4> state_{};
};

}  // namespace essim
