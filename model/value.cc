#include <essim/value.h>

// g++ 12 reports the inactive members of a std::variant moved into a Result
// as "maybe uninitialized" (a false positive of its flow analysis).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#include <fmt/format.h>

#include <limits>

#include "sim/types.h"

namespace essim {

namespace {

enum Tag : std::uint8_t {
  kNull = 0,
  kFalse = 1,
  kTrue = 2,
  kInt = 3,
  kString = 4,
  kList = 5,
  kMap = 6
};

std::string quoted(std::string_view s) {
  std::string out = "\"";
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20) {
      out += fmt::format("\\u{:04x}", u);
    } else {
      out += c;
    }
  }
  return out + '"';
}

void json(const Value& v, std::string& out) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += v.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      out += std::to_string(v.as_int());
      return;
    case Value::Kind::kString:
      out += quoted(v.as_string());
      return;
    case Value::Kind::kList: {
      out += '[';
      const char* sep = "";
      for (const Value& e : v.as_list()) {
        out += sep;
        json(e, out);
        sep = ",";
      }
      out += ']';
      return;
    }
    case Value::Kind::kMap: {
      out += '{';
      const char* sep = "";
      for (const auto& [k, e] : v.as_map()) {
        out += sep;
        out += quoted(k);
        out += ':';
        json(e, out);
        sep = ",";
      }
      out += '}';
      return;
    }
  }
}

// What a value is, shortly, for a difference: 40, "x", a list of 3, a map of 2.
std::string brief(const Value& v) {
  if (v.is_list()) return fmt::format("a list of {}", v.size());
  if (v.is_map()) return fmt::format("a map of {}", v.size());
  return v.to_json();
}

struct Differ {
  std::size_t shown_max;
  std::size_t found = 0;
  std::string out;

  void note(const std::string& path, const std::string& what) {
    if (found++ < shown_max) out += fmt::format("{}: {}\n", path.empty() ? "(top)" : path, what);
  }

  void maps(const std::string& path, const Value::Map& e, const Value::Map& a) {
    auto i = e.begin();
    auto j = a.begin();
    while (i != e.end() || j != a.end()) {
      if (j == a.end() || (i != e.end() && i->first < j->first)) {
        note(path + "[" + quoted(i->first) + "]",
             fmt::format("expected {}, missing", brief(i->second)));
        ++i;
      } else if (i == e.end() || j->first < i->first) {
        note(path + "[" + quoted(j->first) + "]", fmt::format("unexpected {}", brief(j->second)));
        ++j;
      } else {
        values(path + "[" + quoted(i->first) + "]", i->second, j->second);
        ++i;
        ++j;
      }
    }
  }

  void values(const std::string& path, const Value& e, const Value& a) {
    if (e == a) return;
    if (e.is_map() && a.is_map()) return maps(path, e.as_map(), a.as_map());
    if (e.is_list() && a.is_list()) {
      const Value::List& el = e.as_list();
      const Value::List& al = a.as_list();
      if (el.size() != al.size())
        note(path, fmt::format("expected {}, got {}", brief(e), brief(a)));
      for (std::size_t k = 0; k < std::max(el.size(), al.size()); ++k) {
        const std::string at = fmt::format("{}[{}]", path, k);
        if (k >= al.size()) {
          note(at, fmt::format("missing {}", brief(el[k])));
        } else if (k >= el.size()) {
          note(at, fmt::format("extra {}", brief(al[k])));
        } else {
          values(at, el[k], al[k]);
        }
      }
      return;
    }
    note(path, fmt::format("expected {}, got {}", brief(e), brief(a)));
  }

  std::string finish() {
    if (found > shown_max) out += fmt::format("... and {} more\n", found - shown_max);
    if (!out.empty()) out.pop_back();
    return out;
  }
};

void encode_map(Writer& w, const Value::Map& m);

Result<Value> decode_at(Reader& r, std::size_t depth);

Result<Value::Map> decode_map_at(Reader& r, std::size_t depth) {
  Value::Map m;
  const std::size_t n = r.count(2);  // a key's length and a value's tag at least
  std::string previous;
  for (std::size_t k = 0; k < n && r.ok(); ++k) {
    std::string key = r.string();
    if (!r.ok()) break;
    if (k > 0 && key <= previous)
      return Error{fmt::format("map keys out of order at offset {}", r.offset())};
    auto value = decode_at(r, depth + 1);
    if (!value) return value.error();
    previous = key;
    m.emplace_hint(m.end(), std::move(key), std::move(value).value());
  }
  if (!r.ok()) return Error{r.error()};
  return m;
}

