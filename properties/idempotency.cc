#include "properties/idempotency.h"

#include <map>

#include <fmt/format.h>
#include <rapidcheck.h>

namespace essim::properties {

using model::Event;

std::vector<Event> decided_history(const model::Domain& domain, std::uint64_t seed,
                                   std::size_t works) {
  sim::Rng rng(seed);
  const std::vector<std::string> kinds = domain.work_kinds();
  std::map<std::string, std::pair<std::unique_ptr<model::AggregateState>, std::uint64_t>>
      aggregates;
  std::vector<Event> history;
  for (std::size_t i = 0; i < works; ++i) {
    const std::string& kind = kinds[rng.below(kinds.size())];
    sim::Rng generator(rng.next());
    const model::Work work = domain.generate(kind, generator);
    // Decides one command on its aggregate; false when the domain refuses it.
    auto run = [&](const model::Command& c) {
      auto& [state, version] = aggregates[c.stream];
      if (!state) state = domain.initial_state();
      auto decided = domain.decide_state(*state, c);
      if (!decided.ok()) return false;  // a refused command leaves no event, as in a real run
      for (const model::NewEvent& n : decided.value()) {
        Event e;
        e.id = model::random_id(rng);
        e.stream = c.stream;
        e.version = ++version;
        e.position = history.size() + 1;
        e.type = n.type;
        e.schema_version = n.schema_version;
        e.payload = n.payload;
        domain.evolve_state(*state, model::upcasted(domain, e));
        history.push_back(std::move(e));
      }
      return true;
    };
    if (const auto* c = std::get_if<model::Command>(&work)) {
      (void)run(*c);
      continue;
    }
    // A saga as the clients run it: a failed step undoes the steps before it.
    const auto& steps = std::get<model::Saga>(work).steps;
    for (std::size_t s = 0; s < steps.size(); ++s) {
      if (run(steps[s].action)) continue;
      for (std::size_t back = s; back-- > 0;) {
        if (steps[back].compensation) (void)run(*steps[back].compensation);
      }
      break;
    }
  }
  return history;
}

model::ReadModel apply_in_order(const model::Domain& domain,
                                const model::ProjectionHandler& handler,
                                const std::vector<Event>& history) {
  model::ReadModel m;
  for (const Event& e : history) handler.apply(m, model::upcasted(domain, e));
  return m;
}

namespace {

// Expected: once in order; got: the schedule.
std::string show_difference(const model::ReadModel& expected, const model::ReadModel& actual) {
  std::string out;
  const std::string difference = describe_difference(expected, actual, 10);
  for (std::size_t at = 0; at < difference.size();) {
    const std::size_t end = std::min(difference.find('\n', at), difference.size());
    out += "  " + difference.substr(at, end - at) + "\n";
    at = end + 1;
  }
  return out;
}

}  // namespace

void check_idempotent(const model::Domain& domain, const model::ProjectionHandler& handler,
                      model::Dedup dedup) {
  // Full-range seeds at every size: at RapidCheck's first sizes an arbitrary
  // integer is 0, and one seed would make every case of a short run (--runs 1)
  // the same, possibly empty, history.
  const auto seed = *rc::gen::resize(100, rc::gen::arbitrary<std::uint64_t>()).as("history seed");
  const auto works = *rc::gen::inRange<std::size_t>(1, 30).as("pieces of work");
  const std::vector<Event> history = decided_history(domain, seed, works);
  RC_PRE(!history.empty());

  // Per stream, the events in version order.
  std::map<std::string, std::vector<std::size_t>> streams;
  for (std::size_t i = 0; i < history.size(); ++i) streams[history[i].stream].push_back(i);
  std::vector<std::string> names;
  for (const auto& [name, list] : streams) names.push_back(name);

  // The schedule: which stream delivers next; after which deliveries an old
  // event comes again; after which ones the worker crashes (and the bus
  // redelivers what it had not yet had acknowledged).
  const auto picks = *rc::gen::container<std::vector<std::size_t>>(
                          history.size(), rc::gen::inRange<std::size_t>(0, names.size()))
                          .as("stream picks");
  const auto again = *rc::gen::container<std::vector<std::size_t>>(
                          rc::gen::inRange<std::size_t>(0, history.size()))
                          .as("redeliveries (after delivery #)");
  const auto crashes = *rc::gen::container<std::vector<std::size_t>>(
                            rc::gen::inRange<std::size_t>(0, history.size()))
                            .as("crashes (after delivery #)");
  const auto unacked =
      *rc::gen::inRange<std::size_t>(1, 4).as("deliveries not yet acknowledged at a crash");

  model::ProjectionState state;
  std::map<std::string, std::size_t> next;
  std::vector<std::size_t> delivered;
  std::vector<std::string> log;
  auto deliver = [&](std::size_t index, const char* why) {
    const Event e = model::upcasted(domain, history[index]);
    const bool ran = model::apply_event(state, handler, dedup, e);
    log.push_back(fmt::format("{} {}{}", why, model::describe(e), ran ? "" : " (skipped)"));
  };
  for (std::size_t step = 0; step < history.size(); ++step) {
    // The picked stream, or the next one with events left.
    std::size_t s = picks[step] % names.size();
    while (next[names[s]] >= streams[names[s]].size()) s = (s + 1) % names.size();
    const std::size_t index = streams[names[s]][next[names[s]]++];
    deliver(index, "deliver");
    delivered.push_back(index);
    for (const std::size_t at : again) {
      if (at == step) deliver(delivered[(step * 7 + at) % delivered.size()], "again  ");
    }
    for (const std::size_t at : crashes) {
      if (at != step) continue;
      const std::size_t from = delivered.size() > unacked ? delivered.size() - unacked : 0;
      for (std::size_t i = from; i < delivered.size(); ++i) deliver(delivered[i], "crash, ");
    }
  }
  const model::ReadModel expected = apply_in_order(domain, handler, history);
  if (state.model != expected) {
    std::string schedule;
    for (const std::string& line : log) schedule += "  " + line + "\n";
    RC_FAIL(
        fmt::format("{} with dedup {}: the read model differs from one in-order application\n{}"
                    "schedule ({} events, {} deliveries):\n{}",
                    handler.name, model::to_string(dedup), show_difference(expected, state.model),
                    history.size(), log.size(), schedule));
  }
}

}  // namespace essim::properties
