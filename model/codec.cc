#include "model/codec.h"

#include <fmt/format.h>
#include <cstring>

#include <boost/crc.hpp>

#include "sim/assert.h"

namespace essim::model {

namespace {
using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

#if defined(__x86_64__)
// The reflected CRC32C register, advanced over `bytes` (no inversions).
__attribute__((target("sse4.2"))) std::uint32_t sse42_update(std::uint32_t crc, ByteView bytes) {
  const std::uint8_t* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t wide = crc;
  for (; n >= 8; n -= 8, p += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, p, 8);
    wide = __builtin_ia32_crc32di(wide, word);
  }
  crc = static_cast<std::uint32_t>(wide);
  for (; n > 0; --n, ++p) crc = __builtin_ia32_crc32qi(crc, *p);
  return crc;
}
#endif

bool hardware() {
#if defined(__x86_64__)
  static const bool yes = __builtin_cpu_supports("sse4.2") != 0;
  return yes;
#else
  return false;
#endif
}
}  // namespace

namespace detail {

bool crc32c_hardware() {
  return hardware();
}

std::uint32_t crc32c_portable(ByteView first, ByteView second) {
  Crc32c crc;
  crc.process_bytes(first.data(), first.size());
  crc.process_bytes(second.data(), second.size());
  return crc.checksum();
}

std::uint32_t crc32c_sse42(ByteView first, ByteView second) {
#if defined(__x86_64__)
  return ~sse42_update(sse42_update(0xFFFFFFFFU, first), second);
#else
  (void)first;
  (void)second;
  ESSIM_ASSERT_MSG(false, "no SSE4.2 on this processor");
  return 0;
#endif
}

}  // namespace detail

std::uint32_t crc32c(ByteView bytes) {
  return crc32c(bytes, {});
}

std::uint32_t crc32c(ByteView first, ByteView second) {
  return hardware() ? detail::crc32c_sse42(first, second) : detail::crc32c_portable(first, second);
}

}  // namespace essim::model

