#pragma once
// The one seam between a node and its world (DESIGN.md, "The seam: Env").
//
// A node (store, bus, projection worker, client) touches nothing but its Env:
// no clock, socket, file, thread or global. The simulator implements Env
// (SimEnv); the live mode will implement it over real sockets, files and
// timers. The code under simulation is the code that ships.

#include <cstdint>
#include <string_view>

#include "sim/inplace_function.h"
#include "sim/rng.h"
#include "sim/storage.h"
#include "sim/time.h"
#include "sim/types.h"

namespace essim::sim {

class Env;

// A timer's action. It may capture up to 64 bytes (a pointer and a few ids);
// arming a timer never allocates.
using TimerCallback = InplaceFunction<void(Env&), 64>;

struct TimerId {
  std::uint64_t value = 0;  // 0 is never a live timer
  friend bool operator==(TimerId, TimerId) = default;
};

struct Message {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  ByteView bytes;  // valid only during on_message
};

class Env {
 public:
  virtual ~Env() = default;

  virtual Micros now() const = 0;
  virtual NodeId self() const = 0;

  // Sends bytes to `to` (possibly `self()`). Delivery is whatever the world
  // decides: late, twice, or never. REQUIRES: `to` is a node of this world.
  virtual void send(NodeId to, ByteView bytes) = 0;

  // Runs `callback` after `after_us` (>= 0), unless cancelled or this node
  // crashes first.
  virtual TimerId set_timer(Micros after_us, TimerCallback callback) = 0;
  // Returns false when the timer already fired, was cancelled or never existed.
  virtual bool cancel_timer(TimerId id) = 0;

  // REQUIRES: the node has not fail-stopped in this incarnation.
  virtual Storage& storage() = 0;
  virtual Rng& rng() = 0;

  // The fail-stop policy for storage errors (DESIGN.md): the node stops now,
  // as if it crashed, and the world records why. Memory, timers and unsynced
  // data are lost; it restarts later like any crashed node and recovers from
  // storage. The caller must return at once and touch nothing of its node:
  // the object is destroyed once the current callback returns.
  virtual void fail_stop(std::string_view reason) = 0;

  // True when `status` is ok; otherwise fail-stops with its message, and the
  // caller must return at once. Every storage write goes through this, so a
  // node has one answer to a storage error.
  [[nodiscard]] bool ok_or_fail_stop(const Status& status) {
    if (status.is_ok()) return true;
    fail_stop(status.message());
    return false;
  }
  // Replaces `file` and syncs it (a checkpoint); false after a fail-stop.
  [[nodiscard]] bool replace_durably(std::string_view file, ByteView bytes) {
    return ok_or_fail_stop(storage().replace(file, bytes)) && ok_or_fail_stop(storage().sync(file));
  }

  // Free text for the trace.
  virtual void log(std::string_view text) = 0;
  // A structured trace entry for what the checkers and the viewer care about
  // (an append, an ack, a checkpoint): a name and two numbers.
  virtual void note(std::string_view what, std::uint64_t a, std::uint64_t b) = 0;
};

// A process of the system under test. A crash destroys the object; a restart
// builds a new one and calls on_start, which recovers from storage().
class Node {
 public:
  virtual ~Node() = default;
  virtual void on_start(Env& env) = 0;
  virtual void on_message(Env& env, const Message& message) = 0;
};

}  // namespace essim::sim
