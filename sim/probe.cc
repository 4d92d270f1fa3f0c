#include "sim/probe.h"

#include <essim/probe.h>

namespace essim::sim {

namespace {
thread_local ProbeHits* current = nullptr;
}  // namespace

void probe(std::string_view name) {
  if (current == nullptr) return;
  const auto it = current->find(name);
  if (it != current->end()) {
    ++it->second;
  } else {
    current->emplace(std::string(name), 1);
  }
}

ProbeScope::ProbeScope(ProbeHits& hits) : previous_(current) {
  current = &hits;
}

ProbeScope::~ProbeScope() {
  current = previous_;
}

}  // namespace essim::sim

namespace essim {

void probe(std::string_view name) {
  sim::probe(name);
}

}  // namespace essim
