#pragma once
// What a node may do with its disk: named append-only files, synced explicitly,
// plus an atomic `replace` for small files (checkpoints, snapshots). The
// simulator implements it with crash semantics (SimDisk); the live mode will
// implement it over real files and fsync.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/result.h"
#include "sim/types.h"

namespace essim::sim {

// An error a node must handle (DESIGN.md: the default policy is fail-stop, see
// Env::fail_stop). [[nodiscard]]: a dropped storage error is a lost write.
class [[nodiscard]] Status {
 public:
  static Status ok() { return Status(); }
  static Status fail(std::string message) { return Status(std::move(message)); }
  [[nodiscard]] bool is_ok() const { return failed_ == false; }
  const std::string& message() const { return message_; }

 private:
  Status() = default;
  explicit Status(std::string message) : failed_(true), message_(std::move(message)) {}
  bool failed_ = false;
  std::string message_;
};

class Storage {
 public:
  virtual ~Storage() = default;

  // Appends to `file`, creating it when missing. Not durable until sync().
  virtual Status append(std::string_view file, ByteView bytes) = 0;
  // Makes everything written to `file` so far durable. A missing file is an
  // error. A failed sync may have lost what was not yet durable (Linux drops
  // the dirty pages on an fsync error): after one, the file holds only what
  // earlier syncs made durable, and retrying cannot bring the rest back.
  virtual Status sync(std::string_view file) = 0;
  // Up to `length` bytes from `offset`; fewer at the end of the file. Reading a
  // missing file, or from past its end, is an error.
  virtual Result<Bytes> read(std::string_view file, std::uint64_t offset, std::uint64_t length) = 0;
  // The whole file.
  virtual Result<Bytes> read_all(std::string_view file) = 0;
  virtual Result<std::uint64_t> size(std::string_view file) const = 0;
  virtual bool exists(std::string_view file) const = 0;
  // Cuts `file` to `size` bytes. Not durable until sync().
  virtual Status truncate(std::string_view file, std::uint64_t size) = 0;
  // Replaces the whole content of `file`, creating it when missing. After a
  // crash the file holds either the old or the new content, never a mix; only
  // after sync() is the new content certain to survive.
  virtual Status replace(std::string_view file, ByteView bytes) = 0;
  // File names, sorted.
  virtual std::vector<std::string> list() const = 0;
};

}  // namespace essim::sim
