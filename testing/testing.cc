#include <essim/testing.h>

#include <stdexcept>

#include "testing/domain_fuzz.h"
#include "testing/idempotency.h"

namespace essim::testing {

namespace {

model::Dedup internal(Dedup dedup) {
  switch (dedup) {
    case Dedup::kNone:
      return model::Dedup::kNone;
    case Dedup::kEventId:
      return model::Dedup::kEventId;
    case Dedup::kAtomicCheckpoint:
      return model::Dedup::kAtomicCheckpoint;
  }
  throw std::invalid_argument("essim::testing: no such Dedup");
}

void require_positive_mix(const Domain& domain) {
  for (const WorkWeight& w : domain.mix()) {
    if (w.weight > 0) return;
  }
  throw std::invalid_argument("essim::testing: the " + domain.name() +
                              " domain's mix has no positive weight");
}

}  // namespace

void check_idempotent(const Domain& domain, const ProjectionHandler& handler, Dedup dedup,
                      std::size_t works_max) {
  if (works_max < 1 || works_max > fuzzing::kWorksMaxLimit)
    throw std::invalid_argument("essim::testing::check_idempotent: works_max must be 1 to 10000");
  require_positive_mix(domain);
  fuzzing::FuzzSettings settings;
  settings.dedup = internal(dedup);
  settings.works_max = works_max;
  fuzzing::check_idempotent(domain, handler, settings);
}

void check_domain(const Domain& domain, std::size_t works_max) {
  if (works_max < 1 || works_max > fuzzing::kWorksMaxLimit)
    throw std::invalid_argument("essim::testing::check_domain: works_max must be 1 to 10000");
  require_positive_mix(domain);
  fuzzing::DomainSettings settings;
  settings.works_max = works_max;
  fuzzing::check_domain(domain, settings);
}

std::vector<Event> decided_history(const Domain& domain, std::uint64_t seed, std::size_t works) {
  require_positive_mix(domain);
  return fuzzing::decided_history(domain, seed, works);
}

ReadModel apply_in_order(const Domain& domain, const ProjectionHandler& handler,
                         const std::vector<Event>& history) {
  return fuzzing::apply_in_order(domain, handler, history);
}

}  // namespace essim::testing
