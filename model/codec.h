#pragma once
// The binary codec's primitives: little-endian fixed-width integers, LEB128
// varints, length-prefixed strings and byte strings.
//
// Reader never reads out of bounds: every read checks what is left, a failure
// is sticky (later reads return zero values), and ok()/error() tell the caller
// at the end. A length or count can never ask for more than the bytes left, so
// hostile input cannot make it allocate much either.

#include <cstdint>
#include <string>
#include <string_view>

#include "model/event.h"
#include "sim/result.h"

namespace essim::model {

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
  std::uint8_t u8();
  std::uint32_t u32();
  std::uint64_t u64();
  std::uint64_t varint();
  std::int64_t svarint();
  bool boolean();
  std::string string();
  Bytes bytes();
  Id128 id();
  Event event();
  // A count of elements that each take at least `min_element_bytes`.
  std::size_t count(std::size_t min_element_bytes = 1);

  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  std::size_t offset() const { return at_; }
  std::size_t remaining() const { return in_.size() - at_; }
  bool at_end() const { return at_ == in_.size(); }
  // Marks the input bad (sticky), naming the offset.
  void fail(std::string_view what);

 private:
  bool need(std::size_t n, std::string_view what);
  ByteView in_;
  std::size_t at_ = 0;
  std::string error_;
};

// CRC32C (Castagnoli), as in iSCSI, ext4 and most log formats.
std::uint32_t crc32c(ByteView bytes);

}  // namespace essim::model
