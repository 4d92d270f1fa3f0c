#include "model/log.h"

#include <algorithm>

#include <fmt/format.h>

#include "model/codec.h"
#include "sim/assert.h"

namespace essim::model {

std::uint32_t record_crc(std::uint64_t previous_hash, ByteView body) {
  std::uint8_t previous[8];
  for (int i = 0; i < 8; ++i) previous[i] = static_cast<std::uint8_t>(previous_hash >> (8 * i));
  return crc32c(previous, body);
}

namespace {

// Whether a well-formed record with a good CRC starts at `offset`; its chain
// is not checked (its predecessor is the bad record).
bool good_record_at(ByteView log, std::size_t offset) {
  if (offset + kRecordHeaderBytes > log.size()) return false;
  Reader r(log.subspan(offset));
  const std::uint32_t length = r.u32();
  const std::uint32_t crc = r.u32();
  const std::uint64_t previous = r.u64();
  if (length > kRecordBodyMax || offset + kRecordHeaderBytes + length > log.size()) return false;
  return record_crc(previous, log.subspan(offset + kRecordHeaderBytes, length)) == crc;
}

}  // namespace

Resync next_good_record(ByteView log, std::uint64_t from, std::uint64_t crc_budget) {
  Resync found;
  for (std::uint64_t at = from; at + kRecordHeaderBytes <= log.size(); ++at) {
    // Only a plausible header costs a CRC, and CRCs have a budget: a file of
    // plausible length fields must not cost the square of its size.
    Reader r(log.subspan(at));
    const std::uint32_t length = r.u32();
    if (length > kRecordBodyMax || at + kRecordHeaderBytes + length > log.size()) continue;
    if (length > crc_budget) {
      found.exhausted = true;
      return found;
    }
    crc_budget -= length;
    if (good_record_at(log, at)) {
      found.at = at;
      return found;
    }
  }
  return found;
}

std::uint64_t append_record(Bytes& out, std::uint64_t previous_hash, ByteView body) {
  const std::size_t start = out.size();
  Writer w(out);
  w.u32(static_cast<std::uint32_t>(body.size()));
  w.u32(record_crc(previous_hash, body));
  w.u64(previous_hash);
  out.insert(out.end(), body.begin(), body.end());
  return sim::hash_bytes(ByteView(out).subspan(start));
}

std::string_view to_string(LogScan::Status status) {
  switch (status) {
    case LogScan::Status::kClean:
      return "clean";
    case LogScan::Status::kTornTail:
      return "torn-tail";
    case LogScan::Status::kCorrupt:
      return "corrupt";
  }
  return "unknown";
}

std::string_view to_string(LogScan::Defect defect) {
  switch (defect) {
    case LogScan::Defect::kNone:
      return "none";
    case LogScan::Defect::kShortHeader:
      return "short-header";
    case LogScan::Defect::kLengthOverMax:
      return "length-over-max";
    case LogScan::Defect::kLengthPastEnd:
      return "length-past-end";
    case LogScan::Defect::kBadCrc:
      return "bad-crc";
    case LogScan::Defect::kChainBreak:
      return "chain-break";
  }
  return "unknown";
}

LogScan scan_log(ByteView log, std::uint64_t previous_hash) {
  using Defect = LogScan::Defect;
  LogScan scan;
  scan.last_hash = previous_hash;
  std::size_t at = 0;
  while (at < log.size()) {
    const std::size_t left = log.size() - at;
    // `length` and `previous`: the bad record's header, once read.
    auto stop = [&](Defect defect, std::string problem, std::size_t next, std::uint32_t length = 0,
                    std::uint64_t previous = 0) {
      ESSIM_ASSERT(defect != Defect::kNone);
      const bool corrupt = next > at && good_record_at(log, next);
      scan.status = corrupt ? LogScan::Status::kCorrupt : LogScan::Status::kTornTail;
      scan.problem = std::move(problem);
      scan.defect = defect;
      scan.bad_length = length;
      scan.bad_previous = previous;
      if (corrupt) scan.bad_next_good = next;
    };
    if (left < kRecordHeaderBytes) {
      stop(Defect::kShortHeader,
           fmt::format("{} bytes at offset {}, too few for a record header", left, at), 0);
      break;
    }
    Reader r(log.subspan(at));
    const std::uint32_t length = r.u32();
    const std::uint32_t crc = r.u32();
    const std::uint64_t previous = r.u64();
    const std::size_t next = at + kRecordHeaderBytes + length;
    if (length > kRecordBodyMax || next > log.size()) {
      stop(length > kRecordBodyMax ? Defect::kLengthOverMax : Defect::kLengthPastEnd,
           fmt::format("record at offset {} claims {} bytes, {} are left", at, length,
                       left - kRecordHeaderBytes),
           0, length, previous);
      break;
    }
    const ByteView body = log.subspan(at + kRecordHeaderBytes, length);
    if (record_crc(previous, body) != crc) {
      stop(Defect::kBadCrc, fmt::format("record at offset {} fails its CRC32C", at), next, length,
           previous);
      break;
    }
    if (previous != scan.last_hash) {
      stop(Defect::kChainBreak,
           fmt::format("record at offset {} does not chain to the record before it", at), next,
           length, previous);
      break;
    }
    scan.bodies.push_back(body);
    scan.last_hash = sim::hash_bytes(log.subspan(at, next - at));
    at = next;
    scan.valid_bytes = at;
  }
  ESSIM_ASSERT(scan.valid_bytes <= log.size());
  ESSIM_ASSERT((scan.status == LogScan::Status::kClean) == (scan.valid_bytes == log.size()));
  return scan;
}

std::optional<Bytes> read_reliably(sim::Storage& disk, std::string_view file,
                                   const std::function<bool(ByteView)>& trusted) {
  if (!disk.exists(file)) return Bytes{};
  std::vector<Bytes> reads;
  for (int attempt = 0; attempt < kRecoveryReads; ++attempt) {
    auto read = disk.read_all(file);
    if (!read.ok()) continue;
    if (trusted && trusted(read.value())) return std::move(read).value();
    const auto same = std::count(reads.begin(), reads.end(), read.value());
    if (same + 1 >= kAgreeingReads) return std::move(read).value();
    reads.push_back(std::move(read).value());
  }
  return std::nullopt;
}

bool write_single_record(sim::Env& env, std::string_view file, ByteView body) {
  // One checksummed record: a read corrupted in flight is told from the file.
  Bytes record;
  (void)append_record(record, 0, body);
  return env.replace_durably(file, record);
}

std::optional<Bytes> read_single_record(sim::Storage& disk, std::string_view file) {
  return read_reliably(disk, file, [](ByteView b) {
    const LogScan scan = scan_log(b);
    return b.empty() || (scan.status == LogScan::Status::kClean && scan.bodies.size() == 1);
  });
}

ByteView single_record_body(ByteView file) {
  const LogScan scan = scan_log(file);
  if (scan.status != LogScan::Status::kClean || scan.bodies.size() != 1) return {};
  return scan.bodies.front();
}

}  // namespace essim::model
