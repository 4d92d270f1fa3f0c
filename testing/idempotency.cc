#include "testing/idempotency.h"

#include <algorithm>
#include <chrono>
#include <map>
#include <string_view>
#include <unordered_map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidcheck.h>
#include <rapidcheck/detail/Configuration.h>

#include "model/user_code.h"
#include "sim/assert.h"

namespace essim::fuzzing {

using model::Event;

namespace {

using Clock = std::chrono::steady_clock;  // the tool's own time, never a simulation's

}  // namespace

std::vector<Event> decided_history(const model::Domain& domain, std::uint64_t seed,
                                   std::size_t works, const std::vector<model::WorkWeight>& mix) {
  const std::vector<model::WorkWeight> weights = mix.empty() ? domain.mix() : mix;
  sim::Rng rng(seed);
  std::map<std::string, std::pair<std::unique_ptr<model::AggregateState>, std::uint64_t>>
      aggregates;
  std::vector<Event> history;
  for (std::size_t i = 0; i < works; ++i) {
    const model::WorkWeight* drawn = model::draw_weighted(weights, rng);
    ESSIM_ASSERT(drawn != nullptr);
    const std::string& kind = drawn->kind;
    sim::Rng generator(rng.next());
    const model::Work work = model::call_generate(domain, kind, generator);
    // Decides one command on its aggregate; false when the domain refuses it.
    // `outcome` (optional) gets the events it appended.
    auto run = [&](const model::Command& c, model::StepOutcome* outcome = nullptr) {
      auto& [state, version] = aggregates[c.stream];
      if (!state) state = model::call_initial(domain);
      auto decided = model::call_decide(domain, *state, c);
      if (!decided.ok()) return false;  // a refused command leaves no event, as in a real run
      if (outcome != nullptr) outcome->events = decided.value();
      for (const model::NewEvent& n : decided.value()) {
        Event e;
        e.id = model::random_id(rng);
        e.stream = c.stream;
        e.version = ++version;
        e.position = history.size() + 1;
        e.type = n.type;
        e.schema_version = n.schema_version;
        e.payload = n.payload;
        model::call_evolve(domain, *state, model::upcasted(domain, e));
        history.push_back(std::move(e));
      }
      return true;
    };
    if (const auto* c = std::get_if<model::Command>(&work)) {
      (void)run(*c);
      continue;
    }
    // A saga as the clients run it: a failed step undoes the steps before it,
    // and once the listed steps are done the domain may plan another from
    // what they appended.
    model::Saga saga = std::get<model::Saga>(work);
    std::vector<model::StepOutcome> done;
    for (std::size_t s = 0; s < saga.steps.size(); ++s) {
      model::StepOutcome outcome;
      if (run(saga.steps[s].action, &outcome)) {
        done.push_back(std::move(outcome));
        if (s + 1 == saga.steps.size() && saga.steps.size() < model::kSagaStepsMax) {
          if (auto next = model::call_next_step(domain, saga, done)) saga.steps.push_back(*next);
        }
        continue;
      }
      for (std::size_t back = s; back-- > 0;) {
        if (saga.steps[back].compensation) (void)run(*saga.steps[back].compensation);
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
  for (const Event& e : history) model::call_handler(handler, m, model::upcasted(domain, e));
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

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Counts RapidCheck's cases and shrinks and notes when the first case failed.
class Listener final : public rc::detail::TestListener {
 public:
  explicit Listener(FuzzStats& stats) : stats_(stats) {}
  void onTestCaseFinished(const rc::detail::CaseDescription& d) override {
    if (d.result.type == rc::detail::CaseResult::Type::Discard) {
      ++stats_.discarded;
      return;
    }
    ++stats_.runs;
    if (d.result.type == rc::detail::CaseResult::Type::Failure) found_at_ = Clock::now();
  }
  void onShrinkTried(const rc::detail::CaseDescription& /*shrink*/, bool accepted) override {
    ++stats_.shrinks_tried;
    if (accepted) ++stats_.shrinks_taken;
  }
  void onTestFinished(const rc::detail::TestMetadata& /*metadata*/,
                      const rc::detail::TestResult& /*result*/) override {}
  std::optional<Clock::time_point> found_at() const { return found_at_; }

 private:
  FuzzStats& stats_;
  std::optional<Clock::time_point> found_at_;
};

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

// "reproduce=..." as RC_PARAMS takes it.
std::string reproduce_param(const std::string& id, const rc::detail::Reproduce& reproduce) {
  rc::detail::Configuration config;
  config.reproduce.emplace(id, reproduce);
  // The minimal string always names a seed as well; only reproduce= is wanted.
  const std::string all = rc::detail::configToMinimalString(config);
  const std::size_t from = all.find("reproduce=");
  ESSIM_ASSERT(from != std::string::npos);
  return all.substr(from, all.find(' ', from) - from);
}

// The reproduce map in `rc_params`, or why it cannot be used for `id`.
sim::Result<std::unordered_map<std::string, rc::detail::Reproduce>> read_reproduce(
    const std::string& rc_params, const std::string& id) {
  if (rc_params.empty()) return std::unordered_map<std::string, rc::detail::Reproduce>{};
  std::unordered_map<std::string, rc::detail::Reproduce> reproduce;
  try {
    reproduce = rc::detail::configFromString(rc_params).reproduce;
  } catch (const rc::detail::ConfigurationException& e) {
    return sim::Error{fmt::format("RC_PARAMS cannot be read: {}", e.what())};
  }
  if (reproduce.empty() || reproduce.contains(id)) return reproduce;
  std::vector<std::string> ids;
  for (const auto& [other, r] : reproduce) ids.push_back("'" + other + "'");
  std::sort(ids.begin(), ids.end());
  return sim::Error{fmt::format(
      "RC_PARAMS' reproduce= was recorded for {}, not for '{}': run it with those settings",
      fmt::join(ids, ", "), id)};
}

}  // namespace

FuzzOutcome fuzz(const model::Domain& domain, const model::ProjectionHandler& handler,
                 const FuzzSettings& settings, const FuzzRun& run) {
  ESSIM_ASSERT(run.runs >= 1);
  FuzzOutcome out;
  const std::string id = property_id(domain, handler, settings);
  const auto reproduce = read_reproduce(run.rc_params, id);
  if (!reproduce.ok()) {
    out.kind = FuzzOutcome::Kind::kBadParams;
    out.message = reproduce.error().message;
    return out;
  }
  FuzzTally tally;
  Listener listener(out.stats);
  rc::detail::TestParams params;
  params.seed = run.seed;
  params.maxSuccess = run.runs;
  const auto started = Clock::now();
  const rc::detail::TestResult result = rc::detail::checkProperty(
      rc::detail::toProperty([&] { check_idempotent(domain, handler, settings, &tally); }),
      rc::detail::TestMetadata{id, id}, params, listener, reproduce.value());
  const auto finished = Clock::now();
  out.stats.deliveries = tally.deliveries;
  out.stats.seconds = seconds(finished - started);
  const auto found_at = listener.found_at().value_or(finished);
  out.stats.seconds_to_find = seconds(found_at - started);
  out.stats.seconds_to_shrink = seconds(finished - found_at);

  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up;
  rc::detail::Error error;
  if (result.match(failure)) {
    // A failure with no counterexample is an exception of essim's own.
    if (!tally.failure) throw std::runtime_error(failure.description);
    out.kind = FuzzOutcome::Kind::kFailed;
    out.counterexample = std::move(tally.failure);
    out.reproduce = reproduce_param(id, failure.reproduce);
  } else if (result.match(gave_up)) {
    out.kind = FuzzOutcome::Kind::kGaveUp;
    out.message = fmt::format(
        "{} of {} cases had no event (the domain refused every command drawn): the mix or the "
        "works per history leave too little to decide",
        out.stats.discarded, out.stats.discarded + out.stats.runs);
  } else if (result.match(error)) {
    if (reproduce.value().empty()) throw std::runtime_error(error.description);
    out.kind = FuzzOutcome::Kind::kNotReproduced;
    // RapidCheck's two reasons: the case passes, or its shrink path leads nowhere.
    out.message = error.description.find("not a failure") != std::string::npos
                      ? "the case RC_PARAMS names passes now (fixed?)"
                      : "the shrink path RC_PARAMS names leads to no case now (the domain's "
                        "generation changed?)";
  }
  return out;
}

}  // namespace essim::fuzzing
