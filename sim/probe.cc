#include "sim/probe.h"

#include <essim/probe.h>

namespace essim::sim {

namespace {

thread_local RunCounters* current = nullptr;

template <typename Map>
typename Map::mapped_type& slot(Map& map, std::string_view name) {
  const auto it = map.find(name);
  if (it != map.end()) return it->second;
  return map.emplace(std::string(name), typename Map::mapped_type{}).first->second;
}

}  // namespace

void probe(std::string_view name) {
  if (current != nullptr) ++slot(current->probes, name);
}

void count(std::string_view name, std::uint64_t n) {
  if (current != nullptr) slot(current->counts, name) += n;
}

void observe(std::string_view name, std::uint64_t value) {
  if (current != nullptr) slot(current->observations, name).add(value);
}

RunScope::RunScope(RunCounters& counters) : previous_(current) {
  current = &counters;
}

RunScope::~RunScope() {
  current = previous_;
}

}  // namespace essim::sim

namespace essim {

void probe(std::string_view name) {
  sim::probe(name);
}

}  // namespace essim