Result<Value> decode_at(Reader& r, std::size_t depth) {
  if (depth > kValueDepthMax)
    return Error{fmt::format("values nested deeper than {}", kValueDepthMax)};
  const std::uint8_t tag = r.u8();
  if (!r.ok()) return Error{r.error()};
  switch (tag) {
    case kNull:
      return Value();
    case kFalse:
      return Value(false);
    case kTrue:
      return Value(true);
    case kInt: {
      const std::int64_t i = r.svarint();
      if (!r.ok()) return Error{r.error()};
      return Value(i);
    }
    case kString: {
      std::string s = r.string();
      if (!r.ok()) return Error{r.error()};
      return Value(std::move(s));
    }
    case kList: {
      Value::List list;
      const std::size_t n = r.count(1);
      list.reserve(n);
      for (std::size_t k = 0; k < n && r.ok(); ++k) {
        auto e = decode_at(r, depth + 1);
        if (!e) return e.error();
        list.push_back(std::move(e).value());
      }
      if (!r.ok()) return Error{r.error()};
      return Value(std::move(list));
    }
    case kMap: {
      auto m = decode_map_at(r, depth);
      if (!m) return m.error();
      Value v;
      v.as_map() = std::move(m).value();  // (g++ 12 misreads a variant built from a moved map)
      return v;
    }
    default:
      return Error{fmt::format("unknown value tag {} at offset {}", tag, r.offset() - 1)};
  }
}

void encode_map(Writer& w, const Value::Map& m) {
  w.varint(m.size());
  for (const auto& [k, v] : m) {
    w.string(k);
    if (v.is_int()) {  // the common read model: counters by key
      w.u8(kInt);
      w.svarint(v.as_int());
    } else {
      encode(w, v);
    }
  }
}

std::uint64_t hash_into(std::uint64_t h, const Value& v);

std::uint64_t hash_map_into(std::uint64_t h, const Value::Map& m) {
  h = sim::fold_hash(h, m.size());
  for (const auto& [k, v] : m) {
    h = sim::fold_hash(
        h, sim::hash_bytes({reinterpret_cast<const std::uint8_t*>(k.data()), k.size()}));
    h = hash_into(h, v);
  }
  return h;
}

std::uint64_t hash_into(std::uint64_t h, const Value& v) {
  h = sim::fold_hash(h, static_cast<std::uint64_t>(v.kind()));
  switch (v.kind()) {
    case Value::Kind::kNull:
      return h;
    case Value::Kind::kBool:
      return sim::fold_hash(h, v.as_bool() ? 1 : 0);
    case Value::Kind::kInt:
      return sim::fold_hash(h, static_cast<std::uint64_t>(v.as_int()));
    case Value::Kind::kString: {
      const std::string& s = v.as_string();
      return sim::fold_hash(
          h, sim::hash_bytes({reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}));
    }
    case Value::Kind::kList:
      h = sim::fold_hash(h, v.size());
      for (const Value& e : v.as_list()) h = hash_into(h, e);
      return h;
    case Value::Kind::kMap:
      return hash_map_into(h, v.as_map());
  }
  return h;
}

}  // namespace

Value::List& Value::as_list() {
  if (is_null()) data_ = List{};
  if (List* l = std::get_if<List>(&data_)) [[likely]]
    return *l;
  wrong_kind("a list");
}

Value::Map& Value::as_map() {
  if (is_null()) data_ = Map{};
  if (Map* m = std::get_if<Map>(&data_)) [[likely]]
    return *m;
  wrong_kind("a map");
}

Value& Value::operator[](std::string_view key) {
  Map& m = as_map();
  const auto it = m.find(key);
  if (it != m.end()) return it->second;
  return m.emplace(std::string(key), Value()).first->second;
}

const Value* Value::find(std::string_view key) const {
  const Map* m = std::get_if<Map>(&data_);
  if (m == nullptr) return nullptr;
  const auto it = m->find(key);
  return it == m->end() ? nullptr : &it->second;
}

