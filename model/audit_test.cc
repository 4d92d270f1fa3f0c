#include "model/audit.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>

#include "model/test_records.h"
#include "sim/types.h"

namespace essim::model {
namespace {

using Status = LogScan::Status;
using Defect = LogScan::Defect;

using testing::chained;
using testing::joined;
using testing::Records;

std::uint64_t offset_of(const Records& records, std::size_t index) {
  std::uint64_t offset = 0;
  for (std::size_t i = 0; i < index; ++i) offset += records[i].size();
  return offset;
}

// The chain head after the first `count` records.
std::uint64_t head_of(const Records& records, std::size_t count) {
  return count == 0 ? 0 : sim::hash_bytes(records[count - 1]);
}

Bytes text_bytes(std::string_view text) {
  return Bytes(text.begin(), text.end());
}

const Bytes kKey = text_bytes("a key of 32 bytes, not in a log.");

Bytes body(std::string_view text) {
  return text_bytes(text);
}

// A log of `n` (at least 1) records whose first body differs from `other`'s
// first body: it shares no record with `other`, so none of its records can
// continue `other`'s chain (short of a 64-bit hash collision).
Records unrelated(std::vector<Bytes> bodies, const std::vector<Bytes>& other) {
  if (!other.empty() && bodies.front() == other.front()) bodies.front().push_back(0x5a);
  return chained(bodies);
}

// ---- examples ----

TEST(Audit, AnEmptyLogIsOk) {
  const AuditReport r = audit_log(Bytes{});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.records, 0U);
  EXPECT_EQ(r.file_bytes, 0U);
  EXPECT_EQ(r.chain_head, 0U);
  EXPECT_EQ(r.problem, "");
}

TEST(Audit, ACleanLogGivesItsRecordsBytesAndChainHead) {
  const Records records = chained({body("one"), body(""), body("three")});
  const Bytes log = joined(records);
  const AuditReport r = audit_log(log);
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.records, 3U);
  EXPECT_EQ(r.good_bytes, log.size());
  EXPECT_EQ(r.file_bytes, log.size());
  EXPECT_EQ(r.chain_head, head_of(records, 3));
}

TEST(Audit, ABadCrcInTheMiddleIsCorruption) {
  const Records records = chained({body("one"), body("two"), body("three")});
  Bytes log = joined(records);
  const std::uint64_t at = offset_of(records, 1);
  log[at + kRecordHeaderBytes] ^= 0x01;  // the 't' of "two"
  const AuditReport r = audit_log(log);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status, Status::kCorrupt);
  EXPECT_EQ(r.defect, Defect::kBadCrc);
  EXPECT_EQ(r.records, 1U);
  EXPECT_EQ(r.good_bytes, at);
  EXPECT_EQ(r.chain_head, head_of(records, 1));
  EXPECT_NE(r.problem.find(fmt::format("record 1 at offset {}: bad CRC32C", at)), std::string::npos)
      << r.problem;
  EXPECT_NE(r.problem.find(fmt::format("a good record follows at offset {}: corruption in the "
                                       "middle",
                                       offset_of(records, 2))),
            std::string::npos)
      << r.problem;
}

TEST(Audit, ARemovedRecordIsAChainBreakNamingBothHashes) {
  Records records = chained({body("one"), body("two"), body("three")});
  const std::uint64_t expected = head_of(records, 1);
  const std::uint64_t found = head_of(records, 2);
  records.erase(records.begin() + 1);
  const AuditReport r = audit_log(joined(records));
  EXPECT_EQ(r.defect, Defect::kChainBreak);
  EXPECT_EQ(r.records, 1U);
  EXPECT_NE(r.problem.find(fmt::format("chain break: previous hash 0x{:016x}, expected 0x{:016x}",
                                       found, expected)),
            std::string::npos)
      << r.problem;
  EXPECT_NE(r.problem.find("a torn tail"), std::string::npos) << r.problem;  // nothing after it
}

TEST(Audit, ACutRecordIsATornTail) {
  const Records records = chained({body("one"), body("two")});
  Bytes log = joined(records);
  log.pop_back();
  const AuditReport r = audit_log(log);
  EXPECT_EQ(r.status, Status::kTornTail);
  EXPECT_EQ(r.defect, Defect::kLengthPastEnd);
  EXPECT_EQ(r.records, 1U);
  EXPECT_NE(r.problem.find("length past end of file: the length field says 3 bytes, 2 follow"),
            std::string::npos)
      << r.problem;
}

