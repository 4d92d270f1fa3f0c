#pragma once
// The binary codec's primitives, for a domain's payloads and states:
// little-endian fixed-width integers, LEB128 varints (svarint: zigzag), and
// length-prefixed strings and byte strings.
//
// Reader never reads out of bounds: every read checks what is left, a failure
// is sticky (later reads return zero values), and ok()/error() tell the caller
// at the end. A length or count can never ask for more than the bytes left, so
// hostile input cannot make it allocate much either. A domain that reads a
// payload it cannot decode throws essim::BadPayload (domain.h) rather than
// going on with zeros.

#include <bit>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include <essim/event.h>

namespace essim {

// Whether two texts are equal: for short ones (event types, stream names,
// currency codes) by comparing a few words, without the call to memcmp that
// `==` makes. A domain's evolve, which compares the event's type with each it
// knows, is the replay's hot path.
[[gnu::always_inline]] inline bool same_text(std::string_view a, std::string_view b) {
  const std::size_t n = a.size();
  if (n != b.size()) return false;
  const char* x = a.data();
  const char* y = b.data();
  const auto same_ends = [x, y, n]<typename Word>(Word) {
    Word head_x = 0;
    Word head_y = 0;
    Word tail_x = 0;
    Word tail_y = 0;
    std::memcpy(&head_x, x, sizeof(Word));
    std::memcpy(&head_y, y, sizeof(Word));
    std::memcpy(&tail_x, x + n - sizeof(Word), sizeof(Word));
    std::memcpy(&tail_y, y + n - sizeof(Word), sizeof(Word));
    return ((head_x ^ head_y) | (tail_x ^ tail_y)) == 0;
  };
  if (n >= 8 && n <= 16) return same_ends(std::uint64_t{});
  if (n >= 4 && n < 8) return same_ends(std::uint32_t{});
  if (n < 4) {
    for (std::size_t i = 0; i < n; ++i) {
      if (x[i] != y[i]) return false;
    }
    return true;
  }
  return std::memcmp(x, y, n) == 0;
}

class Writer {
 public:
  explicit Writer(Bytes& out) : out_(out) {}
  void u8(std::uint8_t v) { out_.push_back(v); }
  void u32(std::uint32_t v);
  void u64(std::uint64_t v);
  void varint(std::uint64_t v);
  void svarint(std::int64_t v);  // zigzag
  void boolean(bool v) { u8(v ? 1 : 0); }
  void string(std::string_view s);
  void bytes(ByteView b);
  void id(const Id128& id);
  void event(const Event& e);
  std::size_t size() const { return out_.size(); }

 private:
  Bytes& out_;
};

class Reader {
 public:
  explicit Reader(ByteView in) : in_(in) {}
  // The fixed-width and varint readers are inline: they are the replay hot path.
  std::uint8_t u8() {
    if (!need(1, "u8")) return 0;
    return in_[at_++];
  }
  std::uint32_t u32() {
    if (!need(4, "u32")) return 0;
    const std::uint8_t* p = in_.data() + at_;
    at_ += 4;
    return std::uint32_t{p[0]} | std::uint32_t{p[1]} << 8 | std::uint32_t{p[2]} << 16 |
           std::uint32_t{p[3]} << 24;
  }
  std::uint64_t u64() {
    if (!need(8, "u64")) return 0;
    const std::uint8_t* p = in_.data() + at_;
    at_ += 8;
    return std::uint64_t{p[0]} | std::uint64_t{p[1]} << 8 | std::uint64_t{p[2]} << 16 |
           std::uint64_t{p[3]} << 24 | std::uint64_t{p[4]} << 32 | std::uint64_t{p[5]} << 40 |
           std::uint64_t{p[6]} << 48 | std::uint64_t{p[7]} << 56;
  }
  [[gnu::always_inline]] std::uint64_t varint() {
    // One byte is the common case (small counts, versions, lengths).
    if (ok() && at_ < in_.size() && in_[at_] < 0x80) [[likely]]
      return in_[at_++];
    // Two bytes (up to 16383: amounts in cents, positions) is the next.
    if (ok() && in_.size() - at_ >= 2 && in_[at_ + 1] < 0x80) {
      const std::uint64_t v = std::uint64_t{in_[at_] & 0x7fU} | std::uint64_t{in_[at_ + 1]} << 7;
      at_ += 2;
      return v;
    }
    return varint_long();
  }
  [[gnu::always_inline]] std::int64_t svarint() { return unzigzag(varint()); }
  bool boolean();
  std::string string();
  // A string as a view of the input, valid while the input is: no copy.
  std::string_view text();
  Bytes bytes();
  Id128 id() {
    Id128 id;
    id.hi = u64();
    id.lo = u64();
    return id;
  }
  Event event();
  // Decodes into `out`, reusing its buffers: no allocation in steady state.
  void event_into(Event& out);
  // A count of elements that each take at least `min_element_bytes`.
  std::size_t count(std::size_t min_element_bytes = 1) {
    const std::uint64_t n = varint();
    if (ok() && n <= remaining() / (min_element_bytes == 0 ? 1 : min_element_bytes)) [[likely]]
      return static_cast<std::size_t>(n);
    count_failed(n);
    return 0;
  }

