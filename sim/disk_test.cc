#include "sim/disk.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

namespace essim::sim {
namespace {

struct Recorded {
  TraceKind kind;
  std::string file;
  std::uint64_t a;
  std::uint64_t b;
};

struct DiskFixture {
  std::vector<Recorded> records;
  SimDisk disk;
  DiskFixture(std::uint64_t seed, DiskFaults faults)
      : disk(Rng(seed), faults,
             [this](TraceKind k, std::string_view f, std::uint64_t a, std::uint64_t b) {
               records.push_back({k, std::string(f), a, b});
             }) {}
};

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

bool is_prefix(const Bytes& prefix, const Bytes& of) {
  return prefix.size() <= of.size() && std::equal(prefix.begin(), prefix.end(), of.begin());
}

TEST(SimDisk, AppendReadSync) {
  DiskFixture f(1, {});
  ASSERT_TRUE(f.disk.append("log", bytes_of("hello ")).is_ok());
  ASSERT_TRUE(f.disk.append("log", bytes_of("world")).is_ok());
  EXPECT_EQ(f.disk.read_all("log").value(), bytes_of("hello world"));
  EXPECT_EQ(f.disk.read("log", 6, 100).value(), bytes_of("world"));
  EXPECT_EQ(f.disk.size("log").value(), 11U);
  EXPECT_EQ(f.disk.unsynced_bytes(), 11U);
  ASSERT_TRUE(f.disk.sync("log").is_ok());
  EXPECT_EQ(f.disk.unsynced_bytes(), 0U);
  EXPECT_EQ(f.disk.list(), std::vector<std::string>{"log"});
  ASSERT_EQ(f.records.size(), 1U);
  EXPECT_EQ(f.records[0].kind, TraceKind::kSync);
}

TEST(SimDisk, BadRequestsAreErrorsNotCrashes) {
  DiskFixture f(1, {});
  EXPECT_FALSE(f.disk.read_all("missing").ok());
  EXPECT_FALSE(f.disk.sync("missing").is_ok());
  EXPECT_FALSE(f.disk.size("missing").ok());
  EXPECT_FALSE(f.disk.truncate("missing", 0).is_ok());
  EXPECT_FALSE(f.disk.append("", bytes_of("x")).is_ok());
  EXPECT_FALSE(f.disk.append(std::string(256, 'a'), bytes_of("x")).is_ok());
  ASSERT_TRUE(f.disk.append("log", bytes_of("abc")).is_ok());
  const Status past = f.disk.truncate("log", 4);
  ASSERT_FALSE(past.is_ok());
  EXPECT_NE(past.message().find("past its end"), std::string::npos);
  EXPECT_FALSE(f.disk.read("log", 4, 1).ok());
  EXPECT_TRUE(f.disk.read("log", 3, 1).ok());  // at the end: empty, not an error
}

TEST(SimDisk, AFileNeverSyncedCanVanishInACrash) {
  for (std::uint64_t seed = 0; seed < 50; ++seed) {
    DiskFixture f(seed, {});
    ASSERT_TRUE(f.disk.append("new", bytes_of("abc")).is_ok());
    f.disk.crash();
    if (f.disk.exists("new")) {
      EXPECT_EQ(f.disk.read_all("new").value(), bytes_of("abc"));
    }
  }
}

// Operations on one file for the crash property.
struct Op {
  enum Kind { kAppend, kSync, kTruncate } kind;
  Bytes bytes;
  std::uint64_t size;
};

void check_crash_property(bool torn) {
  const auto ops = *rc::gen::container<std::vector<Op>>(rc::gen::oneOf(
      rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kAppend)),
                         rc::gen::set(&Op::bytes, rc::gen::nonEmpty<Bytes>())),
      rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kSync))),
      rc::gen::build<Op>(rc::gen::set(&Op::kind, rc::gen::just(Op::kTruncate)),
                         rc::gen::set(&Op::size, rc::gen::inRange<std::uint64_t>(0, 64)))));
  const auto seed = *rc::gen::arbitrary<std::uint64_t>();
  DiskFixture f(seed, DiskFaults{.torn_writes = torn});
  RC_ASSERT(f.disk.append("log", bytes_of("base")).is_ok());
  RC_ASSERT(f.disk.sync("log").is_ok());
  bool unsynced_truncate = false;
  std::uint64_t synced_size = 4;
  for (const Op& op : ops) {
    switch (op.kind) {
      case Op::kAppend:
        RC_ASSERT(f.disk.append("log", op.bytes).is_ok());
        break;
      case Op::kSync:
        RC_ASSERT(f.disk.sync("log").is_ok());
        unsynced_truncate = false;
        synced_size = f.disk.size("log").value();
        break;
      case Op::kTruncate: {
        const std::uint64_t size = std::min(op.size, f.disk.size("log").value());
        RC_ASSERT(f.disk.truncate("log", size).is_ok());
        if (size < synced_size) unsynced_truncate = true;
        break;
      }
    }
  }
  const Bytes durable = f.disk.durable_content("log").value();
  const Bytes written = f.disk.current_content("log").value();
  f.records.clear();
  f.disk.crash();
  const Bytes after = f.disk.current_content("log").value();
  RC_ASSERT(f.disk.unsynced_bytes() == 0U);
  if (unsynced_truncate && after == durable) return;  // the truncate was lost whole
  if (unsynced_truncate) {
    // The truncate survived: what follows is a prefix of what was written.
    RC_ASSERT(after.size() <= written.size());
  } else {
    // Synced bytes always survive.
    RC_ASSERT(is_prefix(durable, after));
    RC_ASSERT(after.size() <= written.size());
  }
  if (!torn) {
    RC_ASSERT(is_prefix(after, written));
  } else {
    // Only the last 8 bytes of the surviving unsynced part may be garbage.
    const std::size_t floor = std::max(durable.size(), after.size() < 8 ? 0 : after.size() - 8);
    const std::size_t checked = unsynced_truncate ? 0 : std::min(floor, after.size());
    RC_ASSERT(std::equal(after.begin(), after.begin() + static_cast<std::ptrdiff_t>(checked),
                         written.begin()));
  }
}

