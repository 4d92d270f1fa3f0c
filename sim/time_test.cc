#include "sim/time.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace essim::sim {
namespace {

Micros ok(std::string_view text) {
  auto r = parse_duration(text);
  EXPECT_TRUE(r.ok()) << text << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? r.value() : -1;
}

Error err(std::string_view text) {
  auto r = parse_duration(text);
  EXPECT_FALSE(r.ok()) << text << " parsed as " << (r.ok() ? r.value() : 0);
  return r.ok() ? Error{} : r.error();
}

TEST(ParseDuration, Units) {
  EXPECT_EQ(ok("150ms"), 150'000);
  EXPECT_EQ(ok("2s"), 2'000'000);
  EXPECT_EQ(ok("7us"), 7);
  EXPECT_EQ(ok("3m"), 180'000'000);
  EXPECT_EQ(ok("1h"), 3'600'000'000);
  EXPECT_EQ(ok("0"), 0);
  EXPECT_EQ(ok("0ms"), 0);
}

TEST(ParseDuration, Decimals) {
  EXPECT_EQ(ok("1.5s"), 1'500'000);
  EXPECT_EQ(ok("0.25ms"), 250);
  EXPECT_EQ(ok(".5s"), 500'000);
}

TEST(ParseDuration, ErrorsNameTheColumn) {
  EXPECT_EQ(err("").column, 1);
  EXPECT_EQ(err("10").column, 3);    // missing unit
  EXPECT_EQ(err("10xs").column, 3);  // unknown unit
  EXPECT_EQ(err("-5ms").column, 1);  // negative
  EXPECT_EQ(err("1.s").column, 3);   // no fraction digits
  EXPECT_NE(err("10xs").message.find("unknown unit 'xs'"), std::string::npos);
  EXPECT_NE(err("-5ms").message.find("negative"), std::string::npos);
}

TEST(ParseDuration, RejectsSubMicrosecondAndOverflow) {
  EXPECT_NE(err("0.5us").message.find("finer than one microsecond"), std::string::npos);
  EXPECT_NE(err("99999999999999999999s").message.find("too large"), std::string::npos);
  EXPECT_NE(err("9999999999999h").message.find("too large"), std::string::npos);
}

// One day is the longest duration: every time a run computes is a time of
// the run plus a few of them, far from overflow.
TEST(ParseDuration, AtMostOneDay) {
  EXPECT_EQ(parse_duration("24h").value(), kDurationMax);
  EXPECT_EQ(parse_duration("86400000000us").value(), kDurationMax);
  EXPECT_NE(err("86400000001us").message.find("too large: at most 86400s"), std::string::npos);
  EXPECT_NE(err("25h").message.find("too large"), std::string::npos);
  EXPECT_FALSE(parse_duration("9223372036854775807us").ok());
  EXPECT_FALSE(parse_duration("18446744073709551616us").ok());
}

TEST(ParseDurationRange, ExactlyTwoDots) {
  const auto three = parse_duration_range("100us...5ms");
  ASSERT_FALSE(three.ok());
  EXPECT_EQ(three.error().column, 8);
  EXPECT_NE(three.error().message.find("exactly two dots"), std::string::npos);
  EXPECT_FALSE(parse_duration_range("1ms..2ms..3ms").ok());
  EXPECT_FALSE(parse_duration_range("1ms....3ms").ok());
  EXPECT_EQ(parse_duration_range("1ms..0.5s").value(), (DurationRange{1'000, 500'000}));
}

TEST(ParseRate, PlainNumbersPerSecondOrMinuteWithinBounds) {
  EXPECT_DOUBLE_EQ(parse_rate("200/s").value(), 200.0);
  EXPECT_DOUBLE_EQ(parse_rate("30/m").value(), 0.5);
  EXPECT_DOUBLE_EQ(parse_rate(".5/s").value(), 0.5);
  EXPECT_DOUBLE_EQ(parse_rate("1000000/s").value(), kRatePerSecondMax);
  EXPECT_DOUBLE_EQ(parse_rate("0.001/s").value(), kRatePerSecondMin);
  for (const char* bad :
       {"1e-300/s", "1e3/s", "nan/s", "inf/s", "-5/s", "+5/s", "0/s", "0.0009/s", "1000001/s", "5",
        "5/h", "5/", "/s", "5./s", "1..2/s", "0x10/s", "5 /s", "99999999999999999999999999999/s"}) {
    EXPECT_FALSE(parse_rate(bad).ok()) << bad;
  }
  EXPECT_NE(parse_rate("1e-300/s").error().message.find("200/s"), std::string::npos);
  EXPECT_NE(parse_rate("0/s").error().message.find("from 0.001/s to 1000000/s"), std::string::npos);
}

TEST(ParseDurationRange, RangesAndSingles) {
  auto r = parse_duration_range("1ms..50ms");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.value(), (DurationRange{1'000, 50'000}));
  auto single = parse_duration_range("2s");
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single.value(), (DurationRange{2'000'000, 2'000'000}));
}

TEST(ParseDurationRange, Errors) {
  auto reversed = parse_duration_range("5s..1s");
  ASSERT_FALSE(reversed.ok());
  EXPECT_NE(reversed.error().message.find("minimum above its maximum"), std::string::npos);
  auto bad_max = parse_duration_range("1ms..5qs");
  ASSERT_FALSE(bad_max.ok());
  EXPECT_EQ(bad_max.error().column, 7);  // the 'q' of 5qs
  EXPECT_FALSE(parse_duration_range("..5s").ok());
  EXPECT_FALSE(parse_duration_range("1s..").ok());
}

TEST(FormatDuration, ShortestExactSpelling) {
  EXPECT_EQ(format_duration(0), "0s");
  EXPECT_EQ(format_duration(2'000'000), "2s");
  EXPECT_EQ(format_duration(150'000), "150ms");
  EXPECT_EQ(format_duration(1'500'000), "1500ms");
  EXPECT_EQ(format_duration(1'001), "1001us");
  EXPECT_EQ(format_duration(-3'000), "-3ms");
}

TEST(FormatTime, SecondsWithTrimmedDecimals) {
  EXPECT_EQ(format_time(0), "0s");
  EXPECT_EQ(format_time(1'065'438), "1.065438s");
  EXPECT_EQ(format_time(2'500'000), "2.5s");
  EXPECT_EQ(format_time(7), "0.000007s");
  EXPECT_EQ(format_time(-1'500'000), "-1.5s");
}

RC_GTEST_PROP(DurationProperty, FormatTimeParsesBack, ()) {
  const Micros us = *rc::gen::inRange<Micros>(0, kDurationMax + 1);
  const auto parsed = parse_duration(format_time(us));
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed.value() == us);
}

RC_GTEST_PROP(DurationProperty, FormatThenParseIsIdentity, ()) {
  const Micros us = *rc::gen::inRange<Micros>(0, kDurationMax + 1);
  const auto parsed = parse_duration(format_duration(us));
  RC_ASSERT(parsed.ok());
  RC_ASSERT(parsed.value() == us);
}

RC_GTEST_PROP(DurationProperty, ArbitraryTextNeverCrashes, (std::string text)) {
  const auto r = parse_duration(text);
  if (r.ok()) {
    RC_ASSERT(r.value() >= 0);
  } else {
    RC_ASSERT(r.error().column >= 1);
    RC_ASSERT(static_cast<std::size_t>(r.error().column) <= text.size() + 1);
  }
}

}  // namespace
}  // namespace essim::sim
