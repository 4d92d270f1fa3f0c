#include "testing/domain_fuzz.h"

#include <algorithm>
#include <map>
#include <memory>
#include <string_view>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidcheck.h>

#include "model/user_code.h"
#include "properties/schema_evolution.h"
#include "sim/assert.h"
#include "testing/history.h"

namespace essim::fuzzing {

using model::Event;

namespace {

// Snapshots taken at most at this many points of one stream: evolving on
// from each costs the stream's length again.
constexpr std::size_t kSnapshotPointsMax = 64;

struct Finding {
  std::string property;
  std::string summary;
  std::vector<std::string> evidence{};
};

std::string show(const model::Domain& domain, const Event& e) {
  std::string payload;
  try {
    payload = model::call_describe_payload(domain, e);
  } catch (const model::UserCodeError& error) {
    payload = fmt::format("<{}>", model::describe(error.failure()));
  }
  return payload.empty() ? model::describe(e) : fmt::format("{}: {}", model::describe(e), payload);
}

std::string show_state(const model::AggregateState& state) {
  return model::call_user([] { return std::string("describing a state"); },
                          [&] { return state.describe(); });
}

void add_lines(std::vector<std::string>& out, const std::string& text) {
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    out.push_back(text.substr(at, end - at));
    at = end + 1;
  }
}

// One generated case: its history (upcast) and decisions, and the checks over them.
class Case {
 public:
  Case(const model::Domain& domain, const std::vector<model::ProjectionHandler>& handlers,
       const std::vector<Event>& history, const std::vector<Decision>& decisions)
      : domain_(domain), handlers_(handlers), decisions_(decisions) {
    latest_.reserve(history.size());
    for (const Event& e : history) latest_.push_back(model::upcasted(domain, e));
    for (std::size_t i = 0; i < latest_.size(); ++i) streams_[latest_[i].stream].push_back(i);
    for (const Decision& d : decisions) by_stream_[d.command.stream].emplace(d.version, &d.command);
  }

  std::optional<Finding> check() {
    // Snapshots and replays first: a state that does not survive them
    // explains any decision or rule that follows from it.
    for (auto step : {&Case::exhaustive, &Case::snapshots, &Case::decision_model, &Case::log_rules,
                      &Case::read_models, &Case::schema_evolution}) {
      if (auto f = (this->*step)()) return f;
    }
    return std::nullopt;
  }

 private:
  std::optional<Finding> exhaustive() {
    const std::vector<model::EventCoverage> coverage = model::declared_coverage(domain_, handlers_);
    const model::KnownEvents known(domain_);
    for (const Event& e : latest_) {
      if (!known.knows(e.type)) continue;
      for (const model::EventCoverage& consumer : coverage) {
        if (consumer.covers(e.type)) continue;
        Finding f{"handlers_exhaustive",
                  fmt::format("{} reached {}, which neither handles nor ignores it", e.type,
                              consumer.consumer)};
        f.evidence.push_back("event: " + show(domain_, e));
        f.evidence.push_back(fmt::format("it handles: {}", fmt::join(consumer.handles, ", ")));
        if (!consumer.ignores.empty())
          f.evidence.push_back(fmt::format("it ignores: {}", fmt::join(consumer.ignores, ", ")));
        return f;
      }
    }
    return std::nullopt;
  }

  std::optional<Finding> decision_model() {
    const std::optional<model::DecisionModel> m = model::call_decision_model(domain_);
    if (!m) return std::nullopt;
    std::map<std::string, Value> states;
    for (const Decision& d : decisions_) {
      if (!m->kinds.empty() &&
          std::find(m->kinds.begin(), m->kinds.end(), d.command.kind) == m->kinds.end())
        continue;
      Value& state = states[d.command.stream];
      const bool accepts = model::call_model_accepts(*m, state, d.command, &domain_);
      if (accepts != d.accepted) {
        Finding f{"decisions_match_model",
                  fmt::format("{}: {} was {} at version {}, but the model {} it", d.command.stream,
                              model::describe_command(d.command, &domain_),
                              d.accepted ? "accepted" : "refused (" + d.refusal + ")", d.version,
                              accepts ? "accepts" : "refuses")};
        f.evidence.push_back("model state: " + state.to_json());
        if (auto s = state_at(d.command.stream, d.version))
          f.evidence.push_back("aggregate state: " + show_state(*s));
        return f;
      }
      if (d.accepted && d.events > 0) model::call_model_apply(*m, state, d.command, &domain_);
    }
    return std::nullopt;
  }

