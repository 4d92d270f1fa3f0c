#include "cli/args.h"

#include <unistd.h>

#include <charconv>
#include <filesystem>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "harness/scenario.h"

namespace essim::cli {

namespace fs = std::filesystem;

std::optional<std::uint64_t> parse_u64(std::string_view text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

CLI::Validator whole_number(std::uint64_t min, std::uint64_t max) {
  return {[min, max](std::string& text) -> std::string {
            const auto value = parse_u64(text);
            if (!value)
              return fmt::format("'{}' is not a whole number from {} to {}", text, min, max);
            if (*value < min || *value > max)
              return fmt::format("{} is not from {} to {}", *value, min, max);
            return "";
          },
          fmt::format("UINT:{}..{}", min, max)};
}

namespace {

std::vector<std::string> option_names(const CLI::App& app) {
  std::vector<std::string> names{"--help", "-h"};
  for (const CLI::Option* o : app.get_options()) {
    for (const std::string& l : o->get_lnames()) names.push_back("--" + l);
    for (const std::string& s : o->get_snames()) names.push_back("-" + s);
  }
  return names;
}

std::string did_you_mean(std::string_view word, const std::vector<std::string>& names) {
  const std::string guess = harness::nearest(word, names);
  return guess.empty() ? "" : fmt::format("; did you mean '{}'?", guess);
}

}  // namespace

std::optional<std::string> unknown_name(const CLI::App& app, int argc, const char* const* argv) {
  int i = 1;
  while (i < argc && std::string_view(argv[i]).starts_with('-')) ++i;  // --version, --help
  if (i >= argc) return std::nullopt;
  const std::string command = argv[i];
  std::vector<std::string> commands;
  const CLI::App* sub = nullptr;
  for (const CLI::App* s : app.get_subcommands([](const CLI::App*) { return true; })) {
    if (!s->get_group().empty()) commands.push_back(s->get_name());  // hidden ones: no group
    if (s->get_name() == command) sub = s;
  }
  if (sub == nullptr)
    return fmt::format("unknown command '{}'{}\ncommands: {}", command,
                       did_you_mean(command, commands), fmt::join(commands, ", "));
  const std::vector<std::string> names = option_names(*sub);
  for (++i; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--") break;  // the rest are values
    // "-1" and "-0.5" are values; "-x" and "--name[=value]" are options.
    const bool option = arg.size() >= 2 && arg[0] == '-' &&
                        (std::isalpha(static_cast<unsigned char>(arg[1])) != 0 || arg[1] == '-');
    if (!option) continue;
    const std::string name(arg.substr(0, arg.find('=')));
    if (std::find(names.begin(), names.end(), name) != names.end()) continue;
    if (name.size() > 2 && name[1] != '-') continue;  // -j2: a short option and its value
    return fmt::format("{} {}: unknown option '{}'{}", app.get_name(), command, name,
                       did_you_mean(name, names));
  }
  return std::nullopt;
}

std::optional<std::string> unwritable_file(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return "an output path is empty";
  if (fs::is_directory(path, ec)) return fmt::format("{} is a folder, not a file", path);
  if (fs::exists(path, ec)) {
    if (!fs::is_regular_file(path, ec))
      return fmt::format("{} exists and is not a regular file", path);
    if (::access(path.c_str(), W_OK) != 0) return fmt::format("{} is not writable", path);
    return std::nullopt;
  }
  const fs::path parent = fs::path(path).parent_path();
  const fs::path folder = parent.empty() ? fs::path(".") : parent;
  if (!fs::is_directory(folder, ec))
    return fmt::format("cannot write {}: the folder {} does not exist", path, folder.string());
  if (::access(folder.c_str(), W_OK) != 0)
    return fmt::format("cannot write {}: the folder {} is not writable", path, folder.string());
  return std::nullopt;
}

std::optional<std::string> unwritable_dir(const std::string& path) {
  std::error_code ec;
  if (path.empty()) return "an output folder is empty";
  fs::path p(path);
  if (fs::exists(p, ec) && !fs::is_directory(p, ec))
    return fmt::format("{} exists and is not a folder", path);
  // The nearest folder that exists must be writable: the rest is created.
  while (!p.empty() && !fs::exists(p, ec)) p = p.parent_path();
  if (p.empty()) p = ".";
  if (!fs::is_directory(p, ec))
    return fmt::format("cannot create {}: {} is not a folder", path, p.string());
  if (::access(p.c_str(), W_OK) != 0)
    return fmt::format("cannot write into {}: {} is not writable", path, p.string());
  return std::nullopt;
}

std::string file_stem(std::string_view name) {
  std::string out;
  for (const char c : name) {
    const bool plain =
        std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' || c == '_' || c == '.';
    out += plain ? c : '-';
  }
  while (!out.empty() && out.front() == '.') out.erase(out.begin());
  return out.empty() ? "scenario" : out;
}

}  // namespace essim::cli
