#include "model/domain.h"

#include <algorithm>
#include <stdexcept>

#include "model/domains/bank.h"
#include "model/domains/customers.h"
#include "model/domains/inventory.h"
#include "model/probes.h"
#include "model/user_code.h"
#include "sim/assert.h"
#include "sim/probe.h"

namespace essim {

Registry Registry::with_builtins() {
  Registry r;
  r.add(std::make_unique<model::domains::BankDomain>());
  r.add(std::make_unique<model::domains::InventoryDomain>());
  r.add(std::make_unique<model::domains::CustomersDomain>());
  return r;
}

Registry Registry::extending(const Registry& parent) {
  Registry r;
  r.parent_ = &parent;
  return r;
}

const Registry& Registry::builtin() {
  static const Registry registry = with_builtins();
  return registry;
}

namespace {

// Names scenarios and commands refer to: letters, digits, '_' and '-'.
bool well_formed(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
  });
}

void refuse(const std::string& domain, const std::string& what) {
  throw std::invalid_argument("essim: cannot register the domain '" + domain + "': " + what);
}

// Every name a domain registers, checked once: a property or handler named
// twice would make findings ambiguous.
void check_names(const Domain& domain, const std::vector<ProjectionHandler>& handlers) {
  const std::string name = domain.name();
  if (!well_formed(name)) refuse(name, "its name must be letters, digits, '_' or '-'");
  std::vector<std::string> seen;
  const auto add = [&](const std::string& what, const std::string& n) {
    if (!well_formed(n)) refuse(name, what + " '" + n + "' must be letters, digits, '_' or '-'");
    if (std::find(seen.begin(), seen.end(), what + n) != seen.end())
      refuse(name, what + " '" + n + "' is declared twice");
    seen.push_back(what + n);
  };
  for (const ProjectionHandler& h : handlers) {
    add("handler", h.name);
    if (!h.apply) refuse(name, "handler '" + h.name + "' has no apply function");
  }
  for (const Invariant& i : domain.invariants()) add("rule", i.name);
  for (const LogInvariant& i : domain.log_invariants()) add("rule", i.name);
  for (const ReadModelInvariant& i : domain.read_model_invariants()) {
    add("rule", i.name);
    const bool known = std::any_of(handlers.begin(), handlers.end(),
                                   [&](const ProjectionHandler& h) { return h.name == i.handler; });
    if (!known)
      refuse(name,
             "rule '" + i.name + "' is about a handler it does not have: '" + i.handler + "'");
  }
  for (const std::string& kind : domain.work_kinds()) add("work kind", kind);
  for (const ProbeDeclaration& p : domain.probes()) {
    const std::string probe = "probe '" + p.name + "'";
    if (!model::probes::well_formed(p.name))
      refuse(name, probe + " must be 1 to 64 letters, digits, '.', '_' or '-'");
    for (const ProbeDeclaration& builtin : model::probes::builtin()) {
      if (builtin.name == p.name) refuse(name, probe + " is one of essim's own; name it otherwise");
    }
    if (std::find(seen.begin(), seen.end(), probe) != seen.end())
      refuse(name, probe + " is declared twice");
    if (p.description.empty())
      refuse(name, probe + " has no description: say what reaching it means (reports show it)");
    seen.push_back(probe);
  }
  const std::vector<std::string> types = domain.event_types();
  for (const OldWriter& w : domain.old_writers()) {
    const std::string writer = "old writer of " + w.type + " v" + std::to_string(w.version);
    if (w.type.empty()) refuse(name, "an old writer names no event type");
    if (w.version == 0) refuse(name, writer + ": schema versions start at 1");
    if (!w.write) refuse(name, writer + " has no write function");
    if (!types.empty() && std::find(types.begin(), types.end(), w.type) == types.end())
      refuse(name, writer + ": the domain does not emit " + w.type + " (event_types())");
    if (std::find(seen.begin(), seen.end(), writer) != seen.end())
      refuse(name, writer + " is declared twice");
    seen.push_back(writer);
  }
  for (const PersonalData& p : domain.personal_data()) {
    const std::string personal = "personal data of " + p.type;
    if (p.type.empty()) refuse(name, "personal data names no event type");
    if (!p.subject || !p.rewrite)
      refuse(name, personal + " needs a subject and a rewrite function");
    if (!types.empty() && std::find(types.begin(), types.end(), p.type) == types.end())
      refuse(name, personal + ": the domain does not emit " + p.type + " (event_types())");
    if (std::find(seen.begin(), seen.end(), personal) != seen.end())
      refuse(name, personal + " is declared twice");
    seen.push_back(personal);
  }
}

}  // namespace

