#pragma once
// `run --check-determinism`: every seed runs a second time in a new process,
// the running binary started again (/proc/self/exe: a runner built with
// essim_add_scenarios knows domains the installed `essim` does not) through
// the hidden subcommand `determinism-child`, which prints the report
// harness/determinism.h reads. A second run that dies, hangs past its bound
// or prints something else is a harness failure, said so, never a hang.

#include <cstdint>
#include <string>
#include <utility>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "harness/runner.h"

namespace essim::cli {

// The hidden subcommand a second run is: (its name, its runner).
std::pair<std::string, Runner> add_determinism_child_command(CLI::App& app,
                                                             const model::Registry& registry);

// Second runs of `scenario_file`'s seeds in new processes of this binary,
// named `program` in what it prints.
harness::SecondRun second_run_in_new_process(const std::string& scenario_file,
                                             const std::string& program);

// Prints each non-deterministic or unchecked seed of `r`, neutrally: the code
// under test or essim may be what depends on something the seed does not fix.
void print_nondeterminism(const harness::Scenario& s, const harness::ScenarioResult& r);
// The closing lines of a run that checked determinism; the exit code they
// call for (kExitInternal when a seed differed or could not be checked),
// or `exit_code` when every seed ran alike.
int print_determinism_summary(std::uint64_t nondeterministic, std::uint64_t unchecked,
                              int exit_code);

}  // namespace essim::cli
