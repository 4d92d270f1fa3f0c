#pragma once
// Runs another program and reads all it writes, within bounds: a deadline
// after which it is killed, and a most bytes of standard output. Safe from
// several threads at once: posix_spawn, and pipes that close on exec, so a
// program started by one thread never holds another's pipe open.

#include <cstddef>
#include <string>
#include <vector>

#include "sim/result.h"

namespace essim::cli {

struct ProcessLimits {
  double deadline_seconds = 60;
  std::size_t out_bytes_max = std::size_t{1} << 20;
  std::size_t err_tail_bytes_max = 2048;  // the end of standard error is kept
};

struct ProcessOutput {
  std::string out;       // standard output, all of it
  std::string err_tail;  // the last err_tail_bytes_max bytes of standard error
  int exit_code = -1;    // when it exited
  int signal = 0;        // when a signal ended it
  bool exited_ok() const { return signal == 0 && exit_code == 0; }
  // "exited with code 2", "was ended by signal 11 (SIGSEGV)".
  std::string how_it_ended() const;
};

// Runs the program at `path` with `argv` (argv[0] first), standard input
// from /dev/null. An error when it cannot start, does not end within the
// deadline or writes more than out_bytes_max (it is killed then); any exit
// code or signal is an output, for the caller to judge.
sim::Result<ProcessOutput> run_process(const std::string& path,
                                       const std::vector<std::string>& argv,
                                       const ProcessLimits& limits);

}  // namespace essim::cli