  std::optional<Finding> log_rules() {
    for (const model::LogInvariant& rule : domain_.log_invariants()) {
      Value memory;
      for (const Event& e : latest_) {
        const std::string broken = model::call_log_step(rule, memory, e);
        if (broken.empty()) continue;
        return Finding{rule.name, broken, {"at: " + show(domain_, e)}};
      }
      if (!rule.at_end) continue;
      const std::string broken = model::call_log_end(rule, memory);
      if (!broken.empty()) return Finding{rule.name, broken + " (at the end)"};
    }
    return std::nullopt;
  }

  std::optional<Finding> read_models() {
    const std::vector<model::ReadModelInvariant> rules = domain_.read_model_invariants();
    for (const model::ProjectionHandler& h : handlers_) {
      ReadModel m;
      const bool per_event = std::any_of(rules.begin(), rules.end(), [&](const auto& rule) {
        return rule.handler == h.name && rule.at_checkpoints;
      });
      if (per_event) {
        if (auto f = apply_checking(h, rules, m)) return f;
      } else {
        model::call_handler_all(h, m, latest_);
      }
      for (const model::ReadModelInvariant& rule : rules) {
        if (rule.handler != h.name || rule.at_checkpoints) continue;
        const std::string broken = model::call_read_model_check(rule, m);
        if (!broken.empty())
          return Finding{rule.name, fmt::format("{} (final read model): {}", h.name, broken)};
      }
      if (!h.reference) continue;
      const ReadModel reference = model::call_reference(h, latest_);
      if (reference == m) continue;
      Finding f{"replay_matches_projection",
                fmt::format("handler {} differs from its reference projection (expected: the "
                            "reference; got: the handler in order)",
                            h.name)};
      add_lines(f.evidence, describe_difference(reference, m, 6));
      return f;
    }
    return std::nullopt;
  }

  // `h` over the history event by event, its read-model rules checked after each.
  std::optional<Finding> apply_checking(const model::ProjectionHandler& h,
                                        const std::vector<model::ReadModelInvariant>& rules,
                                        ReadModel& m) {
    for (const Event& e : latest_) {
      model::call_handler(h, m, e);
      for (const model::ReadModelInvariant& rule : rules) {
        if (rule.handler != h.name || !rule.at_checkpoints) continue;
        const std::string broken = model::call_read_model_check(rule, m);
        if (!broken.empty())
          return Finding{
              rule.name, fmt::format("{}: {}", h.name, broken), {"after: " + show(domain_, e)}};
      }
    }
    return std::nullopt;
  }

  // The state of `stream` after its first `version` events, folded afresh.
  std::unique_ptr<model::AggregateState> state_at(const std::string& stream,
                                                  std::uint64_t version) {
    auto state = model::call_initial(domain_);
    const auto it = streams_.find(stream);
    if (it == streams_.end()) return state;
    for (std::size_t i = 0; i < version && i < it->second.size(); ++i)
      model::call_evolve(domain_, *state, latest_[it->second[i]]);
    return state;
  }

  std::optional<Finding> snapshots() {
    for (const auto& [stream, indexes] : streams_) {
      const std::size_t n = indexes.size();
      // The stream replayed twice: evolve must be a function of state and event.
      const auto once = state_at(stream, n);
      const auto again = state_at(stream, n);
      if (!once->equals(*again)) {
        return Finding{
            "evolve_deterministic",
            fmt::format("{}: replaying the stream again gives another state", stream),
            {"first replay: " + show_state(*once), "second replay: " + show_state(*again),
             "evolve keeps something besides the state (a static, a global)?"}};
      }
      const std::size_t every = n / kSnapshotPointsMax + 1;
      auto prefix = model::call_initial(domain_);
      for (std::size_t k = 0; k <= n; ++k) {
        if (k > 0) model::call_evolve(domain_, *prefix, latest_[indexes[k - 1]]);
        if (k % every != 0 && k != n) continue;
        if (auto f = snapshot_at(stream, indexes, k, *prefix, *once)) return f;
      }
    }
    return std::nullopt;
  }

