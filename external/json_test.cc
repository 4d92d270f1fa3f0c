// Hostile protocol lines: what a process may send that essim must refuse
// with a clear message rather than misread.

#include "external/json.h"

#include "external/domain.h"
#include "model/codec.h"
#include "model/test_generators.h"

#include <limits>

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

namespace essim::external {
namespace {

std::string refusal(std::string_view line) {
  auto parsed = parse_line(line);
  if (!parsed.ok()) return parsed.error().message;
  auto value = to_value(parsed.value(), "the answer");
  return value.ok() ? "accepted" : value.error().message;
}

TEST(ProtocolJson, ValuesEssimKeepsAreAccepted) {
  EXPECT_EQ(refusal(R"({"a": [1, -2, true, null, "x", {"b": {}}]})"), "accepted");
  EXPECT_EQ(refusal("9223372036854775807"), "accepted");
  EXPECT_EQ(refusal("-9223372036854775808"), "accepted");
  EXPECT_EQ(refusal(R"("\u00e9t\u00e9")"), "accepted");
}

TEST(ProtocolJson, HostileLinesAreRefusedWithWhatIsWrong) {
  EXPECT_NE(refusal("not json").find("not JSON"), std::string::npos);
  EXPECT_NE(refusal("").find("not JSON"), std::string::npos);
  EXPECT_NE(refusal(R"({"a": 1)").find("not JSON"), std::string::npos);
  EXPECT_NE(refusal("{\"a\": \"\xff\xfe\"}").find("not JSON"), std::string::npos);  // not UTF-8
  EXPECT_EQ(refusal(R"({"a": 1, "a": 2})"), "the key \"a\" is given twice");
  EXPECT_EQ(refusal(R"({"x": {"a": 1, "a": 1}})"), "the key \"a\" is given twice");
  // The same key in two objects is no duplicate.
  EXPECT_EQ(refusal(R"([{"a": 1}, {"a": 2}])"), "accepted");
  EXPECT_EQ(refusal(R"({"amount": 1.5})"),
            "the answer[\"amount\"]: 1.5 is a floating-point number; values are integers (keep "
            "money in cents)");
  EXPECT_EQ(refusal("9223372036854775808"),
            "the answer: 9223372036854775808 is past the largest integer, 2^63 - 1");
  EXPECT_NE(refusal("1e400"), "accepted");
  EXPECT_NE(refusal("[1, [2, [3.0]]]").find("the answer[1][1][0]: 3.0"), std::string::npos);
}

// Text as a process sends it: UTF-8 (here printable ASCII and a few accents).
rc::Gen<std::string> text() {
  return rc::gen::map(rc::gen::container<std::vector<int>>(rc::gen::inRange(0, 100)),
                      [](const std::vector<int>& codes) {
                        std::string s;
                        for (const int c : codes)
                          s += c < 95 ? std::string(1, char(32 + c)) : "\u00e9";
                        return s;
                      });
}

RC_GTEST_PROP(ProtocolJson, AnyValueRoundTrips, ()) {
  const auto leaf = rc::gen::oneOf(
      rc::gen::just(Value()),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Value(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Value(i); }),
      rc::gen::map(text(), [](std::string s) { return Value(std::move(s)); }));
  const auto items =
      *rc::gen::container<std::vector<std::pair<std::string, Value>>>(rc::gen::pair(text(), leaf));
  Value::Map map;
  Value::List list;
  for (const auto& [k, v] : items) {
    map.emplace(k, v);
    list.push_back(v);
  }
  const Value value(Value::Map{{"map", Value(map)}, {"list", Value(list)}});
  auto parsed = parse_line(to_json(value).dump());
  RC_ASSERT(parsed.ok());
  auto back = to_value(parsed.value(), "v");
  RC_ASSERT(back.ok());
  RC_ASSERT(back.value() == value);
}

// append_json writes what the library's dump writes, byte for byte, for any
// value: text of any bytes (quotes, backslashes, control characters, UTF-8,
// bytes that are not UTF-8, which go as U+FFFD), any integer, nesting.
RC_GTEST_PROP(ProtocolJson, AppendJsonIsTheLibrarysDump, ()) {
  const auto any_text =
      rc::gen::oneOf(text(), rc::gen::arbitrary<std::string>(),
                     rc::gen::element<std::string>("\"", "\\", "\x7f", "\n", "\xff", "\xe9t\xc3"));
  const auto leaf = rc::gen::oneOf(
      rc::gen::just(Value()),
      rc::gen::map(rc::gen::arbitrary<bool>(), [](bool b) { return Value(b); }),
      rc::gen::map(rc::gen::arbitrary<std::int64_t>(), [](std::int64_t i) { return Value(i); }),
      rc::gen::map(any_text, [](std::string s) { return Value(std::move(s)); }));
  const auto items = *rc::gen::container<std::vector<std::pair<std::string, Value>>>(
      rc::gen::pair(any_text, leaf));
  Value::Map map;
  Value::List list;
  for (const auto& [k, v] : items) {
    map.emplace(k, v);
    list.push_back(v);
  }
  // And any value nested up to three deep (lists and maps in lists).
  const Value value(Value::Map{{"map", Value(map)},
                               {"list", Value(list)},
                               {"", Value()},
                               {"nested", *rc::gen::arbitrary<Value>()}});
  std::string written = "prefix";
  append_json(written, value);
  RC_ASSERT(written ==
            "prefix" + to_json(value).dump(-1, ' ', false, Json::error_handler_t::replace));
}

TEST(ProtocolJson, AppendJsonAtTheEdges) {
  const Value edges(Value::List{
      Value(std::numeric_limits<std::int64_t>::min()),
      Value(std::numeric_limits<std::int64_t>::max()), Value(std::string("a\0b", 3)),
      Value(std::string("\x7f")), Value(Value::List{}), Value(Value::Map{}),
      Value(Value::List{Value(Value::List{Value(Value::Map{{"", Value()}})})}),
      Value(std::string("\xed\xa0\x80")),  // a surrogate's UTF-8: not UTF-8
  });
  std::string written;
  append_json(written, edges);
  EXPECT_EQ(written, to_json(edges).dump(-1, ' ', false, Json::error_handler_t::replace));
  EXPECT_EQ(written.substr(0, 42), "[-9223372036854775808,9223372036854775807,");
}

// An event written straight to text is the library's dump of event_json,
// whatever its strings and numbers; a payload essim did not write is
// refused by both.
RC_GTEST_PROP(ProtocolJson, AppendEventJsonIsTheLibrarysDump, ()) {
  Event e;
  e.id = Id128{*rc::gen::arbitrary<std::uint64_t>(), *rc::gen::arbitrary<std::uint64_t>()};
  e.stream = *rc::gen::arbitrary<std::string>();
  e.type = *text();
  e.version = *rc::gen::arbitrary<std::uint64_t>();
  e.position = *rc::gen::arbitrary<std::uint64_t>();
  e.schema_version = *rc::gen::arbitrary<std::uint32_t>();
  Writer w(e.payload);
  encode(w, Value(Value::Map{{*text(), Value(*rc::gen::arbitrary<std::int64_t>())},
                             {"s", Value(*rc::gen::arbitrary<std::string>())}}));
  std::string written;
  append_event_json(written, e);
  RC_ASSERT(written == event_json(e).dump(-1, ' ', false, Json::error_handler_t::replace));
  e.payload.push_back(0);  // a byte past the value
  RC_ASSERT_THROWS_AS(append_event_json(written, e), BadPayload);
  RC_ASSERT_THROWS_AS(event_json(e), BadPayload);
}

}  // namespace
}  // namespace essim::external
