#include "model/event.h"

#include <fmt/format.h>

namespace essim {

std::string to_string(const Id128& id) {
  return fmt::format("{:016x}{:016x}", id.hi, id.lo);
}

std::string describe(const Event& e) {
  return fmt::format("{}@{} (#{}) {} v{}", e.stream, e.version, e.position, e.type,
                     e.schema_version);
}

}  // namespace essim

namespace essim::model {

Id128 random_id(sim::Rng& rng) {
  Id128 id{rng.next(), rng.next()};
  if (id.empty()) id.lo = 1;
  return id;
}

}  // namespace essim::model
