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
#include <string>
#include <string_view>

#include <essim/event.h>

namespace essim {

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
  std::uint64_t varint() {
    // One byte is the common case (small counts, versions, lengths).
    if (ok() && at_ < in_.size() && in_[at_] < 0x80) [[likely]]
      return in_[at_++];
    return varint_long();
  }
  std::int64_t svarint() { return unzigzag(varint()); }
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

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
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
  std::string error_;
};

}  // namespace essim
