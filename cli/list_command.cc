// `essim list`: what essim knows — domains, projection handlers, properties,
// fault kinds and bug variants — so a scenario author can look names up.

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "harness/scenario.h"
#include "model/bugs.h"
#include "model/domain.h"
#include "model/probes.h"
#include "properties/properties.h"

namespace essim::cli {

namespace {

void print_list(const model::Registry& registry) {
  fmt::print("Domains:\n");
  for (const std::string& name : registry.domain_names()) {
    const model::Domain* d = registry.domain(name);
    fmt::print("  {:<22} {}\n", name, d->description());
    fmt::print("  {:<22} work: {}\n", "", fmt::join(d->work_kinds(), ", "));
  }
  fmt::print("\nProjection handlers:\n");
  for (const std::string& name : registry.handler_names()) {
    fmt::print("  {:<22} {}\n", name, registry.handler(name)->handler->description);
  }
  fmt::print("\nDedup strategies: none, event-id, atomic-checkpoint\n");
  fmt::print("\nProperties:\n");
  for (const properties::Property& p : properties::all_properties()) {
    const std::string scope = p.domain.empty() ? "" : fmt::format(" ({} only)", p.domain);
    fmt::print("  {:<28} {}{}\n", p.name, p.description, scope);
  }
  for (const std::string& name : registry.domain_names()) {
    const model::Domain* d = registry.domain(name);
    for (const model::Invariant& i : d->invariants()) {
      fmt::print("  {:<28} {} ({} only; per aggregate)\n", i.name, i.description, name);
    }
    for (const model::LogInvariant& i : d->log_invariants()) {
      fmt::print("  {:<28} {} ({} only; over the whole log)\n", i.name, i.description, name);
    }
    for (const model::ReadModelInvariant& i : d->read_model_invariants()) {
      fmt::print("  {:<28} {} ({} only; {}.{}'s read model{})\n", i.name, i.description, name, name,
                 i.handler, i.at_checkpoints ? ", at every checkpoint" : "");
    }
  }
  fmt::print(
      "\nFault kinds:\n"
      "  network: drop, duplicate, delay, reorder (jitter), latency, partitions, clogs\n"
      "  process: crash, restart\n"
      "  disk:    unsynced writes lost, torn writes, read corruption, sync failures (fail-stop)\n");
  fmt::print("\nCoverage probes (report.json counts them; a scenario may require_probes):\n");
  for (const ProbeDeclaration& p : model::probes::builtin()) {
    fmt::print("  {:<34} {}\n", p.name, p.description);
  }
  for (const std::string& name : registry.domain_names()) {
    for (const ProbeDeclaration& p : registry.domain(name)->probes()) {
      fmt::print("  {:<34} {} ({} only)\n", p.name, p.description, name);
    }
  }
  fmt::print("\nBug variants:\n");
  for (const model::BugInfo& b : model::all_bugs()) {
    fmt::print("  {:<32} [{}] {}\n", b.name, b.component, b.description);
  }
  const std::vector<std::string> warnings = registry.warnings();
  if (warnings.empty()) return;
  fmt::print("\nWarnings:\n");
  for (const std::string& w : warnings) fmt::print("  {}\n", w);
}

}  // namespace

const model::Registry* registry_for(const std::string& scenario, const model::Registry& registry,
                                    std::shared_ptr<const model::Registry>& keep,
                                    const std::string& prefix) {
  if (scenario.empty()) return &registry;
  auto loaded = harness::load_scenario(scenario, registry);
  if (!loaded.ok()) {
    fmt::print(stderr, "{}: {}\n", prefix, loaded.error().message);
    return nullptr;
  }
  keep = loaded.value().external;
  return keep != nullptr ? keep.get() : &registry;
}

Runner add_list_command(CLI::App& app, const model::Registry& registry) {
  auto scenario = std::make_shared<std::string>();
  CLI::App* list = app.add_subcommand(
      "list",
      "List the domains, projection handlers, properties, coverage probes, fault kinds and bug "
      "variants essim knows. With --scenario, also the external domain a scenario file starts (a process "
      "speaking docs/protocol.md).");
  list->add_option("--scenario", *scenario,
                   "A scenario file whose external domain to start and list");
  const std::string prefix = app.get_name() + " list";
  return [&registry, scenario, prefix] {
    std::shared_ptr<const model::Registry> keep;
    const model::Registry* r = registry_for(*scenario, registry, keep, prefix);
    if (r == nullptr) return kExitUsage;
    print_list(*r);
    return kExitOk;
  };
}

}  // namespace essim::cli
