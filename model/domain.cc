#include "model/domain.h"

#include <algorithm>

#include "model/domains/bank.h"
#include "model/domains/inventory.h"
#include "model/user_code.h"
#include "sim/assert.h"

namespace essim::model {

Registry Registry::with_builtins() {
  Registry r;
  r.add(std::make_unique<domains::BankDomain>());
  r.add(std::make_unique<domains::InventoryDomain>());
  return r;
}

const Registry& Registry::builtin() {
  static const Registry registry = with_builtins();
  return registry;
}

void Registry::add(std::unique_ptr<Domain> domain) {
  ESSIM_ASSERT(domain != nullptr);
  std::string name = domain->name();
  ESSIM_ASSERT_MSG(!name.empty(), "a domain needs a name");
  ESSIM_ASSERT_MSG(!domains_.contains(name), "a domain registered twice: " + name);
  std::vector<ProjectionHandler> handlers = domain->projections();
  domains_.emplace(std::move(name), Entry{std::move(domain), std::move(handlers)});
}

const Domain* Registry::domain(std::string_view name) const {
  const auto it = domains_.find(name);
  return it == domains_.end() ? nullptr : it->second.domain.get();
}

std::optional<Registry::Found> Registry::handler(std::string_view qualified_name) const {
  const std::size_t dot = qualified_name.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto it = domains_.find(qualified_name.substr(0, dot));
  if (it == domains_.end()) return std::nullopt;
  for (const ProjectionHandler& h : it->second.handlers) {
    if (h.name == qualified_name.substr(dot + 1)) return Found{it->second.domain.get(), &h};
  }
  return std::nullopt;
}

std::vector<std::string> Registry::domain_names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : domains_) names.push_back(name);
  return names;
}

std::vector<std::string> Registry::handler_names() const {
  std::vector<std::string> names;
  for (const auto& [name, entry] : domains_) {
    for (const ProjectionHandler& h : entry.handlers) names.push_back(name + "." + h.name);
  }
  return names;
}

std::vector<WorkWeight> Domain::mix() const {
  std::vector<WorkWeight> weights;
  for (std::string& kind : work_kinds()) weights.push_back({std::move(kind), 1});
  return weights;
}

namespace {
// needs_upcast and upcast are the user's code (see user_code.h).
std::string upcasting(const Event& event) {
  return "upcasting event " + describe(event);
}
}  // namespace

const Event& latest(const Domain& domain, const Event& event, const Bugs& bugs, Event& scratch) {
  return call_user([&] { return upcasting(event); },
                   [&]() -> const Event& {
                     if (!domain.needs_upcast(event)) return event;
                     scratch = event;
                     domain.upcast(scratch, bugs);
                     return scratch;
                   });
}

Event upcasted(const Domain& domain, Event event, const Bugs& bugs) {
  call_user([&] { return upcasting(event); },
            [&] {
              if (domain.needs_upcast(event)) domain.upcast(event, bugs);
            });
  return event;
}

bool knows_event(const Domain& domain, std::string_view type) {
  const std::vector<std::string> types = domain.event_types();
  return types.empty() || std::find(types.begin(), types.end(), type) != types.end();
}

std::unique_ptr<AggregateState> replay(const Domain& domain, const std::vector<Event>& events,
                                       const Bugs& bugs) {
  std::unique_ptr<AggregateState> state = call_initial(domain);
  Event scratch;
  for (const Event& e : events) call_evolve(domain, *state, latest(domain, e, bugs, scratch));
  return state;
}

}  // namespace essim::model
