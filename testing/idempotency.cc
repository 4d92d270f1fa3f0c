#include "testing/idempotency.h"

#include <algorithm>
#include <map>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidcheck.h>

#include "model/user_code.h"
#include "sim/assert.h"
#include "testing/history.h"

namespace essim::fuzzing {

using model::Event;

std::vector<Event> decided_history(const model::Domain& domain, std::uint64_t seed,
                                   std::size_t works, const std::vector<model::WorkWeight>& mix) {
  const std::vector<model::WorkWeight> weights = mix.empty() ? domain.mix() : mix;
  sim::Rng rng(seed);
  HistoryBuilder builder(domain);
  for (std::size_t i = 0; i < works; ++i) builder.add_work(weights, rng);
  return builder.take_history();
}

model::ReadModel apply_in_order(const model::Domain& domain,
                                const model::ProjectionHandler& handler,
                                const std::vector<Event>& history) {
  std::vector<Event> log;
  log.reserve(history.size());
  for (const Event& e : history) log.push_back(model::upcasted(domain, e));
  model::ReadModel m;
  model::call_handler_all(handler, m, log);
  return m;
}

model::ReadModel apply_reference(const model::Domain& domain,
                                 const model::ProjectionHandler& handler,
                                 const std::vector<Event>& history) {
  std::vector<Event> log;
  log.reserve(history.size());
  for (const Event& e : history) log.push_back(model::upcasted(domain, e));
  return model::call_reference(handler, log);
}

namespace {
// "1 event", "2 events".
std::string count(std::size_t n, std::string_view one, std::string_view many) {
  return fmt::format("{} {}", n, n == 1 ? one : many);
}
}  // namespace

std::string describe(const Counterexample& c) {
  std::string out = c.verdict + "\n";
  auto section = [&](std::string_view heading, const std::vector<std::string>& lines) {
    if (lines.empty()) return;
    out += fmt::format("{}:\n", heading);
    for (const std::string& line : lines) out += "  " + line + "\n";
  };
  section(fmt::format("history ({} from {}, in order)", count(c.history.size(), "event", "events"),
                      count(c.works, "work", "works")),
          c.history);
  section(fmt::format("schedule ({})", count(c.schedule.size(), "delivery", "deliveries")),
          c.schedule);
  section(c.against_reference
              ? "read model (expected: the reference projection; got: the handler once in order)"
              : "read model (expected: once in order; got: this schedule)",
          c.difference);
  return out;
}

namespace {

std::string qualified_name(const model::Domain& domain, const model::ProjectionHandler& handler) {
  return domain.name() + "." + handler.name;
}

// `stream@version (#position) type vN: payload`, the payload as the domain
// reads it; without `: payload` when the domain says nothing of it.
std::string show_event(const model::Domain& domain, const Event& event) {
  std::string payload;
  try {
    payload = model::call_describe_payload(domain, model::upcasted(domain, event));
  } catch (const model::UserCodeError& e) {
    payload = fmt::format("<{}>", model::describe(e.failure()));
  }
  return payload.empty() ? model::describe(event)
                         : fmt::format("{}: {}", model::describe(event), payload);
}

// The read-model paths where the two part, one line each (expected: once in
// order; got: this schedule).
std::vector<std::string> show_difference(const model::ReadModel& expected,
                                         const model::ReadModel& actual) {
  const std::string difference = describe_difference(expected, actual, 10);
  std::vector<std::string> lines;
  for (std::size_t at = 0; at < difference.size();) {
    const std::size_t end = std::min(difference.find('\n', at), difference.size());
    lines.push_back(difference.substr(at, end - at));
    at = end + 1;
  }
  return lines;
}

// The schedule a case drew: which stream delivers next; after which
// deliveries an old event comes again; after which ones the worker crashes
// (and the bus redelivers what it had not yet had acknowledged).
struct Schedule {
  std::vector<std::size_t> picks;
  std::vector<std::size_t> again;
  std::vector<std::size_t> crashes;
  std::size_t unacked = 1;
};

Schedule draw_schedule(std::size_t events, std::size_t streams) {
  Schedule s;
  s.picks = *rc::gen::container<std::vector<std::size_t>>(events,
                                                          rc::gen::inRange<std::size_t>(0, streams))
                 .as("stream picks");
  s.again = *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, events))
                 .as("redeliveries (after delivery #)");
  s.crashes =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, events))
           .as("crashes (after delivery #)");
  s.unacked = *rc::gen::inRange<std::size_t>(1, 4).as("deliveries not yet acknowledged at a crash");
  return s;
}

