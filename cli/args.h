#pragma once
// What the command line checks before any work starts: numbers read exactly
// (no wrap-around of -1 or 2^64), unknown commands and options named with the
// nearest valid one, and output paths that cannot be written refused up front,
// so a long run never ends in "cannot write" and never hides its verdict.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <CLI/CLI.hpp>

#include "sim/result.h"

namespace essim::cli {

// A decimal whole number from 0 to 2^64 - 1, nothing else (no sign, no
// spaces, no wrap-around).
std::optional<std::uint64_t> parse_u64(std::string_view text);
// For CLI11: accepts what parse_u64 accepts, in [min, max].
CLI::Validator whole_number(std::uint64_t min, std::uint64_t max);

// Why `argv` names a command or an option `app` does not have, with the
// nearest valid name; nullopt when every name is known. Runs before CLI11
// parses, whose own messages would blame a value ("File does not exist: 3").
std::optional<std::string> unknown_name(const CLI::App& app, int argc, const char* const* argv);

// Why a file cannot be written at `path` (a directory there, a missing or
// unwritable folder, an unwritable file); nullopt when it can. Creates nothing.
std::optional<std::string> unwritable_file(const std::string& path);
// The same for a folder that will be created if missing.
std::optional<std::string> unwritable_dir(const std::string& path);

// The bytes of the regular file `path`, at most `max_bytes` of them. A FIFO,
// a device or a folder is refused at once (reading one could block forever),
// and so is a larger file; the error names the file and what to do.
inline constexpr std::size_t kReportBytesMax = std::size_t{64} << 20;
sim::Result<std::string> read_input(const std::string& path, std::size_t max_bytes);

// `name` made safe as a file name in the current folder: letters, digits,
// '-', '_' and '.', never starting with '.', never empty.
std::string file_stem(std::string_view name);

}  // namespace essim::cli
