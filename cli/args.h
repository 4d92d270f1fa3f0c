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

// `name` made safe as a file name in the current folder: letters, digits,
// '-', '_' and '.', never starting with '.', never empty.
std::string file_stem(std::string_view name);

}  // namespace essim::cli
