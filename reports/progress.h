#pragma once
// The console progress line of a sweep: seeds done, seeds per second, failures
// so far, time left. On a terminal it redraws one line in place; without one
// (CI=true, a pipe, a log file) it prints a plain line every few seconds, so CI
// logs show progress without control characters.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace essim::reports {

class Progress {
 public:
  // `interactive` chooses the in-place mode; see is_interactive().
  Progress(std::string label, std::size_t total, std::FILE* out, bool interactive);

  // True when `out` is a terminal and the environment is not CI.
  static bool is_interactive(std::FILE* out);

  void update(std::size_t done, std::size_t failures);
  // Prints the final line (always).
  void finish(std::size_t done, std::size_t failures);

 private:
  std::string line(std::size_t done, std::size_t failures) const;

  using Clock = std::chrono::steady_clock;  // wall time of the tool, never of a simulation
  std::string label_;
  std::size_t total_;
  std::FILE* out_;
  bool interactive_;
  Clock::time_point started_;
  Clock::time_point last_print_;
};

// A status line for long work without a known end (shrinking, fuzzing):
// the same modes as Progress. show() prints at most every 100 ms on a
// terminal (redrawn in place), every 5 s otherwise (a line each); clear()
// erases a redrawn line before the result is printed.
class StatusLine {
 public:
  StatusLine(std::FILE* out, bool interactive);
  ~StatusLine() { clear(); }  // an exception's message then starts a line of its own
  StatusLine(const StatusLine&) = delete;
  StatusLine& operator=(const StatusLine&) = delete;
  void show(const std::string& text);
  void clear();

 private:
  using Clock = std::chrono::steady_clock;  // wall time of the tool, never of a simulation
  std::FILE* out_;
  bool interactive_;
  bool shown_ = false;
  Clock::time_point last_print_;
};

}  // namespace essim::reports
