#pragma once
// The value a read model holds: null, a bool, a 64-bit integer, a string, a
// list, or a map from strings to values (kept in key order, so iterating,
// encoding and hashing it are deterministic).
//
// A read model is a map of such values (ReadModel): a projection handler
// updates it, a query returns it, and essim's properties compare it with a
// clean replay. A difference is shown as the paths where the two part:
//
//   model["acct-1"]["balance"] = 40;
//   model["feed"].push_back("opened acct-1");   // null becomes a list
//   model["acct-1"]["status"] = "frozen";       // null becomes a map
//
// Reading a value as the wrong kind (as_int() of a string, say) throws
// essim::WrongKind: in a handler that is a bug of the handler, which essim
// reports as a finding with its seed.

#include <compare>
#include <concepts>
#include <cstdint>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include <essim/codec.h>
#include <essim/result.h>

namespace essim {

class WrongKind : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class Value {
 public:
  using List = std::vector<Value>;
  using Map = std::map<std::string, Value, std::less<>>;
  enum class Kind : std::uint8_t { kNull, kBool, kInt, kString, kList, kMap };

  Value() = default;                // null
  Value(std::nullptr_t) {}          // NOLINT(google-explicit-constructor)
  Value(bool b) : data_(b) {}       // NOLINT(google-explicit-constructor)
  template <std::integral T>        //
  requires(!std::same_as<T, bool>)  //
      Value(T i)
      : data_(checked_int(i)) {}                        // NOLINT(google-explicit-constructor)
  Value(std::string s) : data_(std::move(s)) {}         // NOLINT(google-explicit-constructor)
  Value(std::string_view s) : data_(std::string(s)) {}  // NOLINT(google-explicit-constructor)
  Value(const char* s) : data_(std::string(s)) {}       // NOLINT(google-explicit-constructor)
  Value(List list) : data_(std::move(list)) {}          // NOLINT(google-explicit-constructor)
  Value(Map map) : data_(std::move(map)) {}             // NOLINT(google-explicit-constructor)

  Kind kind() const { return static_cast<Kind>(data_.index()); }
  bool is_null() const { return kind() == Kind::kNull; }
  bool is_int() const { return kind() == Kind::kInt; }
  bool is_string() const { return kind() == Kind::kString; }
  bool is_list() const { return kind() == Kind::kList; }
  bool is_map() const { return kind() == Kind::kMap; }

  // The value as one kind. Throws WrongKind when it is another.
  bool as_bool() const { return get<bool>("a bool"); }
  std::int64_t as_int() const { return get<std::int64_t>("an integer"); }
  const std::string& as_string() const { return get<std::string>("a string"); }
  const List& as_list() const { return get<List>("a list"); }
  const Map& as_map() const { return get<Map>("a map"); }
  List& as_list();  // null becomes an empty list
  Map& as_map();    // null becomes an empty map

  // The integer, or `fallback` when the value is null.
  std::int64_t int_or(std::int64_t fallback) const { return is_null() ? fallback : as_int(); }

  // The member `key` of a map, created null when absent (null becomes a map).
  Value& operator[](std::string_view key);
  // The member `key`, or nullptr when absent or when this is not a map.
  const Value* find(std::string_view key) const;
  // Appends to a list (null becomes a list).
  void push_back(Value value) { as_list().push_back(std::move(value)); }
  // Elements of a list or members of a map; 0 for anything else.
  std::size_t size() const;

  // Adds to an integer (null counts as 0). Throws std::overflow_error on
  // overflow, leaving the value as it was. (Inline: handlers' hot path.)
  Value& operator+=(std::int64_t delta) {
    std::int64_t* i = std::get_if<std::int64_t>(&data_);
    std::int64_t sum = 0;
    if (i != nullptr && !__builtin_add_overflow(*i, delta, &sum)) [[likely]] {
      *i = sum;
      return *this;
    }
    return add_slow(delta, false);
  }
  Value& operator-=(std::int64_t delta) {
    std::int64_t* i = std::get_if<std::int64_t>(&data_);
    std::int64_t difference = 0;
    if (i != nullptr && !__builtin_sub_overflow(*i, delta, &difference)) [[likely]] {
      *i = difference;
      return *this;
    }
    return add_slow(delta, true);
  }

  // Compact JSON: {"a":[1,"x",null,true]}.
  std::string to_json() const;

  friend bool operator==(const Value&, const Value&) = default;
  // A total order (kind first): values can be map keys and sorted.
  friend std::strong_ordering operator<=>(const Value& a, const Value& b);

 private:
  template <typename T>
  const T& get(const char* wanted) const {
    if (const T* v = std::get_if<T>(&data_)) [[likely]]
      return *v;
    wrong_kind(wanted);
  }
  [[noreturn]] void wrong_kind(const char* wanted) const;
  Value& add_slow(std::int64_t delta, bool subtract);
  template <typename T>
  static std::int64_t checked_int(T i) {
    if constexpr (std::is_unsigned_v<T> && sizeof(T) >= sizeof(std::int64_t)) {
      if (i > static_cast<T>(INT64_MAX))
        throw std::out_of_range("a Value holds 64-bit signed integers");
    }
    return static_cast<std::int64_t>(i);
  }

  std::variant<std::monostate, bool, std::int64_t, std::string, List, Map> data_;
};

// What a projection keeps and a query returns.
using ReadModel = Value::Map;

std::string_view to_string(Value::Kind kind);  // "null", "bool", "int", ...

// The paths where `expected` and `actual` part, one per line, at most
// `shown_max` of them (then "... and N more"); "" when they are equal:
//   ["acct-1"]["balance"]: expected 40, got 80
//   ["feed"]: expected a list of 3, got a list of 4; [3]: extra "deposit 40"
// `found`, when given, is set to how many paths differ in all.
std::string describe_difference(const ReadModel& expected, const ReadModel& actual,
                                std::size_t shown_max = 5, std::size_t* found = nullptr);
std::string describe_difference(const Value& expected, const Value& actual,
                                std::size_t shown_max = 5, std::size_t* found = nullptr);

// The codec: a kind tag, then the value. decode refuses nesting deeper than
// kValueDepthMax, counts larger than the bytes left, and unknown tags.
inline constexpr std::size_t kValueDepthMax = 64;
void encode(Writer& w, const Value& value);
Result<Value> decode_value(Reader& r);
void encode(Writer& w, const ReadModel& model);
Result<ReadModel> decode_read_model(Reader& r);

// A stable 64-bit hash (the same on every machine), for fingerprints.
std::uint64_t hash(const Value& value);
std::uint64_t hash(const ReadModel& model);

}  // namespace essim
