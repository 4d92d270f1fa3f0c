#include "model/history.h"

#include <fmt/format.h>

#include "sim/assert.h"

namespace essim::model {

std::string_view to_string(HistoryEntry::Type type) {
  switch (type) {
    case HistoryEntry::Type::kInvoke:
      return "invoke";
    case HistoryEntry::Type::kOk:
      return "ok";
    case HistoryEntry::Type::kFail:
      return "fail";
    case HistoryEntry::Type::kInfo:
      return "info";
  }
  return "unknown";
}

std::string describe(const HistoryEntry& e) {
  std::string s =
      fmt::format("op {} client {} {} {} {}", e.op, e.client, to_string(e.type), e.kind, e.stream);
  if (e.type == HistoryEntry::Type::kOk && e.events > 0) {
    s += fmt::format(" -> positions {}..{} version {}", e.first_position,
                     e.first_position + e.events - 1, e.stream_version);
  }
  if (!e.detail.empty()) s += " (" + e.detail + ")";
  return s + " at " + sim::format_time(e.at_us);
}

std::uint64_t History::invoke(std::uint32_t client, Micros at_us, std::string kind,
                              std::string stream, const CommandId& command_id, Command command) {
  const std::uint64_t op = invoke_index_.size() + 1;
  invoke_index_.push_back(entries_.size());
  completed_.push_back(false);
  entries_.push_back(HistoryEntry{.op = op,
                                  .client = client,
                                  .type = HistoryEntry::Type::kInvoke,
                                  .at_us = at_us,
                                  .kind = std::move(kind),
                                  .stream = std::move(stream),
                                  .command_id = command_id,
                                  .command = std::move(command)});
  ++open_;
  return op;
}

void History::complete(std::uint64_t op, HistoryEntry::Type type, Micros at_us, std::string detail,
                       std::uint64_t first_position, std::uint64_t stream_version,
                       std::uint32_t events, bool decided) {
  ESSIM_ASSERT_MSG(op >= 1 && op <= invoke_index_.size(), "completing an unknown operation");
  ESSIM_ASSERT(type != HistoryEntry::Type::kInvoke);
  ESSIM_ASSERT_MSG(!completed_[op - 1], "an operation completed twice");
  completed_[op - 1] = true;
  const HistoryEntry& invoked = entries_[invoke_index_[op - 1]];
  HistoryEntry e = invoked;
  e.type = type;
  e.at_us = at_us;
  e.detail = std::move(detail);
  e.first_position = first_position;
  e.stream_version = stream_version;
  e.events = events;
  e.decided = decided;
  entries_.push_back(std::move(e));
  ESSIM_ASSERT(open_ > 0);
  --open_;
}

}  // namespace essim::model
