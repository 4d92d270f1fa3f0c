#include "sim/rng.h"

#include <bit>

#include "sim/assert.h"

namespace {
__extension__ typedef unsigned __int128 U128;  // g++ and clang++ both have it
}  // namespace

namespace essim::sim {

std::uint64_t splitmix64(std::uint64_t& state) {
  state += 0x9e3779b97f4a7c15ULL;
  std::uint64_t z = state;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t hash_label(std::string_view label) {
  std::uint64_t hash = 0xcbf29ce484222325ULL;
  for (const char c : label) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace essim::sim

namespace essim {

using sim::hash_label;
using sim::splitmix64;

Rng::Rng(std::uint64_t seed) : seed_(seed) {
  std::uint64_t sm = seed;
  for (auto& word : state_) word = splitmix64(sm);
  // splitmix64 never yields four zero words in a row, the one state
  // xoshiro cannot leave.
  ESSIM_ASSERT(state_[0] != 0 || state_[1] != 0 || state_[2] != 0 || state_[3] != 0);
}

Rng Rng::from_state(const std::array<std::uint64_t, 4>& state) {
  ESSIM_ASSERT_MSG(state[0] != 0 || state[1] != 0 || state[2] != 0 || state[3] != 0,
                   "xoshiro256** cannot start from an all-zero state");
  Rng rng(0);
  rng.state_ = state;
  return rng;
}

std::uint64_t Rng::next() {
  const std::uint64_t result = std::rotl(state_[1] * 5, 7) * 9;
  const std::uint64_t t = state_[1] << 17;
  state_[2] ^= state_[0];
  state_[3] ^= state_[1];
  state_[1] ^= state_[2];
  state_[0] ^= state_[3];
  state_[2] ^= t;
  state_[3] = std::rotl(state_[3], 45);
  return result;
}

std::uint64_t Rng::below(std::uint64_t bound) {
  ESSIM_ASSERT_MSG(bound > 0, "Rng::below(0)");
  // Lemire's nearly divisionless method: multiply into 128 bits and reject
  // the few low products that would bias the result.
  U128 product = static_cast<U128>(next()) * bound;
  auto low = static_cast<std::uint64_t>(product);
  if (low < bound) {
    const std::uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      product = static_cast<U128>(next()) * bound;
      low = static_cast<std::uint64_t>(product);
    }
  }
  return static_cast<std::uint64_t>(product >> 64);
}

std::int64_t Rng::between(std::int64_t min, std::int64_t max) {
  ESSIM_ASSERT_MSG(min <= max, "Rng::between(min, max) with min > max");
  const std::uint64_t span = static_cast<std::uint64_t>(max) - static_cast<std::uint64_t>(min);
  if (span == UINT64_MAX) return static_cast<std::int64_t>(next());
  return static_cast<std::int64_t>(static_cast<std::uint64_t>(min) + below(span + 1));
}

double Rng::unit() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

bool Rng::chance(double p) {
  ESSIM_ASSERT_MSG(p >= 0.0 && p <= 1.0, "Rng::chance(p) needs 0 <= p <= 1");
  if (p == 0.0) return false;
  if (p == 1.0) return true;
  return unit() < p;
}

Rng Rng::split(std::string_view label) const {
  return split(label, 0);
}

Rng Rng::split(std::string_view label, std::uint64_t index) const {
  std::uint64_t mix = seed_ ^ std::rotl(hash_label(label), 17);
  const std::uint64_t a = splitmix64(mix);
  std::uint64_t mix2 = a ^ (index * 0xd1b54a32d192ed03ULL);
  return Rng(splitmix64(mix2));
}

}  // namespace essim
