#include "external/channel.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <boost/asio.hpp>

#include "model/user_code.h"

extern char** environ;  // NOLINT: POSIX

namespace essim::external {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// The longest line a process may send (a reference projection's read model
// is one line).
constexpr std::size_t kLineBytesMax = std::size_t{1} << 30;
// What is kept of a child's stderr for messages.
constexpr std::size_t kStderrKept = 4096;
constexpr std::size_t kStderrLinesShown = 12;

[[noreturn]] void harness_failure(std::string what) {
  throw model::HarnessFailure(std::move(what));
}

struct Exchanged {
  enum class Status : std::uint8_t { kLine, kTimeout, kClosed, kError, kTooLong };
  Status status = Status::kLine;
  std::string line;
  std::string error;
};

// One line out and one back on `out` and `in` (the same socket, or two
// pipes), within `deadline`. Every handler it started has run when it
// returns, so none outlives its frame.
template <typename Out, typename In>
Exchanged exchange_line(asio::io_context& io, Out& out, In& in, asio::streambuf& buffer,
                        const std::string& line, Millis deadline) {
  const std::string sent = line + "\n";
  bool written = false;
  bool read = false;
  bool timer_done = false;
  bool timed_out = false;
  error_code write_error;
  error_code read_error;
  std::size_t read_bytes = 0;
  asio::async_write(out, asio::buffer(sent), [&](const error_code& e, std::size_t) {
    written = true;
    write_error = e;
  });
  asio::async_read_until(in, buffer, '\n', [&](const error_code& e, std::size_t n) {
    read = true;
    read_error = e;
    read_bytes = n;
  });
  asio::steady_timer timer(io, deadline);
  timer.async_wait([&](const error_code& e) {
    timer_done = true;
    timed_out = !e;
  });
  while (!read && !timed_out && !write_error) {
    if (io.run_one() == 0) break;
  }
  timer.cancel();
  if (!written) out.cancel();
  if (!read) in.cancel();
  while (!written || !read || !timer_done) {
    if (io.run_one() == 0) break;
  }
  io.restart();
  Exchanged result;
  if (read && !read_error) {
    result.line.assign(
        asio::buffers_begin(buffer.data()),
        asio::buffers_begin(buffer.data()) + static_cast<std::ptrdiff_t>(read_bytes) - 1);
    buffer.consume(read_bytes);
    return result;
  }
  if (timed_out) {
    result.status = Exchanged::Status::kTimeout;
  } else if (read_error == asio::error::eof || write_error == asio::error::broken_pipe ||
             read_error == asio::error::connection_reset) {
    result.status = Exchanged::Status::kClosed;
  } else if (read_error == asio::error::not_found) {
    result.status = Exchanged::Status::kTooLong;
  } else {
    result.status = Exchanged::Status::kError;
    result.error = (write_error ? write_error : read_error).message();
  }
  return result;
}

std::string seconds(Millis m) {
  return fmt::format("{:g} s", static_cast<double>(m.count()) / 1000);
}

std::once_flag ignore_sigpipe;

class ChildChannel final : public Channel {
 public:
  ChildChannel(const ChildSpec& spec, Millis deadline)
      : command_(fmt::format("{}", fmt::join(spec.command, " "))), deadline_(deadline) {
    std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });  // a dead child's pipe
    if (spec.command.empty()) harness_failure("an external domain needs a command to start");
    std::array<int, 2> in{};   // the child's stdin
    std::array<int, 2> out{};  // its stdout
    std::array<int, 2> err{};  // its stderr
    if (::pipe2(in.data(), O_CLOEXEC) != 0 || ::pipe2(out.data(), O_CLOEXEC) != 0 ||
        ::pipe2(err.data(), O_CLOEXEC) != 0)
      harness_failure(fmt::format("cannot start {}: no pipe: {}", command_, std::strerror(errno)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    if (!spec.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, spec.cwd.c_str());
    std::vector<std::string> env_strings;
    for (char** e = environ; *e != nullptr; ++e) {
      const std::string entry(*e);
      const bool replaced = std::any_of(spec.env.begin(), spec.env.end(), [&](const auto& kv) {
        return entry.starts_with(kv.first + "=");
      });
      if (!replaced) env_strings.push_back(entry);
    }
    for (const auto& [key, value] : spec.env) env_strings.push_back(key + "=" + value);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = spec.command;
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const int spawned = ::posix_spawnp(&pid_, argv[0], &actions, nullptr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    ::close(in[0]);
    ::close(out[1]);
    ::close(err[1]);
    if (spawned != 0) {
      ::close(in[1]);
      ::close(out[0]);
      ::close(err[0]);
      pid_ = -1;
      harness_failure(fmt::format("cannot start the external domain `{}`{}: {}", command_,
                                  spec.cwd.empty() || spec.cwd == "." ? "" : " in " + spec.cwd,
                                  std::strerror(spawned)));
    }
    to_child_.assign(in[1]);
    from_child_.assign(out[0]);
    errors_.assign(err[0]);
    read_stderr();
  }

  ~ChildChannel() override { stop(); }

  std::string exchange(const std::string& line, const std::string& call) override {
    if (pid_ < 0) harness_failure(fmt::format("{} has stopped", name()));
    const Exchanged got = exchange_line(io_, to_child_, from_child_, buffer_, line, deadline_);
    if (got.status == Exchanged::Status::kLine) return got.line;
    std::string what;
    switch (got.status) {
      case Exchanged::Status::kTimeout:
        what =
            fmt::format("did not answer {} within {} (external.timeout)", call, seconds(deadline_));
        break;
      case Exchanged::Status::kTooLong:
        what = fmt::format("answered {} with a line longer than {} bytes", call, kLineBytesMax);
        break;
      case Exchanged::Status::kClosed:
        what = fmt::format("closed its output during {}", call);
        break;
      default:
        what = fmt::format("failed during {}: {}", call, got.error);
    }
    const std::string status = stop();
    harness_failure(fmt::format("the external domain {} {}{}{}", name(), what,
                                status.empty() ? "" : " (" + status + ")", stderr_tail()));
  }

  std::string name() const override {
    return fmt::format("`{}` (pid {})", command_, pid_ >= 0 ? pid_ : stopped_pid_);
  }

 private:
  void read_stderr() {
    errors_.async_read_some(asio::buffer(chunk_), [this](const error_code& e, std::size_t n) {
      stderr_.append(chunk_.data(), n);
      if (stderr_.size() > kStderrKept) stderr_.erase(0, stderr_.size() - kStderrKept);
      if (!e) read_stderr();
    });
  }

  // The last lines the process wrote on stderr, as a message's tail.
  std::string stderr_tail() {
    io_.poll();  // what it wrote last
    io_.restart();
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < stderr_.size()) {
      const std::size_t end = std::min(stderr_.find('\n', at), stderr_.size());
      if (end > at) lines.push_back(stderr_.substr(at, end - at));
      at = end + 1;
    }
    if (lines.empty()) return "; it wrote nothing on stderr";
    const std::size_t from =
        lines.size() > kStderrLinesShown ? lines.size() - kStderrLinesShown : 0;
    std::string out = "; the last lines of its stderr:";
    for (std::size_t i = from; i < lines.size(); ++i) out += "\n  | " + lines[i];
    return out;
  }

  // Stops the process: its stdin closed, then SIGTERM, then SIGKILL. Returns
  // how it ended ("exited with status 1"), or "" when it was not running.
  std::string stop() {
    if (pid_ < 0) return {};
    error_code ignored;
    to_child_.close(ignored);
    std::string status;
    for (const int signal : {0, SIGTERM, SIGKILL}) {
      if (signal != 0) ::kill(pid_, signal);
      for (int i = 0; i < 100 && status.empty(); ++i) {  // up to a second each
        int s = 0;
        if (::waitpid(pid_, &s, WNOHANG) == pid_) {
          status = WIFEXITED(s) ? fmt::format("it exited with status {}", WEXITSTATUS(s))
                                : fmt::format("it was killed by signal {}", WTERMSIG(s));
        } else {
          std::this_thread::sleep_for(Millis(10));
        }
      }
      if (!status.empty()) break;
    }
    if (status.empty()) {  // cannot happen after SIGKILL; reap it anyway
      int s = 0;
      ::waitpid(pid_, &s, 0);
      status = "it was killed";
    }
    stopped_pid_ = pid_;
    pid_ = -1;
    from_child_.close(ignored);
    errors_.close(ignored);
    return status;
  }

  std::string command_;
  Millis deadline_;
  pid_t pid_ = -1;
  pid_t stopped_pid_ = -1;
  asio::io_context io_;
  asio::posix::stream_descriptor to_child_{io_};
  asio::posix::stream_descriptor from_child_{io_};
  asio::posix::stream_descriptor errors_{io_};
  asio::streambuf buffer_{kLineBytesMax};
  std::array<char, 1024> chunk_{};
  std::string stderr_;
};

class TcpChannel final : public Channel {
 public:
  TcpChannel(const Endpoint& endpoint, Millis deadline)
      : name_(fmt::format("{}:{}", endpoint.host, endpoint.port)), deadline_(deadline) {
    std::call_once(ignore_sigpipe, [] { ::signal(SIGPIPE, SIG_IGN); });
    error_code e;
    const asio::ip::address address = asio::ip::make_address(endpoint.host, e);
    if (e) harness_failure(fmt::format("connect: '{}' is not an IP address", endpoint.host));
    bool done = false;
    bool timed_out = false;
    bool timer_done = false;
    error_code connect_error;
    socket_.async_connect({address, endpoint.port}, [&](const error_code& c) {
      done = true;
      connect_error = c;
    });
    asio::steady_timer timer(io_, deadline_);
    timer.async_wait([&](const error_code& t) {
      timer_done = true;
      timed_out = !t;
    });
    while (!done && !timed_out) io_.run_one();
    timer.cancel();
    if (!done) socket_.cancel();
    while (!done || !timer_done) io_.run_one();
    io_.restart();
    if (timed_out)
      harness_failure(fmt::format("cannot connect to the external domain at {} within {}", name_,
                                  seconds(deadline_)));
    if (connect_error)
      harness_failure(fmt::format("cannot connect to the external domain at {}: {}", name_,
                                  connect_error.message()));
    socket_.set_option(asio::ip::tcp::no_delay(true), e);
  }

