#pragma once
// Nodes for the kernel's own tests (not part of the library).

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "sim/env.h"
#include "sim/simulation.h"

namespace essim::sim::testing {

// What a node received, kept outside the node so it survives crashes.
struct Received {
  NodeId to;
  NodeId from;
  std::uint32_t incarnation;  // of the receiver
  Micros at_us;
  Bytes bytes;
};

// A node that records every message it receives and runs an optional start
// script (which may send and arm timers).
class ScriptNode final : public Node {
 public:
  using Script = std::function<void(Env&, std::uint32_t incarnation)>;
  ScriptNode(std::vector<Received>& inbox, std::uint32_t incarnation, Script script)
      : inbox_(inbox), incarnation_(incarnation), script_(std::move(script)) {}

  void on_start(Env& env) override {
    if (script_) script_(env, incarnation_);
  }
  void on_message(Env& env, const Message& m) override {
    inbox_.push_back(
        Received{m.to, m.from, incarnation_, env.now(), Bytes(m.bytes.begin(), m.bytes.end())});
  }

 private:
  std::vector<Received>& inbox_;
  std::uint32_t incarnation_;
  Script script_;
};

// Adds a ScriptNode named `name`; its incarnation counter lives in `counter`.
inline NodeId add_script_node(Simulation& sim, const std::string& name,
                              std::vector<Received>& inbox, ScriptNode::Script script = {}) {
  auto incarnations = std::make_shared<std::uint32_t>(0);
  return sim.add_node(name, [&inbox, incarnations, script] {
    return std::make_unique<ScriptNode>(inbox, ++*incarnations, script);
  });
}

// The payload `n` as 8 little-endian bytes.
inline Bytes payload(std::uint64_t n) {
  Bytes b(8);
  for (int i = 0; i < 8; ++i) b[i] = static_cast<std::uint8_t>(n >> (8 * i));
  return b;
}
inline std::uint64_t payload_value(const Bytes& b) {
  std::uint64_t n = 0;
  for (std::size_t i = 0; i < 8 && i < b.size(); ++i) n |= std::uint64_t{b[i]} << (8 * i);
  return n;
}

}  // namespace essim::sim::testing

namespace essim::sim::testing {

// A busy node for whole-world tests: a bounded number of ticks, each sending to
// a random peer, writing to disk and sometimes syncing; it answers some messages.
class ChattyNode final : public Node {
 public:
  ChattyNode(NodeId node_count, int ticks) : node_count_(node_count), ticks_left_(ticks) {}

  void on_start(Env& env) override {
    auto size = env.storage().size("log");
    if (size) env.log("recovered");
    tick(env);
  }

  void on_message(Env& env, const Message& m) override {
    (void)env.storage().append("log", m.bytes);
    if (env.rng().chance(0.3)) env.send(m.from, m.bytes);
  }

 private:
  void tick(Env& env) {
    if (ticks_left_-- <= 0) return;
    const auto to = static_cast<NodeId>(env.rng().below(node_count_));
    env.send(to, payload(env.rng().next()));
    if (env.rng().chance(0.2)) (void)env.storage().sync("log");
    if (env.rng().chance(0.1)) (void)env.storage().replace("checkpoint", payload(ticks_left_));
    env.set_timer(env.rng().between(100, 5'000), [this](Env& e) { tick(e); });
  }

  NodeId node_count_;
  int ticks_left_;
};

}  // namespace essim::sim::testing
