// essim's command line: subcommands, help, exit codes.

#include "cli/app.h"

#include <cstdio>
#include <exception>
#include <map>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "model/user_code.h"

namespace essim::cli {

int run(int argc, char** argv, const model::Registry& registry, const std::string& name) {
  CLI::App app{
      "essim: deterministic simulation and property testing for event-sourced systems.\n"
      "One seed fixes a whole run; any failure prints the command that replays it."};
  app.name(name);
  app.set_version_flag("--version", "essim 0.1.0");
  app.require_subcommand(1);
  app.footer(
      "Exit codes: 0 every run met its expectation, 1 a property was violated,\n"
      "2 bad input or command line, 3 the harness itself failed.\n"
      "Run 'essim SUBCOMMAND --help' for a subcommand's options.");

  std::map<CLI::App*, Runner> runners;
  for (auto& [command, runner] : add_scenario_commands(app, registry, name)) {
    runners[app.get_subcommand(command)] = std::move(runner);
  }
  const Runner fuzz = add_fuzz_command(app, registry);
  runners[app.get_subcommand("fuzz")] = fuzz;
  const Runner list = add_list_command(app, registry);
  runners[app.get_subcommand("list")] = list;
  const Runner audit = add_audit_command(app);
  runners[app.get_subcommand("audit")] = audit;
  const Runner seal = add_seal_command(app);
  runners[app.get_subcommand("seal")] = seal;

  if (const auto unknown = unknown_name(app, argc, argv)) {
    fmt::print(stderr, "{}\nRun '{} --help' for the commands and their options.\n", *unknown, name);
    return kExitUsage;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    for (CLI::App* sub : app.get_subcommands()) return runners.at(sub)();
  } catch (const model::HarnessFailure& e) {
    fmt::print(stderr, "{}: {}\n", name, e.what());
    return kExitInternal;
  } catch (const std::exception& e) {
    fmt::print(stderr, "essim: internal error: {}\n", e.what());
    return kExitInternal;
  }
  return kExitUsage;
}

}  // namespace essim::cli

namespace essim {

int run_main(int argc, char** argv, const Registry& registry, const std::string& program) {
  return cli::run(argc, argv, registry, program);
}

}  // namespace essim
