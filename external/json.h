#pragma once
// JSON lines of the process protocol (docs/protocol.md) and essim's Value.

#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include <essim/value.h>
#include "sim/result.h"

namespace essim::external {

using Json = nlohmann::json;

// One line of JSON, or why it is not one: not JSON, or an object with a key
// twice (which JSON libraries disagree on, so it is refused).
sim::Result<Json> parse_line(std::string_view line);

// `json` as a Value, or why it is not one: a floating-point number, an
// integer outside int64, binary data. `what` names it in the error.
sim::Result<Value> to_value(const Json& json, std::string_view what);

Json to_json(const Value& value);

// Appends `value` as JSON to `out`: the bytes to_json(value).dump() gives
// (no spaces, keys in order, text not UTF-8 as U+FFFD), without building
// the Json. The protocol's hot path: a batch of events to a handler.
void append_json(std::string& out, const Value& value);
void append_json_text(std::string& out, std::string_view text);

}  // namespace essim::external
