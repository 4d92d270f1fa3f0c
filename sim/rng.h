#pragma once
// The one source of randomness in a simulation: essim::Rng (public,
// include/essim/rng.h), and the hashing helpers its streams are split with.

#include <cstdint>
#include <string_view>

#include <essim/rng.h>

namespace essim::sim {

using essim::Rng;

// One step of splitmix64: advances `state` and returns the next output.
std::uint64_t splitmix64(std::uint64_t& state);

// A stable 64-bit hash of a label (FNV-1a), the same on every platform.
std::uint64_t hash_label(std::string_view label);

}  // namespace essim::sim
