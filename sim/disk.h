#pragma once
// A node's simulated disk. Each file has a durable part and an unsynced part.
// On a crash, the unsynced part of each file is decided from the disk's own
// stream: some of the unsynced appends survive, in order (none, some or all);
// with torn writes on, the cut may fall inside an append and the last bytes
// before it may be garbage. An unsynced truncate or replace survives whole or
// not at all. Optional read corruption flips one bit of what a read returns
// (not of what is stored), which a store with checksums must detect.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "sim/rng.h"
#include "sim/storage.h"
#include "sim/trace.h"

namespace essim::sim {

struct DiskFaults {
  bool torn_writes = false;
  double read_corruption = 0.0;  // per read that returns bytes
  double sync_failures = 0.0;    // per sync of a file with unsynced changes
};

// What happened to one file's unsynced part in a crash (TraceKind::kDiskCrash's b).
enum class CrashOutcome : std::uint8_t {
  kUnsyncedLost,
  kUnsyncedKept,
  kPrefixKept,   // whole appends, a prefix of them
  kTorn,         // a byte prefix, its last bytes intact
  kTornGarbage,  // a byte prefix, its last bytes garbage
  kReplaceLost,  // the old content is back
  kReplaceKept,  // the new content stays
};
std::string_view to_string(CrashOutcome outcome);

class SimDisk final : public Storage {
 public:
  // Called for every decision worth tracing: (kind, file, a, b).
  using Recorder =
      std::function<void(TraceKind kind, std::string_view file, std::uint64_t a, std::uint64_t b)>;

  SimDisk(const Rng& rng, DiskFaults faults, Recorder recorder);

  Status append(std::string_view file, ByteView bytes) override;
  Status sync(std::string_view file) override;
  Result<Bytes> read(std::string_view file, std::uint64_t offset, std::uint64_t length) override;
  Result<Bytes> read_all(std::string_view file) override;
  Result<std::uint64_t> size(std::string_view file) const override;
  bool exists(std::string_view file) const override;
  Status truncate(std::string_view file, std::uint64_t size) override;
  Status replace(std::string_view file, ByteView bytes) override;
  std::vector<std::string> list() const override;

  // The node crashed: decide what each file keeps of its unsynced part.
  void crash();

  // For checkers and tests: the content a crash right now could not take away.
  Result<Bytes> durable_content(std::string_view file) const;
  // Puts `file` on the disk, durable, as a copy from elsewhere would (a
  // backup restored onto a fresh node); what the file held is gone.
  void install(std::string_view file, ByteView bytes);
  // For checkers and tests: the current content, without read corruption.
  Result<Bytes> current_content(std::string_view file) const;
  std::uint64_t unsynced_bytes() const;

  void set_faults(DiskFaults faults) { faults_ = faults; }
  const DiskFaults& faults() const { return faults_; }

 private:
  struct File {
    Bytes current;
    // current[0, durable_prefix) is durable as it is.
    std::uint64_t durable_prefix = 0;
    // Durable bytes after durable_prefix that an unsynced truncate removed
    // from `current` (they come back if the truncate is lost).
    Bytes durable_rest;
    // End offsets of unsynced appends after durable_prefix, in order.
    std::vector<std::uint64_t> append_ends;
    // Set while a replace is unsynced: the durable content before it.
    std::optional<Bytes> replaced_durable;
    // False until the first sync: a crash before it may take the file away.
    bool ever_synced = false;
  };

  File* find(std::string_view name);
  const File* find(std::string_view name) const;
  void crash_file(const std::string& name, File& file);
  bool has_unsynced(const File& file) const;
  void lose_unsynced(File& file);
  void settle(File& file);
  void corrupt(std::string_view name, std::uint64_t offset, Bytes& bytes);
  Status check_name(std::string_view name) const;

  Rng rng_;
  // Sync failures draw from their own stream, so turning them on leaves every
  // other disk decision of a seed as it was.
  Rng sync_rng_;
  DiskFaults faults_;
  Recorder recorder_;
  std::map<std::string, File, std::less<>> files_;
};

}  // namespace essim::sim
