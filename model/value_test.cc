#include <essim/value.h>

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "model/test_generators.h"

namespace essim {
namespace {

Bytes encoded(const Value& v) {
  Bytes out;
  Writer w(out);
  encode(w, v);
  return out;
}

Result<Value> decoded(const Bytes& bytes) {
  Reader r(bytes);
  auto v = decode_value(r);
  if (v && !r.at_end()) return Error{"trailing bytes"};
  return v;
}

TEST(Value, BuildsStructuresFromNull) {
  ReadModel m;
  m["acct-1"]["balance"] = 40;
  m["acct-1"]["status"] = "open";
  m["feed"].push_back("opened acct-1");
  m["feed"].push_back(Value::Map{{"deposit", 40}});
  m["count"] += 2;
  m["count"] -= 5;
  EXPECT_EQ(m["acct-1"]["balance"].as_int(), 40);
  EXPECT_EQ(m["feed"].size(), 2U);
  EXPECT_EQ(m["count"].as_int(), -3);
  EXPECT_EQ(
      Value(m).to_json(),
      R"({"acct-1":{"balance":40,"status":"open"},"count":-3,"feed":["opened acct-1",{"deposit":40}]})");
  EXPECT_EQ(Value(nullptr).to_json(), "null");
  EXPECT_EQ(Value("a\"\n").to_json(), R"("a\"\u000a")");
}

TEST(Value, ReadingTheWrongKindThrowsWithWhatItIs) {
  const Value s("x");
  try {
    (void)s.as_int();
    FAIL() << "as_int() of a string returned";
  } catch (const WrongKind& e) {
    EXPECT_STREQ(e.what(), R"(a value is a string, not an integer: "x")");
  }
  Value i(1);
  EXPECT_THROW(i.push_back(2), WrongKind);
  EXPECT_THROW(i["k"], WrongKind);
  EXPECT_EQ(s.find("k"), nullptr);
  EXPECT_EQ(Value().int_or(7), 7);
}

TEST(Value, IntegersOutsideTheRangeAndOverflowsThrow) {
  EXPECT_THROW(Value(std::uint64_t{1} << 63), std::out_of_range);
  EXPECT_EQ(Value(std::uint64_t{INT64_MAX}).as_int(), INT64_MAX);
  Value v(INT64_MAX);
  EXPECT_THROW(v += 1, std::overflow_error);
  Value w(INT64_MIN);
  EXPECT_THROW(w -= 1, std::overflow_error);
  EXPECT_EQ(w.as_int(), INT64_MIN);  // unchanged
}

TEST(Value, DifferenceNamesThePathsWhereTheyPart) {
  ReadModel expected;
  ReadModel actual;
  expected["acct-1"]["balance"] = 40;
  actual["acct-1"]["balance"] = 80;
  expected["feed"] = Value::List{"a", "b"};
  actual["feed"] = Value::List{"a", "b", "b"};
  expected["gone"] = 1;
  actual["new"] = Value::Map{{"x", 1}};
  EXPECT_EQ(describe_difference(expected, actual),
            "[\"acct-1\"][\"balance\"]: expected 40, got 80\n"
            "[\"feed\"]: expected a list of 2, got a list of 3\n"
            "[\"feed\"][2]: extra \"b\"\n"
            "[\"gone\"]: expected 1, missing\n"
            "[\"new\"]: unexpected a map of 1");
  EXPECT_EQ(describe_difference(expected, expected), "");
  EXPECT_EQ(describe_difference(Value(1), Value("1")), "(top): expected 1, got \"1\"");
  ReadModel many;
  for (int i = 0; i < 9; ++i) many[std::to_string(i)] = i;
  EXPECT_NE(describe_difference(many, {}, 3).find("... and 6 more"), std::string::npos);
}

TEST(Value, DecodingRefusesHostileBytes) {
  // Nested deeper than the bound: 70 lists of one element.
  Bytes deep;
  for (int i = 0; i < 70; ++i) deep.insert(deep.end(), {5, 1});
  deep.push_back(0);
  EXPECT_FALSE(decoded(deep).ok());
  Bytes shallow;
  for (int i = 0; i < 60; ++i) shallow.insert(shallow.end(), {5, 1});
  shallow.push_back(0);
  EXPECT_TRUE(decoded(shallow).ok());
  // A map whose keys are out of order, or repeated.
  EXPECT_FALSE(decoded({6, 2, 1, 'b', 0, 1, 'a', 0}).ok());
  EXPECT_FALSE(decoded({6, 2, 1, 'a', 0, 1, 'a', 0}).ok());
  EXPECT_TRUE(decoded({6, 2, 1, 'a', 0, 1, 'b', 0}).ok());
  EXPECT_FALSE(decoded({9}).ok());                                // unknown tag
  EXPECT_FALSE(decoded({5, 0xff, 0xff, 0xff, 0xff, 0x0f}).ok());  // a count past the bytes
  EXPECT_FALSE(decoded({4, 5, 'a'}).ok());                        // a string cut short
  EXPECT_FALSE(decoded({}).ok());
}

RC_GTEST_PROP(Value, EncodingRoundTripsAndHashesAgreeWithEquality, (const Value& v)) {
  const Bytes bytes = encoded(v);
  const auto back = decoded(bytes);
  RC_ASSERT(back.ok());
  RC_ASSERT(back.value() == v);
  RC_ASSERT(hash(back.value()) == hash(v));
  RC_ASSERT(describe_difference(v, back.value()).empty());
}

RC_GTEST_PROP(Value, DifferentValuesShowADifference, (const Value& a, const Value& b)) {
  RC_PRE(!(a == b));
  RC_ASSERT(!describe_difference(a, b).empty());
  RC_ASSERT(encoded(a) != encoded(b));
}

RC_GTEST_PROP(Value, AnyBytesDecodeOrAreRefusedAndDecodedOnesAreCanonical, (const Bytes& bytes)) {
  const auto v = decoded(bytes);
  if (v) RC_ASSERT(encoded(v.value()) == bytes);
}

}  // namespace
}  // namespace essim
