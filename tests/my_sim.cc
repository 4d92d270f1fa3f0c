// A runner with another name, as essim_add_scenarios builds one: the replay
// commands it prints must name it, not `essim` (tests/runner_name.cmake).

#include "cli/app.h"

int main(int argc, char** argv) {
  return essim::cli::run(argc, argv, essim::model::Registry::builtin(), "my_sim");
}
