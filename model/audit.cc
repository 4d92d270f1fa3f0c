#include "model/audit.h"

#include <charconv>
#include <vector>

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "model/codec.h"
#include "sim/assert.h"

namespace essim::model {

namespace {

using Defect = LogScan::Defect;

Digest sha256(ByteView bytes) {
  Digest out{};
  unsigned int length = 0;
  const int done =
      EVP_Digest(bytes.data(), bytes.size(), out.data(), &length, EVP_sha256(), nullptr);
  ESSIM_ASSERT(done == 1);
  ESSIM_ASSERT(length == out.size());
  return out;
}

Digest hmac_sha256(ByteView key, std::string_view text) {
  ESSIM_ASSERT(key.size() <= kSealKeyBytesMax);
  Digest out{};
  unsigned int length = 0;
  const unsigned char* done =
      HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), out.data(), &length);
  ESSIM_ASSERT(done != nullptr);
  ESSIM_ASSERT(length == out.size());
  return out;
}

// Constant time: how long a comparison takes must not tell how many leading
// bytes of a MAC were right.
bool same_digest(const Digest& a, const Digest& b) {
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string hex(const Digest& digest) {
  std::string out;
  for (const std::uint8_t b : digest) out += fmt::format("{:02x}", b);
  return out;
}

// The fields the HMAC covers: the seal file's first five lines.
std::string sealed_text(const Seal& seal) {
  return fmt::format("essim-seal 1\nrecords {}\nbytes {}\nchain-head 0x{:016x}\nsha256 {}\n",
                     seal.records, seal.bytes, seal.chain_head, hex(seal.sha256));
}

// Where the record whose body is `body` (a view into `log`) starts.
std::uint64_t record_start(ByteView log, ByteView body) {
  const auto offset = static_cast<std::uint64_t>(body.data() - log.data());
  ESSIM_ASSERT(offset >= kRecordHeaderBytes);
  return offset - kRecordHeaderBytes;
}

// What is wrong with the bad record, as a sentence after "record N at offset O: ".
std::string defect_text(const LogScan& scan, ByteView log) {
  const std::uint64_t at = scan.valid_bytes;
  const std::uint64_t left = log.size() - at;
  switch (scan.defect) {
    case Defect::kShortHeader:
      return fmt::format("only {} bytes are left, too few for a {}-byte record header", left,
                         kRecordHeaderBytes);
    case Defect::kLengthOverMax:
      return fmt::format(
          "length past the limit: the length field says {} bytes, a record holds "
          "at most {}",
          scan.bad_length, kRecordBodyMax);
    case Defect::kLengthPastEnd:
      return fmt::format("length past end of file: the length field says {} bytes, {} follow",
                         scan.bad_length, left - kRecordHeaderBytes);
    case Defect::kBadCrc: {
      Reader r(log.subspan(at + 4, 4));
      const std::uint32_t stored = r.u32();
      const ByteView body = log.subspan(at + kRecordHeaderBytes, scan.bad_length);
      return fmt::format(
          "bad CRC32C: the record says 0x{:08x}, its previous hash and body give "
          "0x{:08x}",
          stored, record_crc(scan.bad_previous, body));
    }
    case Defect::kChainBreak:
      return fmt::format(
          "chain break: previous hash 0x{:016x}, expected 0x{:016x} ({})", scan.bad_previous,
          scan.last_hash,
          scan.bodies.empty() ? "the first record's is 0" : "the hash of the record before it");
    case Defect::kNone:
      break;
  }
  ESSIM_ASSERT_MSG(false, "a scan that stopped names its defect");
  return {};
}

// Torn tail or corruption in the middle, and what recovery does about it.
std::string status_text(const LogScan& scan, ByteView log) {
  const std::uint64_t records = scan.bodies.size();
  if (scan.status == LogScan::Status::kCorrupt) {
    return fmt::format(
        "a good record follows at offset {}: corruption in the middle of the log (recovery "
        "serves the {} records before it and refuses appends)",
        scan.bad_next_good, records);
  }
  const std::string truncates =
      fmt::format("recovery truncates the log to {} bytes, dropping the last {}", scan.valid_bytes,
                  log.size() - scan.valid_bytes);
  switch (scan.defect) {
    case Defect::kBadCrc:
      return "no good record follows it: a torn tail (a write cut short); " + truncates;
    case Defect::kChainBreak:
      return "no good record follows it, so it reads as a torn tail, though its CRC is good (a "
             "record before it was removed, or it comes from another log); " +
             truncates;
    default:
      return "the rest of the file cannot be read as records: a torn tail (a write cut short, or "
             "a damaged length field); " +
             truncates;
  }
}

AuditReport report_of(const LogScan& scan, ByteView log) {
  AuditReport report;
  report.status = scan.status;
  report.defect = scan.defect;
  report.records = scan.bodies.size();
  report.good_bytes = scan.valid_bytes;
  report.file_bytes = log.size();
  report.chain_head = scan.last_hash;
  if (scan.status != LogScan::Status::kClean) {
    report.wrong = defect_text(scan, log);
    report.problem = fmt::format("record {} at offset {}: {}; {}", report.records, scan.valid_bytes,
                                 report.wrong, status_text(scan, log));
  }
  // A torn tail has nothing good after it. Recovery cannot look past a bad
  // length field; an audit can, byte by byte: a good record further on means
  // the bad bytes sit in the middle of the log.
  if (scan.status == LogScan::Status::kTornTail) {
    // Bounded: at most 4 times the file's bytes checksummed, plus 1 MiB.
    const Resync next = next_good_record(log, scan.valid_bytes + 1, 4 * log.size() + (1U << 20));
    if (next.at) {
      report.status = LogScan::Status::kCorrupt;
      report.problem = fmt::format(
          "record {} at offset {}: {}; a good record starts at offset {} after {} bad bytes: "
          "corruption in the middle of the log, not a torn tail",
          report.records, scan.valid_bytes, report.wrong, *next.at, *next.at - scan.valid_bytes);
    } else if (next.exhausted) {
      report.problem +=
          "; the search for a good record after it stopped at its bound, so this "
          "may be corruption in the middle rather than a torn tail";
    }
  }
  return report;
}

// The log's first seal.records records against the seal (its HMAC already verified).
SealCheck check_prefix(const LogScan& scan, ByteView log, const Seal& seal) {
  SealCheck check;
  check.sealed_records = seal.records;
  check.sealed_bytes = seal.bytes;
  const std::uint64_t records = scan.bodies.size();
  if (records < seal.records) {
    check.status = scan.status == LogScan::Status::kClean ? SealCheck::Status::kTruncated
                                                          : SealCheck::Status::kBadPrefix;
    check.problem =
        check.status == SealCheck::Status::kTruncated
            ? fmt::format(
                  "truncated: the seal covers {} records ({} bytes), the log holds {} "
                  "({} bytes): records were removed from its end",
                  seal.records, seal.bytes, records, scan.valid_bytes)
            : fmt::format(
                  "record {} is bad, and the seal covers {} records: the sealed records "
                  "were changed",
                  records, seal.records);
    return check;
  }
  std::uint64_t end = 0;
  std::uint64_t head = 0;
  if (seal.records > 0) {
    const ByteView last = scan.bodies[seal.records - 1];
    const std::uint64_t start = record_start(log, last);
    end = start + kRecordHeaderBytes + last.size();
    head = sim::hash_bytes(log.subspan(start, end - start));
  }
  check.status = SealCheck::Status::kRewritten;
  if (end != seal.bytes) {
    check.problem =
        fmt::format("rewritten: the first {} records end at byte {}, the sealed ones at byte {}",
                    seal.records, end, seal.bytes);
  } else if (head != seal.chain_head) {
    check.problem =
        fmt::format("rewritten: the chain head after {} records is 0x{:016x}, the seal's 0x{:016x}",
                    seal.records, head, seal.chain_head);
  } else if (!same_digest(sha256(log.subspan(0, end)), seal.sha256)) {
    check.problem = fmt::format(
        "rewritten: the first {} bytes keep the sealed length and chain head but not the sealed "
        "SHA-256 (the chain was rebuilt to match)",
        end);
  } else {
    check.status = SealCheck::Status::kMatches;
    check.appended_records = records - seal.records;
    check.appended_bytes = scan.valid_bytes - seal.bytes;
  }
  return check;
}

}  // namespace