void Registry::add(std::unique_ptr<Domain> domain) {
  if (domain == nullptr) throw std::invalid_argument("essim: Registry::add(nullptr)");
  std::string name = domain->name();
  std::vector<ProjectionHandler> handlers = domain->projections();
  check_names(*domain, handlers);
  if (this->domain(name) != nullptr) refuse(name, "a domain of that name is registered already");
  std::vector<std::string> warnings =
      model::coverage_warnings(*domain, model::declared_coverage(*domain, handlers));
  if (!domain->personal_data().empty() && domain->event_types().empty()) {
    warnings.push_back(name +
                       ": declares personal data but no event_types(), so a type misspelt in "
                       "personal_data() cannot be told: its events would be written unsealed");
  }
  domains_.emplace(std::move(name),
                   Entry{std::move(domain), std::move(handlers), std::move(warnings)});
}

std::vector<std::string> Registry::warnings(std::string_view name) const {
  std::vector<std::string> out =
      parent_ != nullptr ? parent_->warnings(name) : std::vector<std::string>{};
  for (const auto& [domain, entry] : domains_) {
    if (name.empty() || name == domain)
      out.insert(out.end(), entry.warnings.begin(), entry.warnings.end());
  }
  return out;
}

const Domain* Registry::domain(std::string_view name) const {
  const auto it = domains_.find(name);
  if (it != domains_.end()) return it->second.domain.get();
  return parent_ != nullptr ? parent_->domain(name) : nullptr;
}

std::optional<Registry::Found> Registry::handler(std::string_view qualified_name) const {
  const std::size_t dot = qualified_name.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  const auto it = domains_.find(qualified_name.substr(0, dot));
  if (it == domains_.end())
    return parent_ != nullptr ? parent_->handler(qualified_name) : std::nullopt;
  for (const ProjectionHandler& h : it->second.handlers) {
    if (h.name == qualified_name.substr(dot + 1)) return Found{it->second.domain.get(), &h};
  }
  return std::nullopt;
}