// What recovery cannot frame, the audit searches past: garbage with a good
// record after it (a torn tail kept, and appends after it) is corruption;
// garbage at the end is a torn tail.
TEST(Audit, GarbageBeforeAGoodRecordIsCorruptionNotATornTail) {
  const Records records = chained({body("one"), body("two"), body("three")});
  const Bytes good = joined(records);
  const std::uint64_t second = offset_of(records, 1);
  Bytes log(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(second));
  const Bytes garbage(20, 0xee);  // a length field of 0xeeeeeeee: over the maximum
  log.insert(log.end(), garbage.begin(), garbage.end());
  log.insert(log.end(), good.begin() + static_cast<std::ptrdiff_t>(second), good.end());
  AuditReport r = audit_log(log);
  EXPECT_EQ(r.status, Status::kCorrupt);
  EXPECT_EQ(r.records, 1U);
  EXPECT_NE(r.problem.find(
                fmt::format("a good record starts at offset {} after 20 bad bytes", second + 20)),
            std::string::npos)
      << r.problem;
  EXPECT_EQ(scan_log(log).status, Status::kTornTail);  // what recovery sees, unchanged
  // The same garbage at the end, nothing good after it: a torn tail.
  Bytes tail = good;
  tail.insert(tail.end(), garbage.begin(), garbage.end());
  r = audit_log(tail);
  EXPECT_EQ(r.status, Status::kTornTail);
  EXPECT_EQ(r.records, 3U);
}

// Plausible length fields everywhere: the search past a bad record is
// bounded, and says so, instead of checksumming the square of the file.
TEST(Audit, TheSearchPastABadRecordIsBounded) {
  Bytes log;
  for (int i = 0; i < (1 << 19); ++i) {
    for (const std::uint8_t b : {0x00, 0x00, 0x10, 0x00}) log.push_back(b);
  }
  const AuditReport r = audit_log(log);
  EXPECT_EQ(r.status, Status::kTornTail);
  EXPECT_NE(r.problem.find("stopped at its bound"), std::string::npos) << r.problem;
}

TEST(Audit, AHugeLengthFieldIsNeverRead) {
  Bytes log(kRecordHeaderBytes, 0xff);
  const AuditReport r = audit_log(log);
  EXPECT_EQ(r.defect, Defect::kLengthOverMax);
  EXPECT_EQ(r.records, 0U);
  EXPECT_NE(r.problem.find("4294967295 bytes, a record holds at most 67108864"), std::string::npos)
      << r.problem;
}

TEST(Audit, TextIsNotALog) {
  const AuditReport r = audit_log(text_bytes("name: bank-calm\ndomain: bank\n"));
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.records, 0U);
  EXPECT_NE(r.problem.find("record 0 at offset 0: "), std::string::npos) << r.problem;
  const AuditReport tiny = audit_log(text_bytes("12345"));
  EXPECT_EQ(tiny.defect, Defect::kShortHeader);
  EXPECT_NE(tiny.problem.find("only 5 bytes are left"), std::string::npos) << tiny.problem;
}

// ---- seals ----

TEST(Seal, AFormattedSealReadsBack) {
  const Bytes log = joined(chained({body("one"), body("two")}));
  const auto seal = make_seal(log, kKey);
  ASSERT_TRUE(seal.ok()) << seal.error().message;
  const std::string text = format_seal(seal.value());
  EXPECT_EQ(text.substr(0, 33), "essim-seal 1\nrecords 2\nbytes 38\nc");
  const auto back = parse_seal(text);
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_EQ(format_seal(back.value()), text);
  EXPECT_TRUE(audit_log(log, back.value(), kKey).ok());
}

TEST(Seal, AppendsAfterTheSealAreAllowedAndCounted) {
  const std::vector<Bytes> bodies = {body("one"), body("two"), body("three")};
  const Records records = chained(bodies);
  const Records sealed(records.begin(), records.begin() + 2);
  const auto seal = make_seal(joined(sealed), kKey);
  ASSERT_TRUE(seal.ok());
  const AuditReport r = audit_log(joined(records), seal.value(), kKey);
  EXPECT_TRUE(r.ok());
  ASSERT_TRUE(r.seal);
  EXPECT_EQ(r.seal->appended_records, 1U);
  EXPECT_EQ(r.seal->appended_bytes, records[2].size());
}

