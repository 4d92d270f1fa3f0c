#include "model/codec.h"

#include <optional>
#include <utility>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "model/messages.h"
#include "model/test_generators.h"

namespace essim::model {
namespace {

RC_GTEST_PROP(Codec, EveryMessageRoundTrips, (const Message& message)) {
  const Bytes bytes = encode(message);
  auto decoded = decode(bytes);
  RC_ASSERT(decoded.ok());
  RC_ASSERT(decoded.value() == message);
}

RC_GTEST_PROP(Codec, RandomBytesNeverCrashTheDecoder, (const Bytes& bytes)) {
  auto decoded = decode(bytes);
  if (decoded.ok()) RC_ASSERT(encode(decoded.value()).size() > 0U);
}

// Valid messages, then damaged: a byte changed, bytes cut off or inserted.
RC_GTEST_PROP(Codec, MutatedMessagesDecodeToAnErrorOrAMessage, (const Message& message)) {
  Bytes bytes = encode(message);
  const auto at = *rc::gen::inRange<std::size_t>(0, bytes.size());
  switch (*rc::gen::inRange(0, 4)) {
    case 0:
      bytes[at] ^= *rc::gen::inRange<std::uint8_t>(1, 255);
      break;
    case 1:
      bytes.resize(at);
      break;
    case 2:
      bytes.insert(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                   *rc::gen::arbitrary<std::uint8_t>());
      break;
    default:
      bytes.erase(bytes.begin() + static_cast<std::ptrdiff_t>(at));
      break;
  }
  auto decoded = decode(bytes);
  if (decoded.ok()) {
    // Whatever came out is a message in its own right: it round-trips.
    RC_ASSERT(decode(encode(decoded.value())).ok());
  } else {
    RC_ASSERT(!decoded.error().message.empty());
  }
}

TEST(Codec, ErrorsSayWhatIsWrong) {
  EXPECT_NE(decode(Bytes{}).error().message.find("truncated"), std::string::npos);
  EXPECT_NE(decode(Bytes{0x00}).error().message.find("not an essim message"), std::string::npos);
  EXPECT_NE(decode(Bytes{kMagic, 9, 0, 0}).error().message.find("codec version 9"),
            std::string::npos);
  EXPECT_NE(
      decode(Bytes{kMagic, kCodecVersion, 200, 0}).error().message.find("unknown message type"),
      std::string::npos);
  Bytes ok = encode(DeliverAck{5});
  ok.push_back(0);
  EXPECT_NE(decode(ok).error().message.find("says"), std::string::npos);
}

TEST(Codec, HostileCountsCannotAllocate) {
  // A ReadAllReply claiming 2^60 events in a few bytes.
  Bytes body;
  Writer w(body);
  w.varint(1);
  w.varint(1);
  w.varint(std::uint64_t{1} << 60);
  Bytes message{kMagic, kCodecVersion, 5};
  Writer(message).varint(body.size());
  message.insert(message.end(), body.begin(), body.end());
  auto decoded = decode(message);
  ASSERT_FALSE(decoded.ok());
  EXPECT_NE(decoded.error().message.find("exceeds"), std::string::npos);
}

TEST(Codec, VarintLimits) {
  Bytes max;
  Writer(max).varint(UINT64_MAX);
  EXPECT_EQ(max.size(), 10U);
  Reader r(max);
  EXPECT_EQ(r.varint(), UINT64_MAX);
  EXPECT_TRUE(r.ok());
  Bytes overflow(10, 0xff);
  overflow.back() = 0x7f;
  Reader bad(overflow);
  (void)bad.varint();
  EXPECT_FALSE(bad.ok());
  Bytes endless(11, 0x80);
  Reader worse(endless);
  (void)worse.varint();
  EXPECT_FALSE(worse.ok());
}

// A varint read a byte at a time, as the format defines it: the value, and
// the bytes it took, or nullopt when it is truncated, longer than 10 bytes
// or over 64 bits.
std::optional<std::pair<std::uint64_t, std::size_t>> reference_varint(const Bytes& bytes) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < 10 && i < bytes.size(); ++i) {
    if (i == 9 && bytes[i] > 1) return std::nullopt;
    v |= std::uint64_t{bytes[i] & 0x7fU} << (7 * i);
    if ((bytes[i] & 0x80) == 0) return std::pair{v, i + 1};
  }
  return std::nullopt;
}