  // A snapshot of `stream` after its first k events (`prefix`).
  std::optional<Finding> snapshot_at(const std::string& stream,
                                     const std::vector<std::size_t>& indexes, std::size_t k,
                                     const model::AggregateState& prefix,
                                     const model::AggregateState& replayed) {
    Bytes bytes;
    model::call_user(
        [&] { return fmt::format("encoding the state of {} at version {}", stream, k); },
        [&] { prefix.encode(bytes); });
    auto decoded = model::call_decode_state(domain_, bytes, stream);
    const std::string where = fmt::format("{}: the snapshot at version {}", stream, k);
    if (!decoded.ok()) {
      return Finding{"snapshot_equivalence",
                     where + " does not decode",
                     {decoded.error().message, "state: " + show_state(prefix)}};
    }
    model::AggregateState& snapshot = *decoded.value();
    if (!snapshot.equals(prefix)) {
      return Finding{"snapshot_equivalence",
                     where + " decodes to another state",
                     {"state:   " + show_state(prefix), "decoded: " + show_state(snapshot),
                      fmt::format("snapshot: {} bytes", bytes.size())}};
    }
    // The same decisions on it (an equals() that misses a field misses nothing here).
    const auto decided = by_stream_.find(stream);
    if (decided != by_stream_.end()) {
      const auto [from, to] = decided->second.equal_range(k);
      for (auto c = from; c != to; ++c) {
        const auto on_state = model::call_decide(domain_, prefix, *c->second);
        const auto on_snapshot = model::call_decide(domain_, snapshot, *c->second);
        if (properties::same_decision(on_state, on_snapshot)) continue;
        return Finding{
            "snapshot_equivalence",
            where + " decides " + c->second->kind + " otherwise",
            {"command: " + model::describe_command(*c->second, &domain_),
             "on the state: " + (on_state.ok() ? "accepted" : on_state.error().message),
             "on the snapshot: " + (on_snapshot.ok() ? "accepted" : on_snapshot.error().message)}};
      }
    }
    for (std::size_t i = k; i < indexes.size(); ++i)
      model::call_evolve(domain_, snapshot, latest_[indexes[i]]);
    if (snapshot.equals(replayed)) return std::nullopt;
    return Finding{"snapshot_equivalence",
                   where + ", evolved on to the end, differs from replaying the stream",
                   {"replayed:           " + show_state(replayed),
                    "from the snapshot:  " + show_state(snapshot)}};
  }

  std::optional<Finding> schema_evolution() {
    auto d = properties::schema_evolution_difference(domain_, latest_, handlers_, by_stream_);
    if (!d) return std::nullopt;
    return Finding{"upcast_equivalence", d->summary, d->evidence};
  }

  const model::Domain& domain_;
  const std::vector<model::ProjectionHandler>& handlers_;
  const std::vector<Decision>& decisions_;
  std::vector<Event> latest_;
  std::map<std::string, std::vector<std::size_t>> streams_;  // indexes into latest_
  properties::DecisionsByStream by_stream_;
};

std::vector<std::string> show_decisions(const model::Domain& domain,
                                        const std::vector<Event>& history,
                                        const std::vector<Decision>& decisions) {
  std::vector<std::string> lines;
  for (const Decision& d : decisions) {
    lines.push_back(fmt::format(
        "work {}: {} on {} at v{}: {}", d.work + 1, d.command.kind, d.command.stream, d.version,
        d.accepted ? fmt::format("accepted, {} event(s)", d.events) : "refused: " + d.refusal));
    for (std::size_t i = d.first_event; i < d.first_event + d.events && i < history.size(); ++i)
      lines.push_back("  + " + show(domain, model::upcasted(domain, history[i])));
  }
  return lines;
}

void check_case(const model::Domain& domain, const std::vector<model::ProjectionHandler>& handlers,
                const DomainSettings& settings, DomainTally* tally) {
  const std::vector<model::WorkWeight> mix = settings.mix.empty() ? domain.mix() : settings.mix;
  auto seeds = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint64_t>>(
                                      rc::gen::resize(100, rc::gen::arbitrary<std::uint64_t>())))
                    .as("work seeds");
  if (seeds.size() > settings.works_max) seeds.resize(settings.works_max);

