#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace essim::cli {

// Each subcommand registers its options on `app` and returns a function that
// runs it and returns the exit code.
using Runner = std::function<int()>;
Runner add_demo_command(CLI::App& app);
Runner add_list_command(CLI::App& app);
Runner add_fuzz_command(CLI::App& app);
// run, replay, validate, merge: (subcommand name, runner).
std::vector<std::pair<std::string, Runner>> add_scenario_commands(CLI::App& app);

}  // namespace essim::cli