RC_GTEST_PROP(SimDiskProperty, CrashKeepsSyncedBytesAndAPrefixOfTheRest, ()) {
  check_crash_property(false);
}

RC_GTEST_PROP(SimDiskProperty, TornCrashAddsGarbageOnlyAtTheCut, ()) {
  check_crash_property(true);
}

TEST(SimDisk, WithoutTornWritesACrashCutsOnlyAtAppendBoundaries) {
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    DiskFixture f(seed, {});
    ASSERT_TRUE(f.disk.append("log", bytes_of("aaaa")).is_ok());
    ASSERT_TRUE(f.disk.sync("log").is_ok());
    ASSERT_TRUE(f.disk.append("log", bytes_of("bbbb")).is_ok());
    ASSERT_TRUE(f.disk.append("log", bytes_of("cccc")).is_ok());
    f.disk.crash();
    const auto size = f.disk.size("log").value();
    EXPECT_TRUE(size == 4 || size == 8 || size == 12) << size;
  }
}

TEST(SimDisk, TornWritesSometimesCutInsideAnAppendWithGarbage) {
  int torn = 0;
  int garbage = 0;
  for (std::uint64_t seed = 0; seed < 300; ++seed) {
    DiskFixture f(seed, DiskFaults{.torn_writes = true});
    ASSERT_TRUE(f.disk.append("log", Bytes(64, 0xaa)).is_ok());
    f.disk.crash();
    for (const Recorded& r : f.records) {
      if (r.kind != TraceKind::kDiskCrash) continue;
      const auto outcome = static_cast<CrashOutcome>(r.b);
      torn += outcome == CrashOutcome::kTorn || outcome == CrashOutcome::kTornGarbage;
      garbage += outcome == CrashOutcome::kTornGarbage;
    }
  }
  EXPECT_GT(torn, 100);
  EXPECT_GT(garbage, 30);
}

TEST(SimDisk, ReplaceIsOldOrNewAfterACrashAndCertainAfterSync) {
  std::set<Bytes> seen;
  for (std::uint64_t seed = 0; seed < 100; ++seed) {
    DiskFixture f(seed, DiskFaults{.torn_writes = true});
    ASSERT_TRUE(f.disk.replace("ckpt", bytes_of("old")).is_ok());
    ASSERT_TRUE(f.disk.sync("ckpt").is_ok());
    ASSERT_TRUE(f.disk.replace("ckpt", bytes_of("newer")).is_ok());
    EXPECT_EQ(f.disk.read_all("ckpt").value(), bytes_of("newer"));
    f.disk.crash();
    seen.insert(f.disk.read_all("ckpt").value());
  }
  EXPECT_EQ(seen, (std::set<Bytes>{bytes_of("old"), bytes_of("newer")}));

  DiskFixture f(1, DiskFaults{.torn_writes = true});
  ASSERT_TRUE(f.disk.replace("ckpt", bytes_of("old")).is_ok());
  ASSERT_TRUE(f.disk.sync("ckpt").is_ok());
  ASSERT_TRUE(f.disk.replace("ckpt", bytes_of("newer")).is_ok());
  ASSERT_TRUE(f.disk.sync("ckpt").is_ok());
  f.disk.crash();
  EXPECT_EQ(f.disk.read_all("ckpt").value(), bytes_of("newer"));
}

