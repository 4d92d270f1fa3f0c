// essim: deterministic simulation and property testing for event-sourced systems.

#include "cli/app.h"

int main(int argc, char** argv) {
  return essim::cli::run(argc, argv, essim::model::Registry::builtin());
}
