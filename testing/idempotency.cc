#include "testing/idempotency.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidcheck.h>

#include "model/user_code.h"
#include "sim/assert.h"
#include "testing/fuzz_case.h"
#include "testing/history.h"

namespace essim::fuzzing {

using model::Event;

std::vector<Event> decided_history(const model::Domain& domain, std::uint64_t seed,
                                   std::size_t works, const std::vector<model::WorkWeight>& mix) {
  ESSIM_ASSERT(works <= UINT32_MAX);
  // The works' seeds as draw_case's cases carry them, one per work.
  FuzzCase c;
  sim::Rng rng(seed);
  for (std::uint32_t tag = 0; tag < works; ++tag) c.works.push_back({rng.next(), tag});
  HistoryBuilder builder(domain);
  DecidedCase decided;
  decide_case(builder, mix.empty() ? domain.mix() : mix, c, decided);
  return std::move(decided.history);
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

// The first `shown` deliveries, one line each.
std::vector<std::string> show_schedule(const model::Domain& domain,
                                       const std::vector<Event>& history,
                                       const std::vector<Delivery>& log, std::size_t shown) {
  std::vector<std::string> lines;
  for (std::size_t i = 0; i < shown; ++i) {
    const Delivery& d = log[i];
    const std::string_view why = d.why == Why::kDeliver ? "deliver"
                                 : d.why == Why::kAgain ? "again"
                                                        : "after crash";
    lines.push_back(fmt::format("{:<11} {}{}", why, show_event(domain, history[d.event]),
                                d.ran ? "" : " (skipped)"));
  }
  return lines;
}

[[noreturn]] void fail_with(FuzzTally* tally, Counterexample counterexample) {
  std::string text = describe(counterexample);
  if (tally != nullptr) tally->failure = std::move(counterexample);
  throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Failure, std::move(text));
}

// One property over many cases: the case generator, the buffers every case
// reuses, and what is known of the last history decided. Shrinking tries many
// schedules over one history: it is decided, applied once in order and
// compared with the reference once, not per case.
class IdempotencyCheck {
 public:
  // `described`: whether each failure is described as it happens (a
  // property in a user's test, which RapidCheck reports), or only the last
  // one, on describe_last() (`essim fuzz`, which prints the shrunk case
  // alone; describing costs more than checking).
  IdempotencyCheck(const model::Domain& domain, const model::ProjectionHandler& handler,
                   const FuzzSettings& settings, bool described);

  // The property body: draws a case and checks it. When each failure is
  // described, a failure throws RapidCheck's CaseResult with the description.
  CaseVerdict run(FuzzTally* tally) { return check(*cases_, tally); }
  CaseVerdict check(const FuzzCase& c, FuzzTally* tally);
  // Whether a case failed.
  bool failed() const { return last_failure_.has_value(); }
  // Sets tally.failure to the last failing case, described.
  void describe_last(FuzzTally& tally);

 private:
  // Of the last history decided: the read model of one in-order
  // application, and how the reference's differs from it (empty: equal).
  const model::ReadModel& in_order();
  const std::vector<std::string>& reference_difference();
  // What fail() shows beside the history and the schedule planned last.
  enum class Difference : std::uint8_t { kNone, kInOrder, kReference };
  struct Failed {
    std::uint64_t delivered;  // by every schedule of the case
    std::size_t shown;        // the deliveries of the schedule planned last to show
    Difference difference;
  };
  CaseVerdict fail(FuzzTally* tally, const FuzzCase& c, std::string verdict, const Failed& failed);