TEST(Seal, ATruncatedLogIsCaught) {
  const Records records = chained({body("one"), body("two"), body("three")});
  const auto seal = make_seal(joined(records), kKey);
  ASSERT_TRUE(seal.ok());
  const Records shorter(records.begin(), records.begin() + 2);
  EXPECT_TRUE(audit_log(joined(shorter)).ok());  // without the seal, a shorter valid log
  const AuditReport r = audit_log(joined(shorter), seal.value(), kKey);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.seal->status, SealCheck::Status::kTruncated);
  EXPECT_NE(r.seal->problem.find("the seal covers 3 records"), std::string::npos);
}

TEST(Seal, ALogRewrittenWithARebuiltChainIsCaught) {
  const auto seal = make_seal(joined(chained({body("one"), body("two")})), kKey);
  ASSERT_TRUE(seal.ok());
  const Bytes forged = joined(chained({body("One"), body("two")}));
  EXPECT_TRUE(audit_log(forged).ok());
  const AuditReport r = audit_log(forged, seal.value(), kKey);
  EXPECT_EQ(r.seal->status, SealCheck::Status::kRewritten);
  EXPECT_NE(r.seal->problem.find("chain head after 2 records"), std::string::npos);
}

// The chain's hash is 64 bits and not cryptographic: a log rebuilt to keep the
// sealed length and chain head is still caught by the SHA-256. (Simulated: a
// seal of other bytes with the same length and head, under the right key.)
TEST(Seal, KeepingTheChainHeadIsNotEnough) {
  const Bytes log = joined(chained({body("one"), body("two")}));
  auto seal = make_seal(log, kKey);
  ASSERT_TRUE(seal.ok());
  Seal other = seal.value();
  other.sha256[0] ^= 0x01;
  other.hmac = seal_hmac(other, kKey);
  const AuditReport r = audit_log(log, other, kKey);
  EXPECT_EQ(r.seal->status, SealCheck::Status::kRewritten);
  EXPECT_NE(r.seal->problem.find("not the sealed SHA-256"), std::string::npos);
}

TEST(Seal, AWrongKeyOrAnAlteredSealFailsTheMac) {
  const Bytes log = joined(chained({body("one")}));
  const auto seal = make_seal(log, kKey);
  ASSERT_TRUE(seal.ok());
  const Bytes other = text_bytes("another key, also long enough...");
  EXPECT_EQ(audit_log(log, seal.value(), other).seal->status, SealCheck::Status::kBadMac);
  EXPECT_EQ(audit_log(log, seal.value(), Bytes{}).seal->status, SealCheck::Status::kBadMac);
  Seal altered = seal.value();
  altered.records = 0;
  altered.bytes = 0;
  altered.chain_head = 0;
  EXPECT_EQ(audit_log(log, altered, kKey).seal->status, SealCheck::Status::kBadMac);
}

TEST(Seal, OnlyAGoodLogAndAUsableKeySeal) {
  Bytes log = joined(chained({body("one")}));
  EXPECT_FALSE(make_seal(log, Bytes{}).ok());
  EXPECT_FALSE(make_seal(log, text_bytes("short")).ok());
  log.pop_back();
  const auto refused = make_seal(log, kKey);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("only a good log is sealed"), std::string::npos);
}

void expect_refused(const std::string& text, std::string_view fragment) {
  const auto seal = parse_seal(text);
  ASSERT_FALSE(seal.ok()) << text;
  EXPECT_NE(seal.error().message.find(fragment), std::string::npos) << seal.error().message;
}

