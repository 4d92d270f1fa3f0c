// essim: deterministic simulation and property testing for event-sourced systems.

#include <cstdio>
#include <exception>
#include <map>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/exit_codes.h"

int main(int argc, char** argv) {
  CLI::App app{
      "essim: deterministic simulation and property testing for event-sourced systems.\n"
      "One seed fixes a whole run; any failure prints the command that replays it."};
  app.name("essim");
  app.set_version_flag("--version", "essim 0.1.0");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 every run met its expectation, 1 a property was violated,\n"
      "2 bad input or command line, 3 the harness itself failed.\n"
      "Run 'essim SUBCOMMAND --help' for a subcommand's options.");

  std::map<CLI::App*, essim::cli::Runner> runners;
  for (auto& [name, runner] : essim::cli::add_scenario_commands(app)) {
    runners[app.get_subcommand(name)] = std::move(runner);
  }
  const essim::cli::Runner demo = essim::cli::add_demo_command(app);
  runners[app.get_subcommand("demo")] = demo;
  const essim::cli::Runner fuzz = essim::cli::add_fuzz_command(app);
  runners[app.get_subcommand("fuzz")] = fuzz;
  const essim::cli::Runner list = essim::cli::add_list_command(app);
  runners[app.get_subcommand("list")] = list;

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return essim::cli::kExitUsage;
  }
  try {
    for (CLI::App* sub : app.get_subcommands()) return runners.at(sub)();
  } catch (const std::exception& e) {
    fmt::print(stderr, "essim: internal error: {}\n", e.what());
    return essim::cli::kExitInternal;
  }
  return essim::cli::kExitUsage;
}
