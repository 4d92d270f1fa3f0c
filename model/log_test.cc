#include "model/log.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fmt/format.h>

namespace essim::model {
namespace {

Bytes build(const std::vector<Bytes>& bodies, std::vector<std::size_t>* ends = nullptr) {
  Bytes log;
  std::uint64_t hash = 0;
  for (const Bytes& b : bodies) {
    hash = append_record(log, hash, b);
    if (ends != nullptr) ends->push_back(log.size());
  }
  return log;
}

// The record format, byte for byte (computed outside essim, with a bitwise
// CRC32C): length, CRC32C of (previous hash, body), previous hash, body, all
// little-endian. Whatever computes the CRC, a log written today reads back.
TEST(Log, ARecordIsTheDocumentedBytes) {
  const std::string text = "essim log record: golden";
  const Bytes body(text.begin(), text.end());
  Bytes log;
  (void)append_record(log, 0, body);
  std::string hex;
  for (const std::uint8_t b : log) hex += fmt::format("{:02x}", b);
  EXPECT_EQ(hex,
            "180000008eb5fd250000000000000000"
            "657373696d206c6f67207265636f72643a20676f6c64656e");
}

RC_GTEST_PROP(Log, RecordsComeBackInOrder, (const std::vector<Bytes>& bodies)) {
  const Bytes log = build(bodies);  // the scan's views point into it
  const LogScan scan = scan_log(log);
  RC_ASSERT(scan.status == LogScan::Status::kClean);
  RC_ASSERT(scan.bodies.size() == bodies.size());
  for (std::size_t i = 0; i < bodies.size(); ++i) {
    RC_ASSERT(Bytes(scan.bodies[i].begin(), scan.bodies[i].end()) == bodies[i]);
  }
}

// Cut anywhere: a torn tail, and the valid prefix is every whole record before the cut.
RC_GTEST_PROP(Log, ACutIsATornTail, ()) {
  const auto bodies = *rc::gen::nonEmpty<std::vector<Bytes>>();
  std::vector<std::size_t> ends;
  Bytes log = build(bodies, &ends);
  const auto cut = *rc::gen::inRange<std::size_t>(0, log.size());
  log.resize(cut);
  const LogScan scan = scan_log(log);
  std::size_t whole = 0;
  while (whole < ends.size() && ends[whole] <= cut) ++whole;
  RC_ASSERT(scan.bodies.size() == whole);
  RC_ASSERT(scan.valid_bytes == (whole == 0 ? 0 : ends[whole - 1]));
  RC_ASSERT(scan.status ==
            (scan.valid_bytes == cut ? LogScan::Status::kClean : LogScan::Status::kTornTail));
}

// Garbage in the last bytes of the last record: still a torn tail.
RC_GTEST_PROP(Log, GarbageAtTheEndIsATornTail, ()) {
  const auto bodies = *rc::gen::nonEmpty<std::vector<Bytes>>();
  std::vector<std::size_t> ends;
  Bytes log = build(bodies, &ends);
  const std::size_t last_start = ends.size() == 1 ? 0 : ends[ends.size() - 2];
  const auto at = *rc::gen::inRange<std::size_t>(last_start, log.size());
  log[at] ^= *rc::gen::inRange<std::uint8_t>(1, 255);
  const LogScan scan = scan_log(log);
  RC_ASSERT(scan.status == LogScan::Status::kTornTail);
  RC_ASSERT(scan.bodies.size() == bodies.size() - 1);
}

// Damage in a record followed by a good one: corruption, never served past.
RC_GTEST_PROP(Log, DamageInTheMiddleIsCorruption, ()) {
  const auto bodies = *rc::gen::suchThat<std::vector<Bytes>>(
      [](const std::vector<Bytes>& b) { return b.size() >= 2; });
  std::vector<std::size_t> ends;
  Bytes log = build(bodies, &ends);
  const auto victim = *rc::gen::inRange<std::size_t>(0, bodies.size() - 1);
  const std::size_t start = victim == 0 ? 0 : ends[victim - 1];
  // A byte of the body or CRC (a damaged length field reads as a tear).
  const auto at = *rc::gen::inRange<std::size_t>(start + 4, ends[victim]);
  log[at] ^= *rc::gen::inRange<std::uint8_t>(1, 255);
  const LogScan scan = scan_log(log);
  RC_ASSERT(scan.status == LogScan::Status::kCorrupt);
  RC_ASSERT(scan.bodies.size() == victim);
  RC_ASSERT(!scan.problem.empty());
}

TEST(Log, ReorderedRecordsBreakTheChain) {
  Bytes a;
  const std::uint64_t h1 = append_record(a, 0, Bytes{1});
  Bytes b;
  (void)append_record(b, h1, Bytes{2});
  Bytes swapped = b;  // the second record first
  swapped.insert(swapped.end(), a.begin(), a.end());
  const LogScan scan = scan_log(swapped);
  EXPECT_NE(scan.status, LogScan::Status::kClean);
  EXPECT_EQ(scan.bodies.size(), 0U);
  EXPECT_NE(scan.problem.find("chain"), std::string::npos);
}

}  // namespace
}  // namespace essim::model