TEST(Seal, HostileSealFilesAreRefusedWithTheLine) {
  const std::string good = format_seal(make_seal(joined(chained({body("one")})), kKey).value());
  const std::string zeros(64, '0');
  expect_refused("", "empty");
  expect_refused(std::string(kSealTextBytesMax + 1, 'x'), "larger than 4096 bytes");
  expect_refused("{\"records\": 1}\n", "line 1: '{\"records\":' where 'essim-seal' belongs");
  expect_refused("essim-seal 2\n" + good.substr(13), "line 1: a version 2 seal");
  expect_refused("essim-seal one\n", "line 1: the version must be a whole number");
  expect_refused(good.substr(0, good.size() - 1), "line 6: no newline at its end");
  expect_refused(good.substr(0, good.find("sha256")), "line 5: the seal ends before its 'sha256'");
  expect_refused(good + "more\n", "line 7: more after");
  expect_refused("essim-seal 1\r\n", "line 1: a carriage return");
  const auto replaced = [&](std::string_view from, std::string_view to) {
    std::string text = good;
    text.replace(text.find(from), from.size(), to);
    return text;
  };
  expect_refused(replaced("records 1", "records -1"), "line 2: records must be a whole number");
  expect_refused(replaced("records 1", "records 01"), "line 2: records must be a whole number");
  expect_refused(replaced("records 1", "records \"1\""), "line 2: records must be");
  expect_refused(replaced("records 1", "records 18446744073709551616"), "line 2: records must");
  expect_refused(replaced("records 1", "records 2"), "line 3: 2 records cannot take 19 bytes");
  expect_refused(replaced("bytes 19", "bytes 1.9e1"), "line 3: bytes must be a whole number");
  expect_refused(replaced("chain-head 0x", "chain-head 0X"), "line 4: chain-head must be 0x");
  expect_refused(replaced("sha256 ", "sha256 A"), "line 5: sha256 must be 64 lowercase hex");
  expect_refused(replaced("hmac-sha256 ", "hmac-sha256 " + zeros), "line 6: hmac-sha256 must");
  expect_refused(replaced("hmac-sha256 ", "hmac "), "line 6: 'hmac' where 'hmac-sha256'");
}

// ---- properties ----
//
// Over generated logs, every change below is detected by audit_log alone,
// short of a collision of the 64-bit chain hash or (for a flipped length
// field only) of CRC32C, whose odds these runs never meet. The one change the
// chain cannot see is removing records at the very end: a truncated log is a
// valid, shorter log. A seal of the original log catches every change,
// truncation included.

// Whether the seal of `original` catches `changed`.
bool seal_catches(const Bytes& original, const Bytes& changed) {
  const auto seal = make_seal(original, kKey);
  RC_ASSERT(seal.ok());
  return !audit_log(changed, seal.value(), kKey).ok();
}

RC_GTEST_PROP(AuditProperty, AnyBitFlipIsDetectedAtItsRecord, ()) {
  const auto bodies = *rc::gen::nonEmpty<std::vector<Bytes>>();
  const Records records = chained(bodies);
  const Bytes log = joined(records);
  const auto bit = *rc::gen::inRange<std::uint64_t>(0, log.size() * 8);
  Bytes flipped = log;
  flipped[bit / 8] ^= static_cast<std::uint8_t>(1U << (bit % 8));
  std::size_t victim = 0;
  while (offset_of(records, victim + 1) <= bit / 8) ++victim;
  const AuditReport r = audit_log(flipped);
  RC_ASSERT(!r.ok());
  RC_ASSERT(r.records == victim);  // every record before it still verifies
  RC_ASSERT(r.good_bytes == offset_of(records, victim));
  RC_ASSERT(seal_catches(log, flipped));
}

RC_GTEST_PROP(AuditProperty, RemovedRecordsAreDetectedUnlessAtTheEnd, ()) {
  const auto bodies = *rc::gen::nonEmpty<std::vector<Bytes>>();
  const Records records = chained(bodies);
  const auto from = *rc::gen::inRange<std::size_t>(0, records.size());
  const auto to = *rc::gen::inRange<std::size_t>(from + 1, records.size() + 1);
  Records removed = records;
  removed.erase(removed.begin() + static_cast<std::ptrdiff_t>(from),
                removed.begin() + static_cast<std::ptrdiff_t>(to));
  const AuditReport r = audit_log(joined(removed));
  if (to == records.size()) {
    // Truncation: a valid shorter log, indistinguishable without a seal.
    RC_TAG("truncated");
    RC_ASSERT(r.ok());
    RC_ASSERT(r.records == from);
    RC_ASSERT(r.chain_head == head_of(records, from));
  } else {
    RC_ASSERT(!r.ok());
    RC_ASSERT(r.defect == Defect::kChainBreak);
    RC_ASSERT(r.records == from);
  }
  RC_ASSERT(seal_catches(joined(records), joined(removed)));
}

RC_GTEST_PROP(AuditProperty, TwoSwappedRecordsAreDetected, ()) {
  const auto bodies = *rc::gen::suchThat<std::vector<Bytes>>(
      [](const std::vector<Bytes>& b) { return b.size() >= 2; });
  const Records records = chained(bodies);
  const auto first = *rc::gen::inRange<std::size_t>(0, records.size() - 1);
  const auto second = *rc::gen::inRange<std::size_t>(first + 1, records.size());
  Records swapped = records;
  std::swap(swapped[first], swapped[second]);
  const AuditReport r = audit_log(joined(swapped));
  RC_ASSERT(!r.ok());
  RC_ASSERT(r.defect == Defect::kChainBreak);
  RC_ASSERT(r.records == first);
  RC_ASSERT(seal_catches(joined(records), joined(swapped)));
}