  const model::Domain& domain_;
  const model::ProjectionHandler& handler_;
  const model::Dedup dedup_;
  const std::string name_;  // "bank.balances with dedup none"
  bool described_;
  std::shared_ptr<DecidedCases> histories_;  // shared with the cases' shrinking
  rc::Gen<FuzzCase> cases_;
  const DecidedCase* decided_ = nullptr;  // the history of the case being checked
  std::uint64_t known_generation_ = 0;    // the history in_order_ and reference_difference_ are of
  std::optional<model::ReadModel> in_order_;
  std::optional<std::vector<std::string>> reference_difference_;
  DeliveryPlan plan_;
  model::ProjectionState state_;
  std::optional<FuzzCase> last_failure_;
};

IdempotencyCheck::IdempotencyCheck(const model::Domain& domain,
                                   const model::ProjectionHandler& handler,
                                   const FuzzSettings& settings, bool described)
    : domain_(domain),
      handler_(handler),
      dedup_(settings.dedup),
      name_(fmt::format("{} with dedup {}", qualified_name(domain, handler),
                        model::to_string(settings.dedup))),
      described_(described),
      histories_(std::make_shared<DecidedCases>(
          domain, settings.mix.empty() ? domain.mix() : settings.mix)),
      cases_(fuzz_cases(histories_, settings.works_max)) {
  ESSIM_ASSERT(settings.works_max >= 1);
  ESSIM_ASSERT(settings.works_max <= kWorksMaxLimit);
}

const model::ReadModel& IdempotencyCheck::in_order() {
  ESSIM_ASSERT(decided_ != nullptr);
  if (known_generation_ != histories_->generation()) {
    in_order_.reset();
    reference_difference_.reset();
    known_generation_ = histories_->generation();
  }
  if (!in_order_) {
    model::ReadModel m;
    model::call_handler_all(handler_, m, decided_->log);
    in_order_ = std::move(m);
  }
  return *in_order_;
}

const std::vector<std::string>& IdempotencyCheck::reference_difference() {
  ESSIM_ASSERT(handler_.reference);
  const model::ReadModel& once = in_order();  // first: it drops what is stale
  if (!reference_difference_) {
    // The independent oracle: what one in-order application should arrive at.
    const model::ReadModel reference = model::call_reference(handler_, decided_->log);
    reference_difference_ =
        reference == once ? std::vector<std::string>() : show_difference(reference, once);
  }
  return *reference_difference_;
}

CaseVerdict IdempotencyCheck::check(const FuzzCase& c, FuzzTally* tally) {
  decided_ = nullptr;
  try {
    decided_ = &histories_->decide(c);
  } catch (const model::UserCodeError& e) {
    return fail(tally, c, fmt::format("{}: {}", name_, model::describe(e.failure())),
                {0, 0, Difference::kNone});
  }
  if (decided_->history.empty()) return CaseVerdict::kDiscarded;
  std::uint64_t delivered = 0;  // by every schedule, a throwing delivery included
  std::size_t shown = 0;        // of the schedule planned last, the deliveries made
  try {
    for (std::size_t schedule = 0; schedule < c.schedules.size(); ++schedule) {
      plan_.plan(c, schedule, *decided_);
      state_ = model::ProjectionState();
      shown = 0;
      for (Delivery& delivery : plan_.deliveries()) {
        ++delivered;
        ++shown;
        delivery.ran = true;  // stays when the handler throws
        delivery.ran = model::apply_event(state_, handler_, dedup_, decided_->log[delivery.event]);
      }
      if (state_.model != in_order()) {
        return fail(tally, c, name_ + ": the read model differs from one in-order application",
                    {delivered, shown, Difference::kInOrder});
      }
    }
    if (!handler_.reference || reference_difference().empty()) {
      if (tally != nullptr) tally->deliveries += delivered;
      return CaseVerdict::kPassed;
    }
    return fail(tally, c,
                name_ + ": the read model differs from the handler's reference projection",
                {delivered, shown, Difference::kReference});
  } catch (const model::UserCodeError& e) {
    return fail(tally, c, fmt::format("{}: {}", name_, model::describe(e.failure())),
                {delivered, shown, Difference::kNone});
  }
}

CaseVerdict IdempotencyCheck::fail(FuzzTally* tally, const FuzzCase& c, std::string verdict,
                                   const Failed& failed) {
  if (tally != nullptr) tally->deliveries += failed.delivered;
  last_failure_ = c;
  if (!described_) return CaseVerdict::kFailed;
  Counterexample found;
  found.verdict = std::move(verdict);
  found.works = c.works.size();
  if (failed.difference == Difference::kInOrder) {
    found.difference = show_difference(*in_order_, state_.model);
  } else if (failed.difference == Difference::kReference) {
    found.difference = *reference_difference_;
    found.against_reference = true;
  }
  if (decided_ != nullptr) {
    for (const Event& e : decided_->history) found.history.push_back(show_event(domain_, e));
    found.schedule = show_schedule(domain_, decided_->history, plan_.deliveries(), failed.shown);
  }
  fail_with(tally, std::move(found));
}

void IdempotencyCheck::describe_last(FuzzTally& tally) {
  ESSIM_ASSERT(last_failure_.has_value());
  const FuzzCase c = *last_failure_;
  FuzzTally again;
  described_ = true;
  try {
    (void)check(c, &again);
  } catch (const rc::detail::CaseResult&) {
    // The description of a failure, as expected.
  }
  if (!again.failure) {
    Counterexample passed;
    passed.verdict = name_ +
                     ": a case failed, then passed when checked again: the handler or the "
                     "domain is not deterministic";
    passed.works = c.works.size();
    again.failure = std::move(passed);
  }
  tally.failure = std::move(again.failure);
}

}  // namespace

std::optional<Counterexample> check_case(const model::Domain& domain,
                                         const model::ProjectionHandler& handler,
                                         const FuzzSettings& settings, const FuzzCase& c) {
  IdempotencyCheck check(domain, handler, settings, true);
  FuzzTally tally;
  try {
    (void)check.check(c, &tally);
  } catch (const rc::detail::CaseResult&) {
    // A failure, described in the tally.
  }
  return std::move(tally.failure);
}

void check_idempotent(const model::Domain& domain, const model::ProjectionHandler& handler,
                      const FuzzSettings& settings, FuzzTally* tally) {
  if (IdempotencyCheck(domain, handler, settings, true).run(tally) == CaseVerdict::kDiscarded) {
    throw rc::detail::CaseResult(rc::detail::CaseResult::Type::Discard,
                                 "the domain refused every command of the history");
  }
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
  IdempotencyCheck check(domain, handler, settings, false);
  SearchOutcome found = search(
      property_id(domain, handler, settings), run, [&] { return check.run(&tally); },
      [&] { return check.failed(); },
      "had no event (the domain refused every command drawn): the mix or the works per history "
      "leave too little to decide");
  FuzzOutcome out;
  out.kind = found.verdict;
  out.reproduce = std::move(found.reproduce);
  out.message = std::move(found.message);
  out.stats = found.stats;
  out.stats.deliveries = tally.deliveries;
  if (out.kind == Verdict::kFailed) {
    // RapidCheck checks the shrunk case last: it is the last failure.
    check.describe_last(tally);
    out.counterexample = std::move(tally.failure);
  }
  return out;
}

}  // namespace essim::fuzzing
