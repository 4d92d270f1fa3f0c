#include "external/json.h"

#include <algorithm>
#include <iterator>
#include <limits>
#include <set>
#include <vector>

#include <fmt/format.h>

namespace essim::external {

sim::Result<Json> parse_line(std::string_view line) {
  std::vector<std::set<std::string>> keys;  // per open object
  std::string duplicate;
  const Json::parser_callback_t check = [&](int /*depth*/, Json::parse_event_t event,
                                            Json& parsed) {
    if (event == Json::parse_event_t::object_start) keys.emplace_back();
    if (event == Json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    if (event == Json::parse_event_t::key && !keys.empty() && duplicate.empty() &&
        !keys.back().insert(parsed.get<std::string>()).second)
      duplicate = parsed.get<std::string>();
    return true;
  };
  try {
    Json json = Json::parse(line, check);
    if (!duplicate.empty())
      return sim::Error{fmt::format("the key \"{}\" is given twice", duplicate)};
    return json;
  } catch (const Json::exception& e) {
    return sim::Error{fmt::format("not JSON: {}", e.what())};
  }
}

sim::Result<Value> to_value(const Json& json, std::string_view what) {
  switch (json.type()) {
    case Json::value_t::null:
      return Value();
    case Json::value_t::boolean:
      return Value(json.get<bool>());
    case Json::value_t::number_integer:
      return Value(json.get<std::int64_t>());
    case Json::value_t::number_unsigned: {
      const auto n = json.get<std::uint64_t>();
      if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return sim::Error{fmt::format("{}: {} is past the largest integer, 2^63 - 1", what, n)};
      return Value(static_cast<std::int64_t>(n));
    }
    case Json::value_t::number_float:
      return sim::Error{fmt::format(
          "{}: {} is a floating-point number; values are integers (keep money in cents)", what,
          json.dump())};
    case Json::value_t::string:
      return Value(json.get<std::string>());
    case Json::value_t::array: {
      Value::List list;
      list.reserve(json.size());
      for (std::size_t i = 0; i < json.size(); ++i) {
        auto item = to_value(json[i], fmt::format("{}[{}]", what, i));
        if (!item.ok()) return item.error();
        list.push_back(std::move(item).value());
      }
      return Value(std::move(list));
    }
    case Json::value_t::object: {
      Value::Map map;
      for (const auto& [key, item] : json.items()) {
        auto v = to_value(item, fmt::format("{}[\"{}\"]", what, key));
        if (!v.ok()) return v.error();
        map.emplace(key, std::move(v).value());
      }
      return Value(std::move(map));
    }
    case Json::value_t::binary:
    case Json::value_t::discarded:
      break;
  }
  return sim::Error{fmt::format("{}: not a JSON value essim keeps", what)};
}

Json to_json(const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      return nullptr;
    case Value::Kind::kBool:
      return value.as_bool();
    case Value::Kind::kInt:
      return value.as_int();
    case Value::Kind::kString:
      return value.as_string();
    case Value::Kind::kList: {
      Json list = Json::array();
      for (const Value& item : value.as_list()) list.push_back(to_json(item));
      return list;
    }
    case Value::Kind::kMap: {
      Json map = Json::object();
      for (const auto& [key, item] : value.as_map()) map[key] = to_json(item);
      return map;
    }
  }
  return nullptr;
}

void append_json_text(std::string& out, std::string_view text) {
  // Printable ASCII but for the quote and the backslash is itself in JSON;
  // anything else is escaped (and checked as UTF-8) by the library.
  const bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
  });
  if (!plain) {
    out += Json(std::string(text)).dump(-1, ' ', false, Json::error_handler_t::replace);
    return;
  }
  out += '"';
  out += text;
  out += '"';
}

void append_json(std::string& out, const Value& value) {
  switch (value.kind()) {
    case Value::Kind::kNull:
      out += "null";
      return;
    case Value::Kind::kBool:
      out += value.as_bool() ? "true" : "false";
      return;
    case Value::Kind::kInt:
      fmt::format_to(std::back_inserter(out), "{}", value.as_int());
      return;
    case Value::Kind::kString:
      append_json_text(out, value.as_string());
      return;
    case Value::Kind::kList: {
      out += '[';
      bool first = true;
      for (const Value& item : value.as_list()) {
        if (!first) out += ',';
        first = false;
        append_json(out, item);
      }
      out += ']';
      return;
    }
    case Value::Kind::kMap: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : value.as_map()) {
        if (!first) out += ',';
        first = false;
        append_json_text(out, key);
        out += ':';
        append_json(out, item);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace essim::external
