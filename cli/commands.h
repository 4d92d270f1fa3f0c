#pragma once

#include <functional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

namespace essim {
class Registry;
}
namespace essim::model {
using essim::Registry;
}

namespace essim::cli {

// Each subcommand registers its options on `app` and returns a function that
// runs it and returns the exit code. Domains and handlers come from `registry`.
using Runner = std::function<int()>;
Runner add_list_command(CLI::App& app, const model::Registry& registry);
Runner add_fuzz_command(CLI::App& app, const model::Registry& registry);
// run, replay, shrink, validate, merge: (subcommand name, runner). Replay
// commands they print name `program`, the runner the user ran.
std::vector<std::pair<std::string, Runner>> add_scenario_commands(CLI::App& app,
                                                                  const model::Registry& registry,
                                                                  const std::string& program);

}  // namespace essim::cli