std::vector<std::string> Registry::domain_names() const {
  std::vector<std::string> names =
      parent_ != nullptr ? parent_->domain_names() : std::vector<std::string>{};
  for (const auto& [name, entry] : domains_) names.push_back(name);
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<std::string> Registry::handler_names() const {
  std::vector<std::string> names =
      parent_ != nullptr ? parent_->handler_names() : std::vector<std::string>{};
  for (const auto& [name, entry] : domains_) {
    for (const ProjectionHandler& h : entry.handlers) names.push_back(name + "." + h.name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

std::vector<WorkWeight> Domain::mix() const {
  std::vector<WorkWeight> weights;
  for (std::string& kind : work_kinds()) weights.push_back({std::move(kind), 1});
  return weights;
}

}  // namespace essim

namespace essim::model {

namespace {
// needs_upcast and upcast are the user's code (see user_code.h).
std::string upcasting(const Event& event) {
  return "upcasting event " + describe(event);
}

void upcast(const Domain& domain, Event& event, const Bugs& bugs) {
  if (bugs.any()) {
    if (const auto* buggy = dynamic_cast<const UpcastBugs*>(&domain)) {
      return buggy->upcast_with_bugs(event, bugs);
    }
  }
  domain.upcast(event);
}
}  // namespace

const Event& latest(const Domain& domain, const Event& event, const Bugs& bugs, Event& scratch) {
  // Most events are at their latest schema already: that answer is the
  // replay's hot path, the copy and the upcast the rare one.
  const bool old =
      call_user([&] { return upcasting(event); }, [&] { return domain.needs_upcast(event); });
  if (!old) return event;
  call_user([&] { return upcasting(event); },
            [&] {
              sim::probe(probes::kUpcastApplied);
              scratch = event;
              upcast(domain, scratch, bugs);
            });
  return scratch;
}

Event upcasted(const Domain& domain, Event event, const Bugs& bugs) {
  upcast_in_place(domain, event, bugs);
  return event;
}

void upcast_in_place(const Domain& domain, Event& event, const Bugs& bugs) {
  call_user([&] { return upcasting(event); },
            [&] {
              if (!domain.needs_upcast(event)) [[likely]]
                return;
              sim::probe(probes::kUpcastApplied);
              upcast(domain, event, bugs);
            });
}

const WorkWeight* draw_weighted(const std::vector<WorkWeight>& mix, sim::Rng& rng) {
  std::uint64_t total = 0;
  for (const WorkWeight& w : mix) total += w.weight;
  if (total == 0) return nullptr;
  std::uint64_t pick = rng.below(total);
  for (const WorkWeight& w : mix) {
    if (pick < w.weight) return &w;
    pick -= w.weight;
  }
  ESSIM_ASSERT_MSG(false, "the weights sum to less than their total");
  return nullptr;
}

bool knows_event(const Domain& domain, std::string_view type) {
  return KnownEvents(domain).knows(type);
}

namespace {
bool listed(const std::vector<std::string>& types, std::string_view type) {
  return std::find(types.begin(), types.end(), type) != types.end();
}
}  // namespace

bool EventCoverage::covers(std::string_view type) const {
  return listed(handles, type) || listed(ignores, type);
}

std::vector<EventCoverage> declared_coverage(const Domain& domain,
                                             const std::vector<ProjectionHandler>& handlers) {
  std::vector<EventCoverage> out;
  EventCoverage evolve{domain.name() + ".evolve", domain.evolve_handles(), domain.evolve_ignores()};
  if (evolve.declared()) out.push_back(std::move(evolve));
  for (const ProjectionHandler& h : handlers) {
    EventCoverage handler{domain.name() + "." + h.name, h.handles, h.ignores};
    if (handler.declared()) out.push_back(std::move(handler));
  }
  return out;
}

std::vector<std::string> coverage_warnings(const Domain& domain,
                                           const std::vector<EventCoverage>& coverage) {
  const std::vector<std::string> emitted = domain.event_types();
  std::vector<std::string> out;
  for (const EventCoverage& c : coverage) {
    for (const std::string& type : emitted) {
      if (!c.covers(type))
        out.push_back(c.consumer + " neither handles nor ignores " + type +
                      ", which the domain emits");
    }
    for (const std::string& type : c.handles) {
      if (listed(c.ignores, type)) out.push_back(c.consumer + " both handles and ignores " + type);
    }
    if (emitted.empty()) continue;  // nothing to hold the declarations to
    for (const std::vector<std::string>* types : {&c.handles, &c.ignores}) {
      for (const std::string& type : *types) {
        if (!listed(emitted, type))
          out.push_back(c.consumer + " declares " + type + ", which the domain does not emit");
      }
    }
  }
  return out;
}

std::unique_ptr<AggregateState> replay(const Domain& domain, const std::vector<Event>& events,
                                       const Bugs& bugs) {
  std::unique_ptr<AggregateState> state = call_initial(domain);
  Event scratch;
  for (const Event& e : events) call_evolve(domain, *state, latest(domain, e, bugs, scratch));
  return state;
}

}  // namespace essim::model