  HistoryBuilder builder(domain);
  std::optional<Finding> found;
  const std::vector<model::Invariant> invariants = domain.invariants();
  builder.on_event = [&](const model::AggregateState& state, const Event& e) {
    if (found) return;
    for (const model::Invariant& rule : invariants) {
      if (!e.stream.starts_with(rule.stream_prefix) || model::call_holds(rule, state, e)) continue;
      found = Finding{
          rule.name,
          fmt::format("{}: {} does not hold", e.stream, rule.description),
          {"after: " + show(domain, model::upcasted(domain, e)), "state: " + show_state(state)}};
      return;
    }
  };
  try {
    for (const std::uint64_t seed : seeds) {
      sim::Rng rng(seed);
      builder.add_work(mix, rng);
      if (found) break;
    }
    if (!found) found = Case(domain, handlers, builder.history(), builder.decisions()).check();
  } catch (const model::UserCodeError& e) {
    found = Finding{"user_code_does_not_throw", model::describe(e.failure())};
  }
  if (tally != nullptr) tally->events += builder.history().size();
  if (!found && builder.history().empty()) {
    throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Discard,
                                 "the domain refused every command of the sequence");
  }
  if (!found) return;
  DomainCounterexample c;
  c.property = found->property;
  c.verdict = fmt::format("{}: {}: {}", domain.name(), found->property, found->summary);
  c.evidence = std::move(found->evidence);
  c.works = builder.works();
  c.decisions = show_decisions(domain, builder.history(), builder.decisions());
  std::string text = describe(c);
  if (tally != nullptr) tally->failure = std::move(c);
  throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Failure, std::move(text));
}

std::vector<model::ProjectionHandler> handlers_of(const model::Domain& domain) {
  return model::call_user([] { return std::string("listing the projection handlers"); },
                          [&] { return domain.projections(); });
}

}  // namespace

std::string describe(const DomainCounterexample& c) {
  std::string out = c.verdict + "\n";
  for (const std::string& line : c.evidence) out += "  " + line + "\n";
  // Events are listed under their decisions, indented ("  + ...").
  const auto decisions =
      std::count_if(c.decisions.begin(), c.decisions.end(),
                    [](const std::string& line) { return !line.starts_with(" "); });
  out += fmt::format("decisions ({} from {} work{}, in order):\n", decisions, c.works,
                     c.works == 1 ? "" : "s");
  for (const std::string& line : c.decisions) out += "  " + line + "\n";
  return out;
}

void check_domain(const model::Domain& domain, const DomainSettings& settings, DomainTally* tally) {
  ESSIM_ASSERT(settings.works_max >= 1);
  ESSIM_ASSERT(settings.works_max <= kWorksMaxLimit);
  check_case(domain, handlers_of(domain), settings, tally);
}

DomainOutcome fuzz_domain(const model::Domain& domain, const DomainSettings& settings,
                          const FuzzRun& run) {
  ESSIM_ASSERT(settings.works_max >= 1);
  ESSIM_ASSERT(settings.works_max <= kWorksMaxLimit);
  const std::vector<model::WorkWeight> mix = settings.mix.empty() ? domain.mix() : settings.mix;
  std::vector<std::string> weights;
  for (const model::WorkWeight& w : mix) weights.push_back(fmt::format("{}={}", w.kind, w.weight));
  const std::string id = fmt::format("{} --max-works {} --mix {}", domain.name(),
                                     settings.works_max, fmt::join(weights, ","));
  DomainTally tally;
  DomainOutcome out;
  std::vector<model::ProjectionHandler> handlers;
  try {
    handlers = handlers_of(domain);
  } catch (const model::UserCodeError& e) {
    out.kind = Verdict::kFailed;
    out.counterexample =
        DomainCounterexample{"user_code_does_not_throw",
                             fmt::format("{}: user_code_does_not_throw: {}", domain.name(),
                                         model::describe(e.failure())),
                             {},
                             0,
                             {}};
    return out;
  }
  SearchOutcome found = search(
      id, run,
      [&] {
        check_case(domain, handlers, settings, &tally);
        return CaseVerdict::kPassed;  // else it throws
      },
      [&] { return tally.failure.has_value(); },
      "had no event (the domain refused every command drawn): the mix or the works per sequence "
      "leave too little to decide");
  out.kind = found.verdict;
  out.reproduce = std::move(found.reproduce);
  out.message = std::move(found.message);
  out.stats = found.stats;
  out.stats.deliveries = tally.events;
  if (out.kind == Verdict::kFailed) out.counterexample = std::move(tally.failure);
  return out;
}

}  // namespace essim::fuzzing