enum class Why : std::uint8_t { kDeliver, kAgain, kAfterCrash };

struct Delivery {
  std::size_t index;  // into the history
  Why why;
  bool ran;  // false: the dedup strategy skipped it
};

// Delivers `history` on `schedule`, recording each delivery in `log`. Throws
// UserCodeError when the handler (or an upcaster) throws.
model::ReadModel deliver(const model::Domain& domain, const model::ProjectionHandler& handler,
                         model::Dedup dedup, const std::vector<Event>& history,
                         const std::map<std::string, std::vector<std::size_t>>& streams,
                         const Schedule& schedule, std::vector<Delivery>& log) {
  std::vector<const std::vector<std::size_t>*> order;  // per stream, its events in version order
  for (const auto& [name, list] : streams) order.push_back(&list);
  std::vector<std::size_t> next(order.size(), 0);
  model::ProjectionState state;
  std::vector<std::size_t> delivered;
  auto send = [&](std::size_t index, Why why) {
    log.push_back({index, why, false});
    log.back().ran =
        model::apply_event(state, handler, dedup, model::upcasted(domain, history[index]));
  };
  for (std::size_t step = 0; step < history.size(); ++step) {
    // The picked stream, or the next one with events left.
    std::size_t s = schedule.picks[step] % order.size();
    while (next[s] >= order[s]->size()) s = (s + 1) % order.size();
    const std::size_t index = (*order[s])[next[s]++];
    send(index, Why::kDeliver);
    delivered.push_back(index);
    for (const std::size_t at : schedule.again) {
      if (at == step) send(delivered[(step * 7 + at) % delivered.size()], Why::kAgain);
    }
    for (const std::size_t at : schedule.crashes) {
      if (at != step) continue;
      const std::size_t from =
          delivered.size() > schedule.unacked ? delivered.size() - schedule.unacked : 0;
      for (std::size_t i = from; i < delivered.size(); ++i) send(delivered[i], Why::kAfterCrash);
    }
  }
  return std::move(state.model);
}

std::vector<std::string> show_schedule(const model::Domain& domain,
                                       const std::vector<Event>& history,
                                       const std::vector<Delivery>& log) {
  std::vector<std::string> lines;
  for (const Delivery& d : log) {
    const std::string_view why = d.why == Why::kDeliver ? "deliver"
                                 : d.why == Why::kAgain ? "again"
                                                        : "after crash";
    lines.push_back(fmt::format("{:<11} {}{}", why, show_event(domain, history[d.index]),
                                d.ran ? "" : " (skipped)"));
  }
  return lines;
}

[[noreturn]] void fail(FuzzTally* tally, Counterexample counterexample) {
  std::string text = describe(counterexample);
  if (tally != nullptr) tally->failure = std::move(counterexample);
  throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Failure, std::move(text));
}

}  // namespace

