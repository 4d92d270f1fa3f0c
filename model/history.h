#pragma once
// The history of a run in Jepsen's shape: every operation a client invokes,
// then ok (with what the store answered), fail (it definitely did not happen)
// or info (unknown: it may or may not have happened, e.g. it timed out).
// Kept outside the nodes, so it survives their crashes: it is what the
// clients observed, which the checkers hold the store to.

#include <cstdint>
#include <string>
#include <vector>

#include <essim/domain.h>

#include "model/event.h"

namespace essim::model {

struct HistoryEntry {
  enum class Type : std::uint8_t { kInvoke, kOk, kFail, kInfo };
  std::uint64_t op = 0;
  std::uint32_t client = 0;
  Type type = Type::kInvoke;
  Micros at_us = 0;
  std::string kind{};    // "deposit", "transfer", "transfer/debit", ...
  std::string stream{};  // the aggregate ("saga-ID" for a saga)
  std::string detail{};  // why it failed, what it was unsure of
  CommandId command_id{};
  Command command{};  // the command invoked (empty kind for a saga)
  // The decider's own answer: kOk (accepted, decided on the stream at
  // stream_version when it appended nothing) or kFail (refused, decided on
  // the stream at stream_version). False for timeouts, conflicts, rejections.
  bool decided = false;
  // kOk of an append: what the store acknowledged.
  std::uint64_t first_position = 0;
  std::uint64_t stream_version = 0;
  std::uint32_t events = 0;
};
std::string_view to_string(HistoryEntry::Type type);
std::string describe(const HistoryEntry& entry);

class History {
 public:
  // Starts an operation; returns its id.
  std::uint64_t invoke(std::uint32_t client, Micros at_us, std::string kind, std::string stream,
                       const CommandId& command_id, Command command = {});
  void complete(std::uint64_t op, HistoryEntry::Type type, Micros at_us, std::string detail,
                std::uint64_t first_position = 0, std::uint64_t stream_version = 0,
                std::uint32_t events = 0, bool decided = false);

  const std::vector<HistoryEntry>& entries() const { return entries_; }
  // Operations invoked and not yet completed.
  std::size_t open() const { return open_; }

 private:
  std::vector<HistoryEntry> entries_;
  std::vector<std::size_t> invoke_index_;  // op - 1 -> its invoke entry
  std::vector<bool> completed_;            // op - 1 -> completed yet
  std::size_t open_ = 0;
};

}  // namespace essim::model
