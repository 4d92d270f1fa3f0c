#include "cli/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <optional>
#include <thread>

#include <fmt/format.h>

extern char** environ;

namespace essim::cli {

namespace {

using Clock = std::chrono::steady_clock;

// A pipe whose ends close on exec; the child gets the write end by dup2.
struct Pipe {
  int read = -1;
  int write = -1;
  Pipe() {
    std::array<int, 2> fds{-1, -1};
    if (::pipe2(fds.data(), O_CLOEXEC) == 0) {
      read = fds[0];
      write = fds[1];
    }
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return read >= 0 && write >= 0; }
  void close_read() {
    if (read >= 0) ::close(read);
    read = -1;
  }
  void close_write() {
    if (write >= 0) ::close(write);
    write = -1;
  }
};

std::string error_text(int error) {
  std::array<char, 256> buffer{};
  // The GNU strerror_r returns the message (maybe not in buffer).
  return ::strerror_r(error, buffer.data(), buffer.size());
}

sim::Result<pid_t> spawn(const std::string& path, const std::vector<std::string>& argv, Pipe& out,
                         Pipe& err) {
  posix_spawn_file_actions_t actions;
  ::posix_spawn_file_actions_init(&actions);
  ::posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&actions, out.write, STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&actions, err.write, STDERR_FILENO);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int error = ::posix_spawn(&pid, path.c_str(), &actions, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&actions);
  out.close_write();
  err.close_write();
  if (error != 0) return sim::Error{fmt::format("cannot start {}: {}", path, error_text(error))};
  return pid;
}

std::string too_slow(double seconds) {
  return fmt::format("it did not end within {:.1f}s", seconds);
}

void kill_and_reap(pid_t pid) {
  ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
}

// The wait status of `pid` once it ends; an error when it has not ended by
// `deadline` (it is killed then) or cannot be waited for.
sim::Result<int> wait_until(pid_t pid, Clock::time_point deadline, double seconds) {
  for (;;) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) return status;
    if (done < 0 && errno != EINTR) return sim::Error{"cannot wait for it: " + error_text(errno)};
    if (Clock::now() >= deadline) {
      kill_and_reap(pid);
      return sim::Error{too_slow(seconds) + "; it was killed"};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

// Reads both pipes until each is closed; false on the deadline or past the
// byte bound (`why` says which).
bool read_all(Pipe& out, Pipe& err, const ProcessLimits& limits, Clock::time_point deadline,
              ProcessOutput& o, std::string& why) {
  std::array<char, 65536> buffer{};
  while (out.read >= 0 || err.read >= 0) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      why = too_slow(limits.deadline_seconds);
      return false;
    }
    std::array<pollfd, 2> fds{pollfd{out.read, POLLIN, 0}, pollfd{err.read, POLLIN, 0}};
    const int ready =
        ::poll(fds.data(), fds.size(), static_cast<int>(std::min<long>(left.count(), 1000)));
    if (ready < 0 && errno != EINTR) {
      why = "poll failed: " + error_text(errno);
      return false;
    }
    for (std::size_t i = 0; i < fds.size() && ready > 0; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0) continue;
      Pipe& p = i == 0 ? out : err;
      const ssize_t n = ::read(p.read, buffer.data(), buffer.size());
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        p.close_read();
        continue;
      }
      std::string& into = i == 0 ? o.out : o.err_tail;
      into.append(buffer.data(), static_cast<std::size_t>(n));
      if (i == 1 && into.size() > limits.err_tail_bytes_max)
        into.erase(0, into.size() - limits.err_tail_bytes_max);
      if (i == 0 && into.size() > limits.out_bytes_max) {
        why = fmt::format("it wrote more than {} bytes", limits.out_bytes_max);
        return false;
      }
    }
  }
  return true;
}

}  // namespace

std::string ProcessOutput::how_it_ended() const {
  if (signal == 0) return fmt::format("exited with code {}", exit_code);
  const char* name = ::sigabbrev_np(signal);
  return name == nullptr ? fmt::format("was ended by signal {}", signal)
                         : fmt::format("was ended by signal {} (SIG{})", signal, name);
}

sim::Result<ProcessOutput> run_process(const std::string& path,
                                       const std::vector<std::string>& argv,
                                       const ProcessLimits& limits) {
  const auto deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(
                                           std::chrono::duration<double>(limits.deadline_seconds));
  Pipe out;
  Pipe err;
  if (!out.ok() || !err.ok()) return sim::Error{"cannot make a pipe: " + error_text(errno)};
  const sim::Result<pid_t> pid = spawn(path, argv, out, err);
  if (!pid.ok()) return pid.error();
  ProcessOutput o;
  std::string why;
  if (!read_all(out, err, limits, deadline, o, why)) {
    kill_and_reap(pid.value());
    return sim::Error{why + "; it was killed"};
  }
  // Both pipes are closed; the process may still be running.
  const sim::Result<int> status = wait_until(pid.value(), deadline, limits.deadline_seconds);
  if (!status.ok()) return status.error();
  if (WIFSIGNALED(status.value())) {
    o.signal = WTERMSIG(status.value());
  } else {
    o.exit_code = WEXITSTATUS(status.value());
  }
  return o;
}

}  // namespace essim::cli
