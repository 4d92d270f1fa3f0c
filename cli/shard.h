#pragma once
// `--shard I/N`: shard I of N takes every N-th seed.

#include <charconv>
#include <cstdint>
#include <string_view>

namespace essim::cli {

// Reads `I/N` with 0 <= I < N.
inline bool parse_shard(std::string_view text, std::uint64_t& index, std::uint64_t& count) {
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  const char* end = text.data() + text.size();
  const auto a = std::from_chars(text.data(), text.data() + slash, index);
  const auto b = std::from_chars(text.data() + slash + 1, end, count);
  return a.ec == std::errc{} && a.ptr == text.data() + slash && b.ec == std::errc{} &&
         b.ptr == end && count > 0 && index < count;
}

}  // namespace essim::cli