  std::string exchange(const std::string& line, const std::string& call) override {
    if (!socket_.is_open()) harness_failure(fmt::format("the connection to {} is closed", name_));
    const Exchanged got = exchange_line(io_, socket_, socket_, buffer_, line, deadline_);
    if (got.status == Exchanged::Status::kLine) return got.line;
    error_code ignored;
    socket_.close(ignored);
    switch (got.status) {
      case Exchanged::Status::kTimeout:
        harness_failure(fmt::format("the external domain at {} did not answer {} within {}", name_,
                                    call, seconds(deadline_)));
      case Exchanged::Status::kClosed:
        harness_failure(
            fmt::format("the external domain at {} closed the connection during {}", name_, call));
      case Exchanged::Status::kTooLong:
        harness_failure(
            fmt::format("the external domain at {} answered {} with a line longer "
                        "than {} bytes",
                        name_, call, kLineBytesMax));
      default:
        harness_failure(
            fmt::format("the connection to {} failed during {}: {}", name_, call, got.error));
    }
  }

  std::string name() const override { return name_; }

 private:
  std::string name_;
  Millis deadline_;
  asio::io_context io_;
  asio::ip::tcp::socket socket_{io_};
  asio::streambuf buffer_{kLineBytesMax};
};

}  // namespace

std::unique_ptr<Channel> start_child(const ChildSpec& spec, Millis deadline) {
  return std::make_unique<ChildChannel>(spec, deadline);
}

std::unique_ptr<Channel> connect_tcp(const Endpoint& endpoint, Millis deadline) {
  return std::make_unique<TcpChannel>(endpoint, deadline);
}

}  // namespace essim::external
