#pragma once
// Small vocabulary shared by every part of the kernel.

#include <cstdint>
#include <span>
#include <vector>

#include <essim/event.h>

namespace essim::sim {

using NodeId = std::uint32_t;
inline constexpr NodeId kNoNode = UINT32_MAX;

using essim::Bytes;
using essim::ByteView;

// Why a message did not arrive.
enum class DropReason : std::uint8_t {
  kRandom,        // the network's drop fault
  kPartitioned,   // a partition separates sender and receiver
  kReceiverDown,  // the receiver crashed (or restarted) while the message flew
};

// A stable 64-bit hash of bytes, the same on every platform (words are read
// little-endian whatever the host).
std::uint64_t hash_bytes(ByteView bytes);

// Mixes one 64-bit word into a running hash.
constexpr std::uint64_t fold_hash(std::uint64_t hash, std::uint64_t word) {
  hash ^= word + 0x9e3779b97f4a7c15ULL + (hash << 6) + (hash >> 2);
  hash *= 0xff51afd7ed558ccdULL;
  return hash ^ (hash >> 32);
}

}  // namespace essim::sim