// The reader takes up to 8 bytes at once when as many are left, else one at
// a time: both agree with the reference on any bytes (overlong encodings and
// garbage included), whatever follows them.
RC_GTEST_PROP(Codec, VarintsReadAsTheFormatDefinesThem, ()) {
  const auto continued = *rc::gen::inRange<std::size_t>(0, 12);
  Bytes bytes = *rc::gen::container<Bytes>(continued + *rc::gen::inRange<std::size_t>(0, 12),
                                           rc::gen::arbitrary<std::uint8_t>());
  for (std::size_t i = 0; i < continued && i < bytes.size(); ++i) bytes[i] |= 0x80;
  Reader r(bytes);
  const std::uint64_t v = r.varint();
  const auto expected = reference_varint(bytes);
  RC_ASSERT(r.ok() == expected.has_value());
  if (expected) {
    RC_ASSERT(v == expected->first);
    RC_ASSERT(r.offset() == expected->second);
  }
}

// same_text is ==, for texts of every length it has a path for (none, 1 to
// 3, 4 to 7, 8 to 16, longer) that differ anywhere or nowhere, or in length.
RC_GTEST_PROP(Codec, SameTextIsEquality, ()) {
  const auto size = *rc::gen::inRange<std::size_t>(0, 40);
  const std::string a = *rc::gen::container<std::string>(size, rc::gen::arbitrary<char>());
  std::string b = a;
  const auto change = *rc::gen::inRange(0, 3);
  if (change == 1 && !b.empty()) {
    const auto at = *rc::gen::inRange<std::size_t>(0, b.size());
    b[at] = static_cast<char>(b[at] ^ *rc::gen::inRange(1, 256));
  } else if (change == 2) {
    b = *rc::gen::container<std::string>(*rc::gen::inRange<std::size_t>(0, 40),
                                         rc::gen::arbitrary<char>());
  }
  RC_ASSERT(same_text(a, b) == (a == b));
  RC_ASSERT(same_text(b, a) == (a == b));
  // A view into a longer text: equality reads no byte past either end.
  const std::string longer = a + "x";
  RC_ASSERT(same_text(std::string_view(longer).substr(0, a.size()), b) == (a == b));
}

TEST(Codec, AReaderThatFailedSaysWhy) {
  const Bytes none;
  Reader ok(none);
  EXPECT_TRUE(ok.ok());
  EXPECT_EQ(ok.error(), "");
  Reader r(none);
  (void)r.u8();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.error(), "truncated input: u8 needs 1 bytes, 0 left at byte 0");
  r.fail("something else");  // the first failure is kept
  EXPECT_EQ(r.error(), "truncated input: u8 needs 1 bytes, 0 left at byte 0");
}

// An event decoded into an Event that held another one (fields of other
// sizes, a payload longer or shorter) is the event, whatever follows it.
RC_GTEST_PROP(Codec, EventsDecodeIntoAReusedEvent,
              (const Event& before, const Event& event, const Bytes& after)) {
  Bytes bytes;
  Writer w(bytes);
  w.event(event);
  bytes.insert(bytes.end(), after.begin(), after.end());
  Reader r(bytes);
  Event into = before;
  r.event_into(into);
  RC_ASSERT(r.ok());
  RC_ASSERT(into == event);
  RC_ASSERT(r.remaining() == after.size());
}

RC_GTEST_PROP(Codec, SignedVarintsRoundTrip, (std::int64_t v)) {
  Bytes b;
  Writer(b).svarint(v);
  Reader r(b);
  RC_ASSERT(r.svarint() == v);
  RC_ASSERT(r.at_end());
}

// The hardware CRC32C and Boost.CRC's tables agree on every input, split
// anywhere (the log's format must not depend on the processor).
RC_GTEST_PROP(Codec, Crc32cHardwareAndPortableAgree, (const Bytes& first, const Bytes& second)) {
  const std::uint32_t portable = detail::crc32c_portable(first, second);
  Bytes joined = first;
  joined.insert(joined.end(), second.begin(), second.end());
  RC_ASSERT(crc32c(joined) == portable);
  RC_ASSERT(crc32c(first, second) == portable);
  if (detail::crc32c_hardware()) RC_ASSERT(detail::crc32c_sse42(first, second) == portable);
}

TEST(Codec, Crc32cKnownAnswer) {
  // RFC 3720's check value for "123456789".
  const std::string text = "123456789";
  EXPECT_EQ(crc32c(ByteView(reinterpret_cast<const std::uint8_t*>(text.data()), text.size())),
            0xE3069283U);
  const ByteView all(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
  EXPECT_EQ(crc32c(all.first(4), all.subspan(4)), 0xE3069283U);
  EXPECT_EQ(detail::crc32c_portable(all, {}), 0xE3069283U);
  if (detail::crc32c_hardware()) {
    EXPECT_EQ(detail::crc32c_sse42(all, {}), 0xE3069283U);
  }
}

}  // namespace
}  // namespace essim::model