namespace essim {

// ---- Writer ----

void Writer::u32(std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::u64(std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out_.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

void Writer::varint(std::uint64_t v) {
  while (v >= 0x80) {
    out_.push_back(static_cast<std::uint8_t>(v | 0x80));
    v >>= 7;
  }
  out_.push_back(static_cast<std::uint8_t>(v));
}

void Writer::svarint(std::int64_t v) {
  const auto u = static_cast<std::uint64_t>(v);
  varint((u << 1) ^ (v < 0 ? ~std::uint64_t{0} : 0));
}

void Writer::string(std::string_view s) {
  varint(s.size());
  out_.insert(out_.end(), s.begin(), s.end());
}

void Writer::bytes(ByteView b) {
  varint(b.size());
  out_.insert(out_.end(), b.begin(), b.end());
}

void Writer::id(const Id128& id) {
  u64(id.hi);
  u64(id.lo);
}

void Writer::event(const Event& e) {
  id(e.id);
  string(e.stream);
  varint(e.version);
  varint(e.position);
  string(e.type);
  varint(e.schema_version);
  bytes(e.payload);
  svarint(e.metadata.recorded_at_us);
  string(e.metadata.actor);
  id(e.metadata.causation_id);
  id(e.metadata.correlation_id);
  id(e.metadata.command_id);
}

// ---- Reader ----

void Reader::fail(std::string_view what) {
  if (error_ == nullptr)
    error_ = std::make_unique<std::string>(fmt::format("{} at byte {}", what, at_));
}

const std::string& Reader::error() const {
  static const std::string none;
  return error_ == nullptr ? none : *error_;
}

void Reader::need_failed(std::size_t n, const char* what) {
  if (!ok()) return;
  fail(fmt::format("truncated input: {} needs {} bytes, {} left", what, n, remaining()));
}

std::uint64_t Reader::varint_long() {
  if (ok()) {
    const std::uint8_t* p = in_.data() + at_;
    std::uint64_t v = 0;
    if (read_varint(p, in_.data() + in_.size(), v)) {
      at_ = static_cast<std::size_t>(p - in_.data());
      return v;
    }
  }
  return varint_slow();  // names what is wrong
}

std::uint64_t Reader::varint_slow() {
  std::uint64_t v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (!need(1, "varint")) return 0;
    const std::uint8_t byte = in_[at_++];
    if (shift == 63 && byte > 1) {
      fail("varint overflows 64 bits");
      return 0;
    }
    v |= std::uint64_t{byte & 0x7fU} << shift;
    if ((byte & 0x80) == 0) return v;
  }
  fail("varint longer than 10 bytes");
  return 0;
}

bool Reader::boolean() {
  const std::uint8_t b = u8();
  if (b > 1) fail("boolean is neither 0 nor 1");
  return b == 1;
}

void Reader::count_failed(std::uint64_t n) {
  if (!ok()) return;
  fail(fmt::format("count {} exceeds what {} bytes can hold", n, remaining()));
}

std::string Reader::string() {
  const std::size_t n = count(1);
  if (!need(n, "string")) return {};
  std::string s(reinterpret_cast<const char*>(in_.data() + at_), n);  // NOLINT
  at_ += n;
  return s;
}

std::string_view Reader::text() {
  const std::size_t n = count(1);
  if (!need(n, "string")) return {};
  const std::string_view s(reinterpret_cast<const char*>(in_.data() + at_), n);  // NOLINT
  at_ += n;
  return s;
}

Bytes Reader::bytes() {
  const std::size_t n = count(1);
  if (!need(n, "bytes")) return {};
  Bytes b(in_.begin() + static_cast<std::ptrdiff_t>(at_),
          in_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
  at_ += n;
  return b;
}

namespace {

// The `n` bytes at `from`, sizeof(Word) <= n <= 2 * sizeof(Word), as two
// overlapping words: the first and the last. Always inlined, as are the
// helpers below: GCC's heuristics call them out of line from the decoder
// otherwise, which costs more than they do.
template <typename Word>
__attribute__((always_inline)) inline void copy_ends(std::uint8_t* out, const std::uint8_t* from,
                                                     std::size_t n) {
  Word head = 0;
  Word tail = 0;
  std::memcpy(&head, from, sizeof(Word));
  std::memcpy(&tail, from + n - sizeof(Word), sizeof(Word));
  std::memcpy(out, &head, sizeof(Word));
  std::memcpy(out + n - sizeof(Word), &tail, sizeof(Word));
}

// Copies `n` bytes that are usually few (a stream name, an event type, a
// small payload): for those, a call to memcpy costs more than the copy.
// Every access is inside both buffers.
__attribute__((always_inline)) inline void copy_short(void* to, const std::uint8_t* from,
                                                      std::size_t n) {
  auto* out = static_cast<std::uint8_t*>(to);
  if (n >= 8 && n <= 16) {
    copy_ends<std::uint64_t>(out, from, n);
  } else if (n >= 4 && n < 8) {
    copy_ends<std::uint32_t>(out, from, n);
  } else if (n > 16) {
    std::memcpy(out, from, n);
  } else if (n > 0) {  // 1 to 3: the first, middle and last byte, without a loop
    out[0] = from[0];
    out[n / 2] = from[n / 2];
    out[n - 1] = from[n - 1];
  }
}

// `out` (a std::string or Bytes) made the `n` bytes at `from`, reusing its
// buffer: no allocation once it has held that many. A field usually has the
// size it had in the event before (a stream's name, its type): then it is
// overwritten in place.
template <typename Buffer>
__attribute__((always_inline)) inline void assign_short(Buffer& out, const std::uint8_t* from,
                                                        std::size_t n) {
  // (resize then copy: cheaper than assign, which calls memmove.)
  if (out.size() != n) out.resize(n);
  copy_short(out.data(), from, n);
}

__attribute__((always_inline)) inline std::uint64_t load_u64(const std::uint8_t* p) {
  return std::uint64_t{p[0]} | std::uint64_t{p[1]} << 8 | std::uint64_t{p[2]} << 16 |
         std::uint64_t{p[3]} << 24 | std::uint64_t{p[4]} << 32 | std::uint64_t{p[5]} << 40 |
         std::uint64_t{p[6]} << 48 | std::uint64_t{p[7]} << 56;
}

}  // namespace

void Reader::event_into(Event& e) {
  const std::size_t start = at_;
  if (ok() && event_fast(e)) [[likely]]
    return;
  // Something is amiss (or the reader failed before): read it again field by
  // field, which stops where the fault is and names it.
  at_ = start;
  event_checked(e);
}

// The same fields as event_checked, from raw pointers: each field's bounds
// checked once, `at_` written once. False, with `e` partly written and
// nothing reported, on anything event_checked would fail on.
bool Reader::event_fast(Event& e) {
  const std::uint8_t* p = in_.data() + at_;
  const std::uint8_t* const end = in_.data() + in_.size();
  // Inlined: `p` then stays in a register.
  const auto id = [&p, end ](Id128 & out) __attribute__((always_inline)) {
    if (end - p < 16) return false;
    out.hi = load_u64(p);
    out.lo = load_u64(p + 8);
    p += 16;
    return true;
  };
  const auto string = [&p, end ](auto& out) __attribute__((always_inline)) {
    std::uint64_t n = 0;
    if (!read_varint(p, end, n) || n > static_cast<std::uint64_t>(end - p)) return false;
    assign_short(out, p, static_cast<std::size_t>(n));
    p += n;
    return true;
  };
  std::uint64_t schema = 0;
  std::uint64_t recorded_at = 0;
  const bool read = id(e.id) && string(e.stream) && read_varint(p, end, e.version) &&
                    read_varint(p, end, e.position) && string(e.type) &&
                    read_varint(p, end, schema) && schema <= UINT32_MAX && string(e.payload) &&
                    read_varint(p, end, recorded_at) && string(e.metadata.actor) &&
                    id(e.metadata.causation_id) && id(e.metadata.correlation_id) &&
                    id(e.metadata.command_id);
  if (!read) return false;
  e.schema_version = static_cast<std::uint32_t>(schema);
  e.metadata.recorded_at_us = unzigzag(recorded_at);
  at_ = static_cast<std::size_t>(p - in_.data());
  return true;
}

void Reader::event_checked(Event& e) {
  e.id = id();
  const auto read_string = [this](std::string& out) {
    const std::size_t n = count(1);
    if (!need(n, "string")) {
      out.clear();
      return;
    }
    out.assign(reinterpret_cast<const char*>(in_.data() + at_), n);  // NOLINT
    at_ += n;
  };
  read_string(e.stream);
  e.version = varint();
  e.position = varint();
  read_string(e.type);
  const std::uint64_t schema = varint();
  if (schema > UINT32_MAX) fail("schema version out of range");
  e.schema_version = static_cast<std::uint32_t>(schema);
  const std::size_t n = count(1);
  if (need(n, "payload")) {
    e.payload.assign(in_.begin() + static_cast<std::ptrdiff_t>(at_),
                     in_.begin() + static_cast<std::ptrdiff_t>(at_ + n));
    at_ += n;
  } else {
    e.payload.clear();
  }
  e.metadata.recorded_at_us = svarint();
  read_string(e.metadata.actor);
  e.metadata.causation_id = id();
  e.metadata.correlation_id = id();
  e.metadata.command_id = id();
}

Event Reader::event() {
  Event e;
  event_into(e);
  return e;
}

}  // namespace essim
