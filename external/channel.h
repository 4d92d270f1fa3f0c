#pragma once
// How essim reaches an external domain's process (docs/protocol.md,
// "Transport"): a child process over pipes, or a running service over TCP.
// One line out, one line back, within a deadline. Boost.Asio does the I/O;
// nothing here runs inside a simulation (the process answers while
// simulated time stands still), so its timers are the tool's own.

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace essim::external {

using Millis = std::chrono::milliseconds;
inline constexpr Millis kDeadlineDefault{10'000};

struct ChildSpec {
  std::vector<std::string> command;                      // argv; the first is looked up on PATH
  std::string cwd;                                       // where it runs ("": essim's own folder)
  std::vector<std::pair<std::string, std::string>> env;  // added to essim's environment
};

struct Endpoint {
  std::string host;
  std::uint16_t port = 0;
};

class Channel {
 public:
  virtual ~Channel() = default;
  // Sends `line` (without its newline) and returns the next line received.
  // Throws model::HarnessFailure naming `call` ("`apply`", as shown) when no line comes within the
  // deadline (the process is then stopped), or the peer closed or failed.
  virtual std::string exchange(const std::string& line, const std::string& call) = 0;
  // "python3 bank.py (pid 123)", "127.0.0.1:7000": for messages.
  virtual std::string name() const = 0;
};

// Starts the child. Throws model::HarnessFailure when it cannot.
std::unique_ptr<Channel> start_child(const ChildSpec& spec, Millis deadline);
// Connects. Throws model::HarnessFailure when it cannot within the deadline.
std::unique_ptr<Channel> connect_tcp(const Endpoint& endpoint, Millis deadline);

}  // namespace essim::external
