#include "sim/disk.h"

#include "sim/probe.h"

#include <algorithm>

#include <fmt/format.h>

#include "sim/assert.h"

namespace essim::sim {

std::string_view to_string(CrashOutcome outcome) {
  switch (outcome) {
    case CrashOutcome::kUnsyncedLost:
      return "unsynced-lost";
    case CrashOutcome::kUnsyncedKept:
      return "unsynced-kept";
    case CrashOutcome::kPrefixKept:
      return "prefix-kept";
    case CrashOutcome::kTorn:
      return "torn";
    case CrashOutcome::kTornGarbage:
      return "torn-garbage";
    case CrashOutcome::kReplaceLost:
      return "replace-lost";
    case CrashOutcome::kReplaceKept:
      return "replace-kept";
  }
  return "unknown";
}

SimDisk::SimDisk(const Rng& rng, DiskFaults faults, Recorder recorder)
    : rng_(rng),
      sync_rng_(rng.split("sync-failures")),
      faults_(faults),
      recorder_(std::move(recorder)) {
  ESSIM_ASSERT_MSG(faults_.read_corruption >= 0.0 && faults_.read_corruption <= 1.0,
                   "disk read_corruption must be a probability in [0, 1]");
  ESSIM_ASSERT_MSG(faults_.sync_failures >= 0.0 && faults_.sync_failures <= 1.0,
                   "disk sync_failures must be a probability in [0, 1]");
}

Status SimDisk::check_name(std::string_view name) const {
  if (name.empty()) return Status::fail("a file name cannot be empty");
  if (name.size() > 255) return Status::fail("a file name cannot be longer than 255 bytes");
  return Status::ok();
}

SimDisk::File* SimDisk::find(std::string_view name) {
  const auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

const SimDisk::File* SimDisk::find(std::string_view name) const {
  const auto it = files_.find(name);
  return it == files_.end() ? nullptr : &it->second;
}

Status SimDisk::append(std::string_view name, ByteView bytes) {
  if (Status s = check_name(name); !s.is_ok()) return s;
  auto [it, created] = files_.try_emplace(std::string(name));
  File& f = it->second;
  f.current.insert(f.current.end(), bytes.begin(), bytes.end());
  if (!bytes.empty()) f.append_ends.push_back(f.current.size());
  return Status::ok();
}

bool SimDisk::has_unsynced(const File& f) const {
  return f.replaced_durable.has_value() || !f.durable_rest.empty() ||
         f.current.size() != f.durable_prefix;
}

// Back to the durable content: what a crash that keeps nothing unsynced leaves.
void SimDisk::lose_unsynced(File& f) {
  if (f.replaced_durable) {
    f.current = std::move(*f.replaced_durable);
  } else {
    f.current.resize(f.durable_prefix);
    f.current.insert(f.current.end(), f.durable_rest.begin(), f.durable_rest.end());
  }
  settle(f);
}

// Everything in `current` is durable from now on.
void SimDisk::settle(File& f) {
  f.durable_prefix = f.current.size();
  f.durable_rest.clear();
  f.append_ends.clear();
  f.replaced_durable.reset();
}

Status SimDisk::sync(std::string_view name) {
  File* f = find(name);
  if (f == nullptr) return Status::fail(fmt::format("sync of missing file '{}'", name));
  // Drawn only when there is something to lose and the fault is on, so runs
  // without sync failures draw nothing here.
  if (faults_.sync_failures > 0.0 && has_unsynced(*f) && sync_rng_.chance(faults_.sync_failures)) {
    const std::uint64_t before = f->current.size();
    lose_unsynced(*f);
    ESSIM_ASSERT(!has_unsynced(*f));
    const std::uint64_t after = f->current.size();
    recorder_(TraceKind::kSyncFailure, name, after, before > after ? before - after : 0);
    return Status::fail(fmt::format("sync of '{}' failed; its unsynced changes are lost", name));
  }
  settle(*f);
  f->ever_synced = true;
  recorder_(TraceKind::kSync, name, f->current.size(), 0);
  return Status::ok();
}

void SimDisk::corrupt(std::string_view name, std::uint64_t offset, Bytes& bytes) {
  if (bytes.empty() || !rng_.chance(faults_.read_corruption)) return;
  const std::uint64_t at = rng_.below(bytes.size());
  bytes[at] ^= static_cast<std::uint8_t>(1U << rng_.below(8));
  recorder_(TraceKind::kReadCorruption, name, offset + at, 0);
}

Result<Bytes> SimDisk::read(std::string_view name, std::uint64_t offset, std::uint64_t length) {
  const File* f = find(name);
  if (f == nullptr) return Error{fmt::format("read of missing file '{}'", name)};
  const std::uint64_t size = f->current.size();
  if (offset > size) {
    return Error{
        fmt::format("read of '{}' at offset {} past its end ({} bytes)", name, offset, size)};
  }
  const std::uint64_t n = std::min(length, size - offset);
  const auto begin = f->current.begin() + static_cast<std::ptrdiff_t>(offset);
  Bytes out(begin, begin + static_cast<std::ptrdiff_t>(n));
  corrupt(name, offset, out);
  return out;
}

Result<Bytes> SimDisk::read_all(std::string_view name) {
  return read(name, 0, UINT64_MAX);
}

Result<std::uint64_t> SimDisk::size(std::string_view name) const {
  const File* f = find(name);
  if (f == nullptr) return Error{fmt::format("size of missing file '{}'", name)};
  return std::uint64_t{f->current.size()};
}

bool SimDisk::exists(std::string_view name) const {
  return find(name) != nullptr;
}

Status SimDisk::truncate(std::string_view name, std::uint64_t size) {
  File* f = find(name);
  if (f == nullptr) return Status::fail(fmt::format("truncate of missing file '{}'", name));
  if (size > f->current.size()) {
    return Status::fail(fmt::format("truncate of '{}' to {} bytes, past its end ({} bytes)", name,
                                    size, f->current.size()));
  }
  if (size < f->durable_prefix && !f->replaced_durable) {
    const auto from = f->current.begin() + static_cast<std::ptrdiff_t>(size);
    const auto to = f->current.begin() + static_cast<std::ptrdiff_t>(f->durable_prefix);
    f->durable_rest.insert(f->durable_rest.begin(), from, to);
    f->durable_prefix = size;
  }
  f->current.resize(size);
  std::erase_if(f->append_ends, [size](std::uint64_t end) { return end > size; });
  const std::uint64_t last_end = f->append_ends.empty() ? f->durable_prefix : f->append_ends.back();
  if (size > last_end) f->append_ends.push_back(size);
  return Status::ok();
}

Status SimDisk::replace(std::string_view name, ByteView bytes) {
  if (Status s = check_name(name); !s.is_ok()) return s;
  auto [it, created] = files_.try_emplace(std::string(name));
  File& f = it->second;
  if (!f.replaced_durable) {
    Bytes durable(f.current.begin(),
                  f.current.begin() + static_cast<std::ptrdiff_t>(f.durable_prefix));
    durable.insert(durable.end(), f.durable_rest.begin(), f.durable_rest.end());
    f.replaced_durable = std::move(durable);
  }
  f.current.assign(bytes.begin(), bytes.end());
  f.durable_prefix = 0;
  f.durable_rest.clear();
  f.append_ends.clear();
  return Status::ok();
}

std::vector<std::string> SimDisk::list() const {
  std::vector<std::string> names;
  names.reserve(files_.size());
  for (const auto& [name, file] : files_) names.push_back(name);
  return names;
}

void SimDisk::crash() {
  for (auto it = files_.begin(); it != files_.end();) {
    crash_file(it->first, it->second);
    File& f = it->second;
    settle(f);
    if (!f.ever_synced && f.current.empty()) {
      it = files_.erase(it);
    } else {
      ++it;
    }
  }
}

void SimDisk::crash_file(const std::string& name, File& f) {
  if (f.replaced_durable) {
    const bool keep_new = rng_.chance(0.5);
    if (!keep_new) f.current = std::move(*f.replaced_durable);
    const auto outcome = keep_new ? CrashOutcome::kReplaceKept : CrashOutcome::kReplaceLost;
    recorder_(TraceKind::kDiskCrash, name, f.current.size(), static_cast<std::uint64_t>(outcome));
    return;
  }
  if (!f.durable_rest.empty() && rng_.chance(0.5)) {
    // The unsynced truncate is lost, and with it everything written after it.
    f.current.resize(f.durable_prefix);
    f.current.insert(f.current.end(), f.durable_rest.begin(), f.durable_rest.end());
    recorder_(TraceKind::kDiskCrash, name, f.current.size(),
              static_cast<std::uint64_t>(CrashOutcome::kUnsyncedLost));
    return;
  }
  const std::uint64_t start = f.durable_prefix;
  const std::uint64_t end = f.current.size();
  if (end == start) {
    if (!f.durable_rest.empty()) {  // the unsynced truncate survived, nothing was written after
      recorder_(TraceKind::kDiskCrash, name, end,
                static_cast<std::uint64_t>(CrashOutcome::kUnsyncedKept));
    }
    return;
  }
  CrashOutcome outcome;
  std::uint64_t cut;
  if (faults_.torn_writes) {
    cut = static_cast<std::uint64_t>(
        rng_.between(static_cast<std::int64_t>(start), static_cast<std::int64_t>(end)));
    const bool on_boundary = cut == start || std::find(f.append_ends.begin(), f.append_ends.end(),
                                                       cut) != f.append_ends.end();
    outcome = cut == start  ? CrashOutcome::kUnsyncedLost
              : cut == end  ? CrashOutcome::kUnsyncedKept
              : on_boundary ? CrashOutcome::kPrefixKept
                            : CrashOutcome::kTorn;
    if (outcome == CrashOutcome::kTorn && rng_.chance(0.5)) {
      const std::uint64_t garbage = 1 + rng_.below(std::min<std::uint64_t>(8, cut - start));
      for (std::uint64_t i = cut - garbage; i < cut; ++i) {
        f.current[i] = static_cast<std::uint8_t>(rng_.next());
      }
      outcome = CrashOutcome::kTornGarbage;
    }
  } else {
    const std::uint64_t kept = rng_.below(f.append_ends.size() + 1);
    cut = kept == 0 ? start : f.append_ends[kept - 1];
    outcome = kept == 0                      ? CrashOutcome::kUnsyncedLost
              : kept == f.append_ends.size() ? CrashOutcome::kUnsyncedKept
                                             : CrashOutcome::kPrefixKept;
  }
  f.current.resize(cut);
  if (outcome == CrashOutcome::kTorn || outcome == CrashOutcome::kTornGarbage)
    count("faults.torn_write");
  recorder_(TraceKind::kDiskCrash, name, cut, static_cast<std::uint64_t>(outcome));
}

void SimDisk::install(std::string_view name, ByteView bytes) {
  File& f = files_[std::string(name)];
  f = File{};
  f.current.assign(bytes.begin(), bytes.end());
  f.durable_prefix = f.current.size();
  f.ever_synced = true;
}

Result<Bytes> SimDisk::durable_content(std::string_view name) const {
  const File* f = find(name);
  if (f == nullptr) return Error{fmt::format("no file '{}'", name)};
  if (f->replaced_durable) return *f->replaced_durable;
  Bytes durable(f->current.begin(),
                f->current.begin() + static_cast<std::ptrdiff_t>(f->durable_prefix));
  durable.insert(durable.end(), f->durable_rest.begin(), f->durable_rest.end());
  return durable;
}

Result<Bytes> SimDisk::current_content(std::string_view name) const {
  const File* f = find(name);
  if (f == nullptr) return Error{fmt::format("no file '{}'", name)};
  return f->current;
}

std::uint64_t SimDisk::unsynced_bytes() const {
  std::uint64_t total = 0;
  for (const auto& [name, f] : files_) total += f.current.size() - f.durable_prefix;
  return total;
}

}  // namespace essim::sim
