#include "sim/types.h"

#include <bit>
#include <cstring>

namespace essim::sim {

std::uint64_t hash_bytes(ByteView bytes) {
  std::uint64_t hash = fold_hash(0x243f6a8885a308d3ULL, bytes.size());
  std::size_t i = 0;
  for (; i + 8 <= bytes.size(); i += 8) {
    // The little-endian word at i (one load; the same value on any host).
    std::uint64_t word = 0;
    std::memcpy(&word, bytes.data() + i, 8);
    if constexpr (std::endian::native == std::endian::big) word = __builtin_bswap64(word);
    hash = fold_hash(hash, word);
  }
  if (i < bytes.size()) {
    std::uint64_t word = 0;
    for (std::size_t b = 0; i + b < bytes.size(); ++b)
      word |= std::uint64_t{bytes[i + b]} << (8 * b);
    hash = fold_hash(hash, word);
  }
  return hash;
}

}  // namespace essim::sim
