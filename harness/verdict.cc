#include "harness/verdict.h"

#include <algorithm>
#include <array>

#include "properties/properties.h"
#include "sim/assert.h"

namespace essim::harness {

namespace {

constexpr std::array<std::pair<PropertyStatus, std::string_view>, 5> kStatusNames{{
    {PropertyStatus::kHeld, "held"},
    {PropertyStatus::kViolated, "violated"},
    {PropertyStatus::kCaught, "caught"},
    {PropertyStatus::kMissed, "missed"},
    {PropertyStatus::kAlsoViolated, "also-violated"},
}};

PropertyStatus status_of(const Expectation& expect, const std::string& property,
                         std::uint64_t seeds) {
  if (expect.pass) return seeds == 0 ? PropertyStatus::kHeld : PropertyStatus::kViolated;
  if (property == expect.violation)
    return seeds == 0 ? PropertyStatus::kMissed : PropertyStatus::kCaught;
  return seeds == 0 ? PropertyStatus::kHeld : PropertyStatus::kAlsoViolated;
}

}  // namespace

std::string_view to_string(PropertyStatus status) {
  for (const auto& [s, name] : kStatusNames) {
    if (s == status) return name;
  }
  ESSIM_ASSERT_MSG(false, "a property status without a name");
  return "";
}

std::optional<PropertyStatus> property_status_by_name(std::string_view name) {
  for (const auto& [s, n] : kStatusNames) {
    if (n == name) return s;
  }
  return std::nullopt;
}

void Tally::add(const Tally& other) {
  seeds_run += other.seeds_run;
  seeds_failed += other.seeds_failed;
  if (other.caught_at_seed && (!caught_at_seed || *other.caught_at_seed < *caught_at_seed)) {
    caught_at_seed = other.caught_at_seed;
  }
  for (const auto& [property, seeds] : other.violated) violated[property] += seeds;
  for (const auto& [name, probe] : other.probes) {
    const auto [it, fresh] = probes.try_emplace(name, probe);
    if (fresh) continue;
    it->second.hits += probe.hits;
    it->second.first_seed = std::min(it->second.first_seed, probe.first_seed);
  }
}

Verdict judge(const Expectation& expect, const std::vector<std::string>& checked,
              const Tally& tally) {
  ESSIM_ASSERT(tally.seeds_failed <= tally.seeds_run);
  if (!expect.pass) {
    ESSIM_ASSERT(tally.caught_at_seed.has_value() == tally.violated.contains(expect.violation));
  }
  Verdict v;
  auto seeds_of = [&](const std::string& property) {
    const auto it = tally.violated.find(property);
    return it == tally.violated.end() ? std::uint64_t{0} : it->second;
  };
  std::vector<std::string> names = checked;
  if (!expect.pass && std::find(names.begin(), names.end(), expect.violation) == names.end()) {
    names.push_back(expect.violation);
  }
  for (const auto& [property, seeds] : tally.violated) {
    if (std::find(names.begin(), names.end(), property) == names.end()) names.push_back(property);
  }
  for (const std::string& property : names) {
    const std::uint64_t seeds = seeds_of(property);
    v.properties.push_back({property, status_of(expect, property, seeds), seeds});
  }
  for (const std::string& probe : expect.required_probes) {
    if (!tally.probes.contains(probe)) v.missing_probes.push_back(probe);
  }
  v.met = expect.pass ? tally.seeds_failed == 0 && v.missing_probes.empty()
                      : tally.caught_at_seed.has_value();
  return v;
}

std::vector<std::string> checked_properties(const Scenario& scenario) {
  if (!scenario.properties.empty()) return scenario.properties;
  return properties::property_names(*scenario.registry->domain(scenario.spec.domain));
}

std::uint64_t default_seed_count(const Scenario& scenario) {
  return scenario.expect.pass ? scenario.seeds : scenario.expect.within_seeds;
}

}  // namespace essim::harness
