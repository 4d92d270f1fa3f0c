#pragma once
// The essim command line as a library call, so that a user's own runner can
// be essim with their domains registered:
//
//   int main(int argc, char** argv) {
//     essim::model::Registry registry = essim::model::Registry::with_builtins();
//     registry.add(std::make_unique<MyDomain>());
//     return essim::cli::run(argc, argv, registry, "my-sim");
//   }

#include <string>

#include <essim/runner.h>

#include "model/domain.h"

namespace essim::cli {

// Parses the arguments, runs the subcommand, returns essim's exit code.
int run(int argc, char** argv, const model::Registry& registry, const std::string& name = "essim");

}  // namespace essim::cli
