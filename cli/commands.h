#pragma once

#include <functional>
#include <memory>
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
// audit LOG [--seal SEAL --key KEY] [--json], and seal LOG --key KEY -o SEAL.
Runner add_audit_command(CLI::App& app);
Runner add_seal_command(CLI::App& app);
// The registry to look names up in: `registry`, or with --scenario FILE the
// one holding that scenario's external domain (its process started and
// shaken hands with; kept alive by `keep`). nullptr when the file is wrong
// (printed, prefixed by `program command`).
const model::Registry* registry_for(const std::string& scenario, const model::Registry& registry,
                                    std::shared_ptr<const model::Registry>& keep,
                                    const std::string& prefix);

// run, replay, shrink, validate, merge: (subcommand name, runner). Replay
// commands they print name `program`, the runner the user ran.
std::vector<std::pair<std::string, Runner>> add_scenario_commands(CLI::App& app,
                                                                  const model::Registry& registry,
                                                                  const std::string& program);

}  // namespace essim::cli