bool AuditReport::ok() const {
  return status == LogScan::Status::kClean &&
         (!seal || seal->status == SealCheck::Status::kMatches);
}

std::string_view to_string(SealCheck::Status status) {
  switch (status) {
    case SealCheck::Status::kMatches:
      return "matches";
    case SealCheck::Status::kBadMac:
      return "bad-mac";
    case SealCheck::Status::kBadPrefix:
      return "bad-prefix";
    case SealCheck::Status::kTruncated:
      return "truncated";
    case SealCheck::Status::kRewritten:
      return "rewritten";
  }
  return "unknown";
}

AuditReport audit_log(ByteView log) {
  return report_of(scan_log(log), log);
}

AuditReport audit_log(ByteView log, const Seal& seal, ByteView key) {
  const LogScan scan = scan_log(log);
  AuditReport report = report_of(scan, log);
  if (unusable_key(key) || !same_digest(seal_hmac(seal, key), seal.hmac)) {
    SealCheck check;
    check.status = SealCheck::Status::kBadMac;
    check.sealed_records = seal.records;
    check.sealed_bytes = seal.bytes;
    check.problem =
        "the seal's HMAC-SHA256 does not verify with this key: a wrong key, or the seal was "
        "altered";
    report.seal = std::move(check);
    return report;
  }
  report.seal = check_prefix(scan, log, seal);
  return report;
}

