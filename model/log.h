#pragma once
// The record format of essim's logs (the store's events and snapshots).
//
//   u32 body length | u32 CRC32C of (previous hash, body) | u64 previous hash | body
//
// The previous hash chains each record to the one before it (the hash of that
// record's bytes; 0 for the first), so recovery can tell a torn tail (the last
// record incomplete or garbage) from corruption in the middle of the log (a bad
// record with a good one after it), which must never be served past.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "model/event.h"
#include "sim/env.h"
#include "sim/storage.h"

namespace essim::model {

inline constexpr std::size_t kRecordHeaderBytes = 16;
inline constexpr std::uint32_t kRecordBodyMax = 64U << 20;

// The CRC32C a record with `previous_hash` and `body` carries.
std::uint32_t record_crc(std::uint64_t previous_hash, ByteView body);

// Appends one record holding `body` to `out`; returns the new record's hash
// (the `previous_hash` of the next record).
std::uint64_t append_record(Bytes& out, std::uint64_t previous_hash, ByteView body);

struct LogScan {
  enum class Status { kClean, kTornTail, kCorrupt };
  // What is wrong with the first bad record (the one at valid_bytes).
  enum class Defect {
    kNone,           // clean
    kShortHeader,    // fewer bytes left than a record header
    kLengthOverMax,  // the length field claims more than kRecordBodyMax
    kLengthPastEnd,  // the length field claims more bytes than the log has left
    kBadCrc,         // the CRC32C of (previous hash, body) differs
    kChainBreak,     // the CRC is good but the previous hash is not the last record's
  };
  Status status = Status::kClean;
  std::vector<ByteView> bodies;   // the valid records, in order (views into the input)
  std::uint64_t valid_bytes = 0;  // the valid prefix
  std::uint64_t last_hash = 0;    // hash of the last valid record (0 if none)
  std::string problem;            // what is wrong past valid_bytes, and where
  Defect defect = Defect::kNone;
  std::uint32_t bad_length = 0;     // the bad record's length field (0 for kShortHeader)
  std::uint64_t bad_previous = 0;   // the bad record's previous hash (kBadCrc, kChainBreak)
  std::uint64_t bad_next_good = 0;  // kCorrupt: the offset of the good record after the bad one
};

std::string_view to_string(LogScan::Status status);
std::string_view to_string(LogScan::Defect defect);

// Reads every valid record of `log`, stopping at the first bad one. A part
// of a log that begins after a record with hash `previous_hash` is scanned
// with that hash (its last_hash is `previous_hash` when no record is valid;
// offsets are the part's).
LogScan scan_log(ByteView log, std::uint64_t previous_hash = 0);

// The first offset at or after `from` where a well-formed record with a good
// CRC starts (its chain unchecked), searching byte by byte: what follows a
// bad record whose length field cannot be trusted. At most `crc_budget`
// bytes are checksummed; `exhausted` says the search stopped there.
struct Resync {
  std::optional<std::uint64_t> at;
  bool exhausted = false;
};
Resync next_good_record(ByteView log, std::uint64_t from, std::uint64_t crc_budget);

// The whole of `file` as recovery may trust it: read until a read passes
// `trusted` (its checksums, say) or kAgreeingReads reads agree (a read can be
// corrupted in flight, the file itself not; two reads flipping the same bit
// of a small file are not rare enough), at most kRecoveryReads times; nullopt
// when neither happened, and recovery must not act on what it read (the
// caller fail-stops and tries again after its restart). Empty when the file
// is missing.
inline constexpr int kAgreeingReads = 3;
inline constexpr int kRecoveryReads = 7;
std::optional<Bytes> read_reliably(sim::Storage& disk, std::string_view file,
                                   const std::function<bool(ByteView)>& trusted = {});

// A file that holds one checksummed record, replaced whole (a saga journal,
// the key store's keys). write: false when the node fail-stopped. read: the
// file as read_reliably trusts it (empty when missing; nullopt when no read
// could be trusted). body: the record's body, empty when `file` is not one
// clean record.
[[nodiscard]] bool write_single_record(sim::Env& env, std::string_view file, ByteView body);
std::optional<Bytes> read_single_record(sim::Storage& disk, std::string_view file);
ByteView single_record_body(ByteView file);

}  // namespace essim::model
