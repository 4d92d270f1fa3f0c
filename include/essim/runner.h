#pragma once
// A runner: the essim command line (run, replay, shrink, validate, list,
// merge, fuzz) with your domains registered. essim_add_scenarios() (CMake)
// generates one; by hand it is
//
//   int main(int argc, char** argv) {
//     essim::Registry registry = essim::Registry::with_builtins();
//     registry.add(std::make_unique<Loyalty>());
//     return essim::run_main(argc, argv, registry, "loyalty_sim");
//   }
//
// `program` is the name replay commands print: the runner's own, since the
// installed `essim` does not know your domains.

#include <string>

#include <essim/domain.h>

namespace essim {

// Parses the arguments, runs the subcommand, returns essim's exit code:
// 0 every scenario met its expectation, 1 a property was violated (or an
// expected violation was not found), 2 the input or command line is wrong,
// 3 the harness failed (a determinism mismatch, say).
int run_main(int argc, char** argv, const Registry& registry, const std::string& program = "essim");

}  // namespace essim