std::optional<std::string> unusable_key(ByteView key) {
  if (key.size() < kSealKeyBytesMin || key.size() > kSealKeyBytesMax) {
    return fmt::format("a key is {} to {} bytes (its file's bytes, all of them), not {}",
                       kSealKeyBytesMin, kSealKeyBytesMax, key.size());
  }
  return std::nullopt;
}

sim::Result<Seal> make_seal(ByteView log, ByteView key) {
  if (const auto why = unusable_key(key)) return sim::Error{*why};
  const LogScan scan = scan_log(log);
  if (scan.status != LogScan::Status::kClean) {
    return sim::Error{"the log fails its audit, and only a good log is sealed: " +
                      report_of(scan, log).problem};
  }
  Seal seal;
  seal.records = scan.bodies.size();
  seal.bytes = scan.valid_bytes;
  seal.chain_head = scan.last_hash;
  seal.sha256 = sha256(log);
  seal.hmac = seal_hmac(seal, key);
  return seal;
}

Digest seal_hmac(const Seal& seal, ByteView key) {
  ESSIM_ASSERT(!unusable_key(key));
  return hmac_sha256(key, sealed_text(seal));
}

std::string format_seal(const Seal& seal) {
  return sealed_text(seal) + "hmac-sha256 " + hex(seal.hmac) + "\n";
}

// ---- parse_seal ----