// Records [c, d) of an unrelated log inserted at p, or put in place of
// records [a, b). Not a change: the whole log replaced by a prefix of the
// other (that is simply the other log).
RC_GTEST_PROP(AuditProperty, RecordsSplicedFromAnotherLogAreDetected, ()) {
  const auto bodies = *rc::gen::nonEmpty<std::vector<Bytes>>();
  const Records records = chained(bodies);
  const Records other = unrelated(*rc::gen::nonEmpty<std::vector<Bytes>>(), bodies);
  const auto c = *rc::gen::inRange<std::size_t>(0, other.size());
  const auto d = *rc::gen::inRange<std::size_t>(c + 1, other.size() + 1);
  const bool replace = *rc::gen::arbitrary<bool>();
  const auto a = *rc::gen::inRange<std::size_t>(0, records.size() + (replace ? 0 : 1));
  const std::size_t b = replace ? *rc::gen::inRange<std::size_t>(a + 1, records.size() + 1) : a;
  RC_PRE(!(a == 0 && c == 0 && b == records.size()));
  RC_TAG(replace ? "replaced" : "inserted");
  Records spliced(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(a));
  spliced.insert(spliced.end(), other.begin() + static_cast<std::ptrdiff_t>(c),
                 other.begin() + static_cast<std::ptrdiff_t>(d));
  spliced.insert(spliced.end(), records.begin() + static_cast<std::ptrdiff_t>(b), records.end());
  const AuditReport r = audit_log(joined(spliced));
  RC_ASSERT(!r.ok());
  RC_ASSERT(r.defect == Defect::kChainBreak);
  // The first spliced record, unless it starts a chain of its own at 0:
  // then the first record after the splice.
  RC_ASSERT(r.records == (a == 0 && c == 0 ? d - c : a));
  RC_ASSERT(seal_catches(joined(records), joined(spliced)));
}

RC_GTEST_PROP(AuditProperty, RecordsAppendedAfterASealAreCounted, ()) {
  const auto bodies = *rc::gen::container<std::vector<Bytes>>(rc::gen::arbitrary<Bytes>());
  const Records records = chained(bodies);
  const auto sealed = *rc::gen::inRange<std::size_t>(0, records.size() + 1);
  const auto seal = make_seal(
      joined(Records(records.begin(), records.begin() + static_cast<std::ptrdiff_t>(sealed))),
      kKey);
  RC_ASSERT(seal.ok());
  const AuditReport r = audit_log(joined(records), seal.value(), kKey);
  RC_ASSERT(r.ok());
  RC_ASSERT(r.seal->appended_records == records.size() - sealed);
}

// A seal file changed in any one byte no longer vouches for the log: it is
// refused, or its HMAC fails (each field has one spelling, so a changed text
// that still reads has changed fields).
RC_GTEST_PROP(AuditProperty, AnyChangedByteOfASealIsCaught, ()) {
  const auto bodies = *rc::gen::container<std::vector<Bytes>>(rc::gen::arbitrary<Bytes>());
  const Bytes log = joined(chained(bodies));
  const std::string text = format_seal(make_seal(log, kKey).value());
  std::string changed = text;
  const auto at = *rc::gen::inRange<std::size_t>(0, text.size());
  changed[at] = static_cast<char>(changed[at] ^ *rc::gen::inRange<int>(1, 256));
  const auto seal = parse_seal(changed);
  const bool caught = !seal.ok() || !audit_log(log, seal.value(), kKey).ok();
  RC_ASSERT(caught);
}

RC_GTEST_PROP(AuditProperty, AnyOtherKeyFailsTheMac, ()) {
  const Bytes log = joined(chained({body("one")}));
  const auto key = *rc::gen::suchThat(
      rc::gen::container<Bytes>(kSealKeyBytesMin + *rc::gen::inRange<std::size_t>(0, 48),
                                rc::gen::arbitrary<std::uint8_t>()),
      [](const Bytes& k) { return k != kKey; });
  const AuditReport r = audit_log(log, make_seal(log, kKey).value(), key);
  RC_ASSERT(r.seal->status == SealCheck::Status::kBadMac);
}

}  // namespace
}  // namespace essim::model