void check_idempotent(const model::Domain& domain, const model::ProjectionHandler& handler,
                      const FuzzSettings& settings, FuzzTally* tally) {
  ESSIM_ASSERT(settings.works_max >= 1);
  ESSIM_ASSERT(settings.works_max <= kWorksMaxLimit);
  const std::string name = fmt::format("{} with dedup {}", qualified_name(domain, handler),
                                       model::to_string(settings.dedup));
  // Full-range seeds at every size: at RapidCheck's first sizes an arbitrary
  // integer is 0, and one seed would make every case of a short run (--runs 1)
  // the same, possibly empty, history.
  const auto seed = *rc::gen::resize(100, rc::gen::arbitrary<std::uint64_t>()).as("history seed");
  const auto works = *rc::gen::inRange<std::size_t>(1, settings.works_max + 1).as("pieces of work");
  std::vector<Event> history;
  try {
    history = decided_history(domain, seed, works, settings.mix);
  } catch (const model::UserCodeError& e) {
    Counterexample threw;
    threw.verdict = fmt::format("{}: {}", name, model::describe(e.failure()));
    threw.works = works;
    fail(tally, std::move(threw));
  }
  if (history.empty()) {
    throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Discard,
                                 "the domain refused every command of the history");
  }
  std::map<std::string, std::vector<std::size_t>> streams;
  for (std::size_t i = 0; i < history.size(); ++i) streams[history[i].stream].push_back(i);
  const Schedule schedule = draw_schedule(history.size(), streams.size());

  std::vector<Delivery> log;
  Counterexample found;
  found.works = works;
  try {
    const model::ReadModel actual =
        deliver(domain, handler, settings.dedup, history, streams, schedule, log);
    const model::ReadModel expected = apply_in_order(domain, handler, history);
    if (tally != nullptr) tally->deliveries += log.size();
    if (actual != expected) {
      found.verdict = name + ": the read model differs from one in-order application";
      found.difference = show_difference(expected, actual);
    } else if (!handler.reference) {
      return;
    } else {
      // The independent oracle: what one in-order application should arrive at.
      const model::ReadModel reference = apply_reference(domain, handler, history);
      if (reference == expected) return;
      found.verdict = name + ": the read model differs from the handler's reference projection";
      found.difference = show_difference(reference, expected);
      found.against_reference = true;
    }
  } catch (const model::UserCodeError& e) {
    if (tally != nullptr) tally->deliveries += log.size();
    found.verdict = fmt::format("{}: {}", name, model::describe(e.failure()));
  }
  for (const Event& e : history) found.history.push_back(show_event(domain, e));
  found.schedule = show_schedule(domain, history, log);
  fail(tally, std::move(found));
}

void check_idempotent(const model::Domain& domain, const model::ProjectionHandler& handler,
                      model::Dedup dedup) {
  FuzzSettings settings;
  settings.dedup = dedup;
  check_idempotent(domain, handler, settings);
}

namespace {

// The property's name, which RapidCheck binds a reproduce string to: the
// handler and every setting that changes what is generated or checked.
std::string property_id(const model::Domain& domain, const model::ProjectionHandler& handler,
                        const FuzzSettings& settings) {
  const std::vector<model::WorkWeight> mix = settings.mix.empty() ? domain.mix() : settings.mix;
  std::vector<std::string> weights;
  for (const model::WorkWeight& w : mix) weights.push_back(fmt::format("{}={}", w.kind, w.weight));
  return fmt::format("{} --dedup {} --max-works {} --mix {}", qualified_name(domain, handler),
                     model::to_string(settings.dedup), settings.works_max, fmt::join(weights, ","));
}

}  // namespace

FuzzOutcome fuzz(const model::Domain& domain, const model::ProjectionHandler& handler,
                 const FuzzSettings& settings, const FuzzRun& run) {
  FuzzTally tally;
  SearchOutcome found = search(
      property_id(domain, handler, settings), run,
      [&] { check_idempotent(domain, handler, settings, &tally); },
      [&] { return tally.failure.has_value(); },
      "had no event (the domain refused every command drawn): the mix or the works per history "
      "leave too little to decide");
  FuzzOutcome out;
  out.kind = found.verdict;
  out.reproduce = std::move(found.reproduce);
  out.message = std::move(found.message);
  out.stats = found.stats;
  out.stats.deliveries = tally.deliveries;
  if (out.kind == Verdict::kFailed) out.counterexample = std::move(tally.failure);
  return out;
}

}  // namespace essim::fuzzing