std::size_t Value::size() const {
  if (const List* l = std::get_if<List>(&data_)) return l->size();
  if (const Map* m = std::get_if<Map>(&data_)) return m->size();
  return 0;
}

// Null, another kind, or an overflow.
Value& Value::add_slow(std::int64_t delta, bool subtract) {
  const std::int64_t now = int_or(0);  // throws WrongKind for another kind
  std::int64_t result = 0;
  const bool overflow = subtract ? __builtin_sub_overflow(now, delta, &result)
                                 : __builtin_add_overflow(now, delta, &result);
  if (overflow)
    throw std::overflow_error(subtract ? "integer overflow in Value -="
                                       : "integer overflow in Value +=");
  data_ = result;
  return *this;
}

std::string Value::to_json() const {
  std::string out;
  json(*this, out);
  return out;
}

void Value::wrong_kind(const char* wanted) const {
  throw WrongKind(
      fmt::format("a value is {}, not {}: {}", to_string(kind()), wanted, brief(*this)));
}

std::strong_ordering operator<=>(const Value& a, const Value& b) {
  if (a.kind() != b.kind()) return a.kind() <=> b.kind();
  switch (a.kind()) {
    case Value::Kind::kNull:
      return std::strong_ordering::equal;
    case Value::Kind::kBool:
      return a.as_bool() <=> b.as_bool();
    case Value::Kind::kInt:
      return a.as_int() <=> b.as_int();
    case Value::Kind::kString:
      return a.as_string().compare(b.as_string()) <=> 0;
    case Value::Kind::kList:
      return std::lexicographical_compare_three_way(a.as_list().begin(), a.as_list().end(),
                                                    b.as_list().begin(), b.as_list().end());
    case Value::Kind::kMap:
      return std::lexicographical_compare_three_way(
          a.as_map().begin(), a.as_map().end(), b.as_map().begin(), b.as_map().end(),
          [](const auto& x, const auto& y) {
            if (const auto c = x.first.compare(y.first) <=> 0; c != 0) return c;
            return x.second <=> y.second;
          });
  }
  return std::strong_ordering::equal;
}

std::string_view to_string(Value::Kind kind) {
  switch (kind) {
    case Value::Kind::kNull:
      return "null";
    case Value::Kind::kBool:
      return "a bool";
    case Value::Kind::kInt:
      return "an integer";
    case Value::Kind::kString:
      return "a string";
    case Value::Kind::kList:
      return "a list";
    case Value::Kind::kMap:
      return "a map";
  }
  return "?";
}

std::string describe_difference(const ReadModel& expected, const ReadModel& actual,
                                std::size_t shown_max, std::size_t* found) {
  Differ d{shown_max, 0, {}};
  d.maps("", expected, actual);
  if (found != nullptr) *found = d.found;
  return d.finish();
}

std::string describe_difference(const Value& expected, const Value& actual, std::size_t shown_max,
                                std::size_t* found) {
  Differ d{shown_max, 0, {}};
  d.values("", expected, actual);
  if (found != nullptr) *found = d.found;
  return d.finish();
}

void encode(Writer& w, const Value& v) {
  switch (v.kind()) {
    case Value::Kind::kNull:
      w.u8(kNull);
      return;
    case Value::Kind::kBool:
      w.u8(v.as_bool() ? kTrue : kFalse);
      return;
    case Value::Kind::kInt:
      w.u8(kInt);
      w.svarint(v.as_int());
      return;
    case Value::Kind::kString:
      w.u8(kString);
      w.string(v.as_string());
      return;
    case Value::Kind::kList:
      w.u8(kList);
      w.varint(v.size());
      for (const Value& e : v.as_list()) encode(w, e);
      return;
    case Value::Kind::kMap:
      w.u8(kMap);
      encode_map(w, v.as_map());
      return;
  }
}

Result<Value> decode_value(Reader& r) {
  return decode_at(r, 0);
}

void encode(Writer& w, const ReadModel& model) {
  encode_map(w, model);
}

Result<ReadModel> decode_read_model(Reader& r) {
  return decode_map_at(r, 0);
}

std::uint64_t hash(const Value& value) {
  return hash_into(0x6a09e667f3bcc908ULL, value);
}

std::uint64_t hash(const ReadModel& model) {
  return hash_map_into(0xbb67ae8584caa73bULL, model);
}

}  // namespace essim