TEST(SimDisk, ReadCorruptionFlipsOneBitOfTheReadNotOfTheFile) {
  DiskFixture f(4, DiskFaults{.read_corruption = 1.0});
  const Bytes data(32, 0x00);
  ASSERT_TRUE(f.disk.append("log", data).is_ok());
  const Bytes read = f.disk.read_all("log").value();
  int flipped_bits = 0;
  for (std::size_t i = 0; i < read.size(); ++i) {
    flipped_bits += __builtin_popcount(read[i] ^ data[i]);
  }
  EXPECT_EQ(flipped_bits, 1);
  EXPECT_EQ(f.disk.current_content("log").value(), data);
  ASSERT_FALSE(f.records.empty());
  EXPECT_EQ(f.records.back().kind, TraceKind::kReadCorruption);
}

}  // namespace
}  // namespace essim::sim

namespace essim::sim {
namespace {

TEST(SimDiskSyncFailures, AFailedSyncLosesExactlyTheUnsyncedData) {
  DiskFixture f(4, DiskFaults{.sync_failures = 1.0});
  ASSERT_TRUE(f.disk.append("log", bytes_of("durable")).is_ok());
  ASSERT_TRUE(f.disk.replace("ckpt", bytes_of("old")).is_ok());
  f.disk.set_faults({});
  ASSERT_TRUE(f.disk.sync("log").is_ok());
  ASSERT_TRUE(f.disk.sync("ckpt").is_ok());
  f.disk.set_faults(DiskFaults{.sync_failures = 1.0});
  // Nothing unsynced: nothing to lose, and a sync with nothing to do succeeds.
  EXPECT_TRUE(f.disk.sync("log").is_ok());

  ASSERT_TRUE(f.disk.append("log", bytes_of(" lost")).is_ok());
  ASSERT_TRUE(f.disk.append("other", bytes_of("kept")).is_ok());
  f.records.clear();
  const Status failed = f.disk.sync("log");
  EXPECT_FALSE(failed.is_ok());
  EXPECT_NE(failed.message().find("log"), std::string::npos);
  EXPECT_EQ(f.disk.current_content("log").value(), bytes_of("durable"));
  EXPECT_EQ(f.disk.durable_content("log").value(), bytes_of("durable"));
  // Another file's unsynced data is not this sync's to lose.
  EXPECT_EQ(f.disk.current_content("other").value(), bytes_of("kept"));
  ASSERT_EQ(f.records.size(), 1U);
  EXPECT_EQ(f.records[0].kind, TraceKind::kSyncFailure);
  EXPECT_EQ(f.records[0].file, "log");
  EXPECT_EQ(f.records[0].a, 7U);
  EXPECT_EQ(f.records[0].b, 5U);

  // A failed sync of a replace brings the old content back.
  ASSERT_TRUE(f.disk.replace("ckpt", bytes_of("new")).is_ok());
  EXPECT_FALSE(f.disk.sync("ckpt").is_ok());
  EXPECT_EQ(f.disk.current_content("ckpt").value(), bytes_of("old"));
  // So does a failed sync of a truncate.
  ASSERT_TRUE(f.disk.truncate("log", 3).is_ok());
  EXPECT_FALSE(f.disk.sync("log").is_ok());
  EXPECT_EQ(f.disk.current_content("log").value(), bytes_of("durable"));
  EXPECT_EQ(f.disk.unsynced_bytes(), 4U);  // only "other"
}

TEST(SimDiskSyncFailures, FailAtTheirRateAndNeverWhenNothingIsUnsynced) {
  DiskFixture on(9, DiskFaults{.sync_failures = 0.5});
  int failures = 0;
  for (int i = 0; i < 40; ++i) {
    ASSERT_TRUE(on.disk.append("log", bytes_of("r")).is_ok());
    failures += on.disk.sync("log").is_ok() ? 0 : 1;
  }
  EXPECT_GT(failures, 5);
  EXPECT_LT(failures, 35);
  for (int i = 0; i < 40; ++i) EXPECT_TRUE(on.disk.sync("log").is_ok());
}

}  // namespace
}  // namespace essim::sim
