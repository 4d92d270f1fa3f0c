#pragma once
// Auditing a log of essim's record format (model/log.h): every CRC and the
// whole hash chain, reporting the first bad record, where it is and what is
// wrong with it. `essim audit` runs it on a file; an in-scenario audit
// operation can run it on a store's log.
//
// What the chain proves, and what it does not:
// - A bit flip, a record removed, two records swapped, or records spliced in
//   from another log are detected: each record carries the CRC32C of (previous
//   hash, body) and the hash of the record before it.
// - Records removed at the very end are not: a truncated log is a shorter,
//   valid log. Neither is a log rewritten as a whole: the chain's hash is not
//   keyed (and is not cryptographic), so whoever can write the file can
//   rebuild it.
// - A seal closes both gaps: a small file, kept apart from the log, that
//   records how many records and bytes a log had, its chain head and the
//   SHA-256 of those bytes, under an HMAC-SHA256 whose key is not in the log.
//   A later audit with the seal and the key checks that the log still starts
//   with exactly those bytes; records appended after the seal are allowed and
//   counted.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/log.h"
#include "sim/result.h"

namespace essim::model {

using Digest = std::array<std::uint8_t, 32>;  // a SHA-256 or an HMAC-SHA256

// A key for sealing: the key file's bytes, all of them.
inline constexpr std::size_t kSealKeyBytesMin = 16;
inline constexpr std::size_t kSealKeyBytesMax = 1024;

// What a seal records of a log (format_seal writes it, parse_seal reads it).
struct Seal {
  std::uint64_t records = 0;     // the log's records when sealed
  std::uint64_t bytes = 0;       // their bytes, from offset 0
  std::uint64_t chain_head = 0;  // the hash of the last of them (0 for none)
  Digest sha256{};               // the SHA-256 of those bytes
  Digest hmac{};                 // HMAC-SHA256 with the key, over the fields above
};

// The outcome of checking a log against a seal.
struct SealCheck {
  enum class Status {
    kMatches,    // the log starts with exactly the sealed records
    kBadMac,     // the HMAC does not verify: a wrong key, or the seal was altered
    kBadPrefix,  // the sealed prefix itself fails its audit (see AuditReport)
    kTruncated,  // the log has fewer records than the seal covers
    kRewritten,  // the first `records` records are not the sealed ones
  };
  Status status = Status::kMatches;
  std::uint64_t sealed_records = 0;
  std::uint64_t sealed_bytes = 0;
  std::uint64_t appended_records = 0;  // good records after the sealed ones
  std::uint64_t appended_bytes = 0;    // and their bytes
  std::string problem;                 // empty when kMatches
};

struct AuditReport {
  LogScan::Status status = LogScan::Status::kClean;
  LogScan::Defect defect = LogScan::Defect::kNone;
  std::uint64_t records = 0;      // good records before the first bad one (all when clean)
  std::uint64_t good_bytes = 0;   // their bytes: the offset of the first bad record
  std::uint64_t file_bytes = 0;   // the whole log
  std::uint64_t chain_head = 0;   // the hash of the last good record (0 for none)
  std::string wrong;              // what is wrong with record `records` ("bad CRC32C: ...")
  std::string problem;            // the same with where, and torn tail or corruption
  std::optional<SealCheck> seal;  // when audited against a seal

  // The chain verifies and, when given, so does the seal.
  bool ok() const;
};

std::string_view to_string(SealCheck::Status status);

// Verifies every record of `log`: its length, its CRC and its link to the
// record before it. A clean log (zero records included) is ok.
AuditReport audit_log(ByteView log);
// The same, and checks `log` against `seal` with `key`: the HMAC, then that the
// log's first seal.records records are byte for byte the sealed ones.
AuditReport audit_log(ByteView log, const Seal& seal, ByteView key);

// Why `key` cannot key a seal; nullopt when it can.
std::optional<std::string> unusable_key(ByteView key);
// The seal of `log` under `key`. An error when the log does not pass its audit
// (only a clean log is sealed) or the key is unusable.
sim::Result<Seal> make_seal(ByteView log, ByteView key);
// The HMAC-SHA256 under `key` of the seal's fields (all but its hmac).
// REQUIRES: !unusable_key(key).
Digest seal_hmac(const Seal& seal, ByteView key);

// The seal as its file holds it: versioned text, one field per line.
//   essim-seal 1
//   records 5
//   bytes 230
//   chain-head 0x0123456789abcdef
//   sha256 <64 hex digits>
//   hmac-sha256 <64 hex digits>
// The HMAC covers the first five lines exactly as written.
std::string format_seal(const Seal& seal);
// Reads what format_seal writes and nothing else (one spelling of each
// number, so the HMAC covers the text as read). Errors read "line N: what".
inline constexpr std::size_t kSealTextBytesMax = 4096;
sim::Result<Seal> parse_seal(std::string_view text);

}  // namespace essim::model