namespace {

constexpr std::uint64_t kSealVersion = 1;

// `text` quoted for a message: at most 40 characters, anything unprintable as '?'.
std::string quoted(std::string_view text) {
  std::string out = "'";
  for (const char c : text.substr(0, 40)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  return out + (text.size() > 40 ? "...'" : "'");
}

// Decimal, no sign, no leading zero (one spelling per number).
std::optional<std::uint64_t> whole_number(std::string_view text) {
  if (text.empty() || (text.size() > 1 && text.front() == '0')) return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

bool lower_hex(std::string_view text, std::size_t digits) {
  if (text.size() != digits) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Digest digest_of(std::string_view hex_text) {
  Digest out{};
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto [end, error] =
        std::from_chars(hex_text.data() + 2 * i, hex_text.data() + 2 * i + 2, out[i], 16);
    ESSIM_ASSERT(error == std::errc());
  }
  return out;
}

// The seal's lines split at '\n', every one ended by it; or why not.
sim::Result<std::vector<std::string_view>> seal_lines(std::string_view text) {
  if (text.size() > kSealTextBytesMax) {
    return sim::Error{fmt::format("larger than {} bytes: not a seal", kSealTextBytesMax)};
  }
  if (text.empty()) return sim::Error{"empty: not a seal"};
  std::vector<std::string_view> lines;
  std::size_t from = 0;
  while (from < text.size()) {
    const std::size_t to = text.find('\n', from);
    const std::size_t n = lines.size() + 1;
    if (to == std::string_view::npos) {
      return sim::Error{fmt::format("line {}: no newline at its end (a truncated seal?)", n)};
    }
    const std::string_view line = text.substr(from, to - from);
    if (line.find('\r') != std::string_view::npos) {
      return sim::Error{fmt::format("line {}: a carriage return (lines end in '\\n' alone)", n)};
    }
    lines.push_back(line);
    from = to + 1;
  }
  return lines;
}

// The values of the seal's lines after its first, or why it cannot be read.
// The version is checked first: another version may have other lines.
sim::Result<std::array<std::string_view, 6>> seal_values(std::string_view text) {
  auto split = seal_lines(text);
  if (!split.ok()) return split.error();
  const std::vector<std::string_view>& lines = split.value();
  static constexpr std::array<std::string_view, 6> kKeys = {"essim-seal", "records", "bytes",
                                                            "chain-head", "sha256",  "hmac-sha256"};
  std::array<std::string_view, 6> values;
  for (std::size_t i = 0; i < kKeys.size(); ++i) {
    if (i >= lines.size()) {
      return sim::Error{fmt::format(
          "line {}: the seal ends before its '{}' line (a truncated seal?)", i + 1, kKeys[i])};
    }
    const std::size_t space = lines[i].find(' ');
    const std::string_view key = lines[i].substr(0, space);
    if (key != kKeys[i]) {
      return sim::Error{fmt::format("line {}: {} where '{}' belongs{}", i + 1, quoted(key),
                                    kKeys[i],
                                    i == 0 ? " (an essim seal starts 'essim-seal 1')" : "")};
    }
    values[i] = space == std::string_view::npos ? "" : lines[i].substr(space + 1);
    if (i > 0) continue;
    const auto version = whole_number(values[0]);
    if (!version) {
      return sim::Error{
          fmt::format("line 1: the version must be a whole number, not {}", quoted(values[0]))};
    }
    if (*version != kSealVersion) {
      return sim::Error{fmt::format("line 1: a version {} seal; this essim reads version {}",
                                    *version, kSealVersion)};
    }
  }
  if (lines.size() > kKeys.size()) {
    return sim::Error{
        fmt::format("line {}: more after the seal's last line, 'hmac-sha256'", kKeys.size() + 1)};
  }
  return values;
}

}  // namespace

sim::Result<Seal> parse_seal(std::string_view text) {
  const auto read = seal_values(text);
  if (!read.ok()) return read.error();
  const std::array<std::string_view, 6>& values = read.value();
  Seal seal;
  const auto records = whole_number(values[1]);
  const auto bytes = whole_number(values[2]);
  if (!records) {
    return sim::Error{fmt::format(
        "line 2: records must be a whole number from 0 to 2^64 - 1, not {}", quoted(values[1]))};
  }
  if (!bytes) {
    return sim::Error{fmt::format("line 3: bytes must be a whole number from 0 to 2^64 - 1, not {}",
                                  quoted(values[2]))};
  }
  seal.records = *records;
  seal.bytes = *bytes;
  if (seal.records > seal.bytes / kRecordHeaderBytes || (seal.records == 0) != (seal.bytes == 0)) {
    return sim::Error{
        fmt::format("line 3: {} records cannot take {} bytes (each takes at least {})",
                    seal.records, seal.bytes, kRecordHeaderBytes)};
  }
  const std::string_view head = values[3];
  if (head.substr(0, 2) != "0x" || !lower_hex(head.substr(2), 16)) {
    return sim::Error{fmt::format(
        "line 4: chain-head must be 0x and 16 lowercase hex digits, not {}", quoted(head))};
  }
  (void)std::from_chars(head.data() + 2, head.data() + head.size(), seal.chain_head, 16);
  if (!lower_hex(values[4], 64)) {
    return sim::Error{
        fmt::format("line 5: sha256 must be 64 lowercase hex digits, not {}", quoted(values[4]))};
  }
  if (!lower_hex(values[5], 64)) {
    return sim::Error{fmt::format("line 6: hmac-sha256 must be 64 lowercase hex digits, not {}",
                                  quoted(values[5]))};
  }
  seal.sha256 = digest_of(values[4]);
  seal.hmac = digest_of(values[5]);
  return seal;
}

}  // namespace essim::model