  bool ok() const { return error_ == nullptr; }
  // What is wrong, empty while ok().
  const std::string& error() const;
  std::size_t offset() const { return at_; }
  std::size_t remaining() const { return in_.size() - at_; }
  bool at_end() const { return at_ == in_.size(); }
  // Marks the input bad (sticky), naming the offset.
  void fail(std::string_view what);

 private:
  // A varint at `p`, before `end`: true with `p` past it, or false (truncated,
  // longer than 10 bytes, or over 64 bits) having read nothing it reports.
  // Inline: the replay's event decoder reads several per event.
  static bool read_varint(const std::uint8_t*& p, const std::uint8_t* end, std::uint64_t& out) {
    if (p != end && *p < 0x80) [[likely]] {
      out = *p++;
      return true;
    }
    if constexpr (std::endian::native == std::endian::little) {
      // Up to 8 bytes at once, without a branch per byte, when that many
      // are there to load: the byte that ends the varint is the first
      // without its high bit, and its 7-bit groups are packed by halving
      // the gaps between them three times.
      if (end - p >= 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, p, 8);
        const std::uint64_t stops = ~word & 0x8080808080808080U;
        if (stops != 0) {
          const int bits = std::countr_zero(stops) + 1;  // 8 per byte of the varint
          word &= ~std::uint64_t{0} >> (64 - bits);
          word = ((word & 0x7f007f007f007f00U) >> 1) | (word & 0x007f007f007f007fU);
          word = ((word & 0x3fff00003fff0000U) >> 2) | (word & 0x00003fff00003fffU);
          word = ((word & 0x0fffffff00000000U) >> 4) | (word & 0x000000000fffffffU);
          out = word;
          p += bits / 8;
          return true;
        }
      }
    }
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (p == end) return false;
      const std::uint8_t byte = *p++;
      if (shift == 63 && byte > 1) return false;
      v |= std::uint64_t{byte & 0x7fU} << shift;
      if ((byte & 0x80) == 0) {
        out = v;
        return true;
      }
    }
    return false;
  }
  static std::int64_t unzigzag(std::uint64_t u) {
    return static_cast<std::int64_t>((u >> 1) ^ (~(u & 1) + 1));
  }
  bool event_fast(Event& out);
  void event_checked(Event& out);
  bool need(std::size_t n, const char* what) {
    if (ok() && n <= remaining()) [[likely]]
      return true;
    need_failed(n, what);
    return false;
  }
  void need_failed(std::size_t n, const char* what);
  void count_failed(std::uint64_t n);
  std::uint64_t varint_long();
  std::uint64_t varint_slow();
  ByteView in_;
  std::size_t at_ = 0;
  // Null while the input reads well: a Reader costs nothing to make and
  // destroy on the replay's hot path (a domain's evolve makes one per event).
  std::unique_ptr<std::string> error_;
};

}  // namespace essim
