#include "testing/fuzz_case.h"

#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <ostream>
#include <utility>

#include "model/user_code.h"
#include "sim/assert.h"
#include "sim/rng.h"

namespace essim::fuzzing {

namespace {

// A redelivery's event is drawn among this many places in its work
// (modulo the events the work decides): a bank transfer decides up to 6.
constexpr std::uint64_t kEventPlaces = 8;
// The earlier events a redelivery may move to in one shrink, at most.
constexpr std::uint32_t kRetargetMax = 32;
// A schedule draws 0 to 2 * kRedeliveriesPerWork * works redeliveries.
constexpr std::uint64_t kRedeliveriesPerWork = 4;

}  // namespace

void showValue(const FuzzCase& c, std::ostream& os) {
  os << c.works.size() << " works (seeds";
  for (const CaseWork& w : c.works) os << ' ' << w.seed;
  os << ")";
  for (const Schedule& s : c.schedules) {
    os << "; schedule (interleaving " << s.interleaving << ")";
    for (const Redelivery& r : s.redeliveries) {
      os << " {work " << r.tag << " event " << r.event << " delay " << r.delay << " unacked "
         << static_cast<int>(r.unacked) << '}';
    }
  }
}

namespace {

Schedule draw_schedule(sim::Rng& rng, std::uint64_t works) {
  Schedule s;
  // About kRedeliveriesPerWork per work, half of them soon after their event.
  const std::uint64_t redeliveries = rng.below(2 * kRedeliveriesPerWork * works + 1);
  s.redeliveries.reserve(redeliveries);
  for (std::uint64_t i = 0; i < redeliveries; ++i) {
    Redelivery r;
    r.tag = static_cast<std::uint32_t>(rng.below(works));
    r.event = static_cast<std::uint32_t>(rng.below(kEventPlaces));
    r.delay = static_cast<std::uint32_t>(rng.below(rng.below(2) == 0 ? 4 : 2 * works + 1));
    // A third are crashes.
    r.unacked = rng.below(3) == 0 ? static_cast<std::uint8_t>(1 + rng.below(kUnackedMax)) : 0;
    s.redeliveries.push_back(r);
  }
  s.interleaving = rng.next();
  return s;
}

}  // namespace

FuzzCase draw_case(std::uint64_t seed, std::size_t works_max) {
  ESSIM_ASSERT(works_max >= 1);
  ESSIM_ASSERT(works_max <= (std::size_t{1} << 28));
  sim::Rng rng(seed);
  FuzzCase c;
  const std::uint64_t works = 1 + rng.below(works_max);
  c.works.reserve(works);
  for (std::uint32_t tag = 0; tag < works; ++tag) c.works.push_back({rng.next(), tag});
  const std::uint64_t schedules = 1 + rng.below(kSchedulesMax);
  c.schedules.reserve(schedules);
  for (std::uint64_t i = 0; i < schedules; ++i) c.schedules.push_back(draw_schedule(rng, works));
  return c;
}

void decide_case(HistoryBuilder& builder, const std::vector<model::WorkWeight>& mix,
                 const FuzzCase& c, DecidedCase& out) {
  builder.reset();
  out.first.clear();
  out.count.clear();
  for (const CaseWork& w : c.works) {
    sim::Rng rng(w.seed);
    const std::size_t before = builder.history().size();
    builder.add_work(mix, rng);
    out.first.push_back(static_cast<std::uint32_t>(before));
    out.count.push_back(static_cast<std::uint32_t>(builder.history().size() - before));
  }
  out.streams = builder.streams();
  builder.swap_history(out.history, out.log, out.stream_of);
  ESSIM_ASSERT(out.log.size() == out.history.size());
  ESSIM_ASSERT(out.stream_of.size() == out.history.size());
  for (std::size_t w = 1; w < c.works.size(); ++w) {
    ESSIM_ASSERT(c.works[w - 1].tag < c.works[w].tag);
  }
  out.place_of_tag.assign(c.works.empty() ? 0 : c.works.back().tag + 1, kNoWork);
  for (std::uint32_t w = 0; w < c.works.size(); ++w) out.place_of_tag[c.works[w].tag] = w;
  out.work_of.resize(out.history.size());
  for (std::uint32_t w = 0; w < c.works.size(); ++w) {
    std::fill_n(out.work_of.begin() + out.first[w], out.count[w], w);
  }
}

namespace {

// The key an event's first delivery is merged by: a hash of the case's
// interleaving seed, its work's tag and its place in the work, so removing
// other works leaves the relative order of the rest as it was.
std::uint64_t merge_key(const FuzzCase& c, const Schedule& s, const DecidedCase& d,
                        std::uint32_t event) {
  const std::uint32_t w = d.work_of[event];
  const std::uint64_t place = (std::uint64_t{c.works[w].tag} << 32) | (event - d.first[w]);
  std::uint64_t state = s.interleaving ^ (place * 0x9e37'79b9'7f4a'7c15ULL);
  return sim::splitmix64(state);
}

// The event `r` is about, or nullopt when its work is gone or decided none.
std::optional<std::uint32_t> event_of(const DecidedCase& d, const Redelivery& r) {
  if (r.tag >= d.place_of_tag.size()) return std::nullopt;
  const std::uint32_t w = d.place_of_tag[r.tag];
  if (w == kNoWork || d.count[w] == 0) return std::nullopt;
  return d.first[w] + r.event % d.count[w];
}

}  // namespace

void DeliveryPlan::merge_streams(const FuzzCase& c, const Schedule& s, const DecidedCase& d) {
  const auto events = static_cast<std::uint32_t>(d.history.size());
  order_.clear();
  if (s.interleaving == 0) {
    for (std::uint32_t e = 0; e < events; ++e) order_.push_back(e);
    return;
  }
  // Each stream's events in history order, one stream after another.
  stream_start_.assign(d.streams + 1, 0);
  for (std::uint32_t e = 0; e < events; ++e) ++stream_start_[d.stream_of[e] + 1];
  for (std::uint32_t k = 0; k < d.streams; ++k) stream_start_[k + 1] += stream_start_[k];
  stream_events_.resize(events);
  step_of_.assign(stream_start_.begin(), stream_start_.end() - 1);  // a cursor per stream
  for (std::uint32_t e = 0; e < events; ++e) stream_events_[step_of_[d.stream_of[e]]++] = e;
  // Again and again, the stream whose next event has the least key.
  heads_.clear();
  const auto later = std::greater<>();
  for (std::uint32_t k = 0; k < d.streams; ++k) {
    step_of_[k] = stream_start_[k];
    if (stream_start_[k] < stream_start_[k + 1]) {
      heads_.emplace_back(merge_key(c, s, d, stream_events_[stream_start_[k]]), k);
    }
  }
  std::make_heap(heads_.begin(), heads_.end(), later);
  while (!heads_.empty()) {
    std::pop_heap(heads_.begin(), heads_.end(), later);
    const std::uint32_t k = heads_.back().second;
    heads_.pop_back();
    order_.push_back(stream_events_[step_of_[k]++]);
    if (step_of_[k] < stream_start_[k + 1]) {
      heads_.emplace_back(merge_key(c, s, d, stream_events_[step_of_[k]]), k);
      std::push_heap(heads_.begin(), heads_.end(), later);
    }
  }
  ESSIM_ASSERT(order_.size() == events);
}

void DeliveryPlan::plan(const FuzzCase& c, std::size_t schedule, const DecidedCase& d) {
  ESSIM_ASSERT(schedule < c.schedules.size());
  ESSIM_ASSERT(d.count.size() == c.works.size());
  const Schedule& s = c.schedules[schedule];
  const auto events = static_cast<std::uint32_t>(d.history.size());
  deliveries_.clear();
  if (events == 0) return;
  merge_streams(c, s, d);
  step_of_.resize(events);
  for (std::uint32_t step = 0; step < events; ++step) step_of_[order_[step]] = step;
  // Each redelivery comes after the first delivery `delay` steps past its event's.
  due_.clear();
  for (std::uint32_t j = 0; j < s.redeliveries.size(); ++j) {
    const auto event = event_of(d, s.redeliveries[j]);
    if (!event) continue;
    const std::uint64_t at = std::uint64_t{step_of_[*event]} + s.redeliveries[j].delay;
    due_.push_back(
        {static_cast<std::uint32_t>(std::min<std::uint64_t>(at, events - 1)), j, *event});
  }
  std::sort(due_.begin(), due_.end());
  std::size_t next = 0;
  for (std::uint32_t step = 0; step < events; ++step) {
    deliveries_.push_back({order_[step], Why::kDeliver, false});
    for (; next < due_.size() && due_[next].step == step; ++next) {
      const std::uint8_t unacked = s.redeliveries[due_[next].redelivery].unacked;
      if (unacked == 0) {
        deliveries_.push_back({due_[next].event, Why::kAgain, false});
        continue;
      }
      const std::uint32_t from = step + 1 > unacked ? step + 1 - unacked : 0;
      for (std::uint32_t i = from; i <= step; ++i) {
        deliveries_.push_back({order_[i], Why::kAfterCrash, false});
      }
    }
  }
  ESSIM_ASSERT(next == due_.size());
}

namespace {

using Kind = ShrinkStep::Kind;

// Every aligned chunk of [0, n): of n (when `whole`), then n / 2, n / 4, ..., 1.
template <typename Emit>
void chunks(std::size_t n, bool whole, const Emit& emit) {
  for (std::size_t k = whole ? n : n / 2; k >= 1; k /= 2) {
    for (std::size_t at = 0; at + k <= n; at += k) {
      emit(static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(at + k));
    }
  }
}

// The works (places in the case) with an event in a stream some schedule
// delivers an event of more than once: the streams a duplicate reaches.
std::vector<std::uint32_t> works_of_streams_delivered_twice(const FuzzCase& c,
                                                            const DecidedCase& d) {
  std::vector<bool> twice(d.streams, false);
  std::vector<std::uint8_t> times(d.history.size(), 0);
  DeliveryPlan plan;
  for (std::size_t s = 0; s < c.schedules.size(); ++s) {
    plan.plan(c, s, d);
    std::fill(times.begin(), times.end(), 0);
    for (const Delivery& delivery : plan.deliveries()) {
      if (++times[delivery.event] == 2) twice[d.stream_of[delivery.event]] = true;
    }
  }
  std::vector<std::uint32_t> kept;
  for (std::uint32_t w = 0; w < c.works.size(); ++w) {
    for (std::uint32_t e = d.first[w]; e < d.first[w] + d.count[w]; ++e) {
      if (!twice[d.stream_of[e]]) continue;
      kept.push_back(w);
      break;
    }
  }
  return kept;
}

// Each redelivery moved to each earlier event (the earliest first).
void retargets(const FuzzCase& c, const DecidedCase& d, std::vector<ShrinkStep>& out) {
  for (std::uint32_t s = 0; s < c.schedules.size(); ++s) {
    const std::vector<Redelivery>& redeliveries = c.schedules[s].redeliveries;
    for (std::uint32_t j = 0; j < redeliveries.size(); ++j) {
      const auto event = event_of(d, redeliveries[j]);
      if (!event) continue;
      for (std::uint32_t e = 0; e < *event && e < kRetargetMax; ++e) {
        const std::uint32_t w = d.work_of[e];
        ShrinkStep step{Kind::kRetarget, s, j, j + 1, c.works[w].tag, e - d.first[w], {}, {}};
        out.push_back(std::move(step));
      }
    }
  }
}

// Each crash as the events it redelivers, each again at the same point: the
// same deliveries, which can then be removed one by one.
void split_crashes(const FuzzCase& c, const DecidedCase& d, std::vector<ShrinkStep>& out) {
  DeliveryPlan plan;
  for (std::uint32_t s = 0; s < c.schedules.size(); ++s) {
    const std::vector<Redelivery>& redeliveries = c.schedules[s].redeliveries;
    bool planned = false;
    for (std::uint32_t j = 0; j < redeliveries.size(); ++j) {
      if (redeliveries[j].unacked == 0) continue;
      const auto event = event_of(d, redeliveries[j]);
      if (!event) continue;
      if (!planned) plan.plan(c, s, d);
      planned = true;
      const std::vector<std::uint32_t>& order = plan.first_deliveries();
      const auto own =
          static_cast<std::uint64_t>(std::find(order.begin(), order.end(), *event) - order.begin());
      const auto at = static_cast<std::uint32_t>(
          std::min<std::uint64_t>(own + redeliveries[j].delay, order.size() - 1));
      ShrinkStep step{Kind::kSplitCrash, s, j, j + 1, 0, 0, {}, {}};
      const std::uint32_t from =
          at + 1 > redeliveries[j].unacked ? at + 1 - redeliveries[j].unacked : 0;
      for (std::uint32_t i = from; i <= at; ++i) {
        const std::uint32_t w = d.work_of[order[i]];
        step.agains.push_back({c.works[w].tag, order[i] - d.first[w], at - i, 0});
      }
      out.push_back(std::move(step));
    }
  }
}

// Each redelivery with a delay, without it.
void without_delays(const FuzzCase& c, std::vector<ShrinkStep>& out) {
  for (std::uint32_t s = 0; s < c.schedules.size(); ++s) {
    const std::vector<Redelivery>& redeliveries = c.schedules[s].redeliveries;
    for (std::uint32_t j = 0; j < redeliveries.size(); ++j) {
      if (redeliveries[j].delay > 0) out.push_back({Kind::kNoDelay, s, j, j + 1, 0, 0, {}, {}});
    }
  }
}

// `c` with only the works `keep` says, and only the redeliveries of those.
template <typename Keep>
FuzzCase with_works(const FuzzCase& c, const Keep& keep) {
  FuzzCase out;
  std::vector<std::uint32_t> removed;  // tags, increasing
  for (std::uint32_t w = 0; w < c.works.size(); ++w) {
    if (keep(w)) {
      out.works.push_back(c.works[w]);
    } else {
      removed.push_back(c.works[w].tag);
    }
  }
  for (const Schedule& s : c.schedules) {
    Schedule& kept = out.schedules.emplace_back();
    kept.interleaving = s.interleaving;
    for (const Redelivery& r : s.redeliveries) {
      if (!std::binary_search(removed.begin(), removed.end(), r.tag))
        kept.redeliveries.push_back(r);
    }
  }
  return out;
}

}  // namespace

bool needs_history(ShrinkPhase phase) {
  return phase == ShrinkPhase::kStreamsTwice || phase == ShrinkPhase::kSplitCrashes ||
         phase == ShrinkPhase::kEarlierEvents;
}

std::vector<ShrinkStep> shrink_steps(const FuzzCase& c, const DecidedCase* d, ShrinkPhase phase) {
  std::vector<ShrinkStep> out;
  if (needs_history(phase) && d == nullptr) return out;
  const auto schedules = static_cast<std::uint32_t>(c.schedules.size());
  switch (phase) {
    case ShrinkPhase::kSchedules:
      chunks(schedules, false, [&](std::uint32_t from, std::uint32_t to) {
        out.push_back({Kind::kRemoveSchedules, 0, from, to, 0, 0, {}, {}});
      });
      break;
    case ShrinkPhase::kRedeliveries:
      for (std::uint32_t s = 0; s < schedules; ++s) {
        chunks(c.schedules[s].redeliveries.size(), true, [&](std::uint32_t from, std::uint32_t to) {
          out.push_back({Kind::kRemoveRedeliveries, s, from, to, 0, 0, {}, {}});
        });
      }
      break;
    case ShrinkPhase::kStreamsTwice: {
      std::vector<std::uint32_t> kept = works_of_streams_delivered_twice(c, *d);
      if (!kept.empty() && kept.size() < c.works.size()) {
        out.push_back({Kind::kKeepWorks, 0, 0, 0, 0, 0, std::move(kept), {}});
      }
      break;
    }
    case ShrinkPhase::kWorks:
      chunks(c.works.size(), false, [&](std::uint32_t from, std::uint32_t to) {
        out.push_back({Kind::kRemoveWorks, 0, from, to, 0, 0, {}, {}});
      });
      break;
    case ShrinkPhase::kSplitCrashes:
      split_crashes(c, *d, out);
      break;
    case ShrinkPhase::kEarlierEvents:
      retargets(c, *d, out);
      break;
    case ShrinkPhase::kNoDelays:
      without_delays(c, out);
      break;
    case ShrinkPhase::kInOrder:
      for (std::uint32_t s = 0; s < schedules; ++s) {
        if (c.schedules[s].interleaving != 0)
          out.push_back({Kind::kInOrder, s, 0, 0, 0, 0, {}, {}});
      }
      break;
  }
  return out;
}

std::vector<ShrinkStep> shrink_steps(const FuzzCase& c, const DecidedCase* d) {
  std::vector<ShrinkStep> out;
  for (const ShrinkPhase phase : kShrinkPhases) {
    for (ShrinkStep& step : shrink_steps(c, d, phase)) out.push_back(std::move(step));
  }
  return out;
}

FuzzCase shrunk(const FuzzCase& c, const ShrinkStep& step) {
  const auto erase = [](auto& list, std::uint32_t from, std::uint32_t to) {
    ESSIM_ASSERT(from < to);
    ESSIM_ASSERT(to <= list.size());
    list.erase(list.begin() + from, list.begin() + to);
  };
  switch (step.kind) {
    case Kind::kRemoveWorks:
      return with_works(c, [&](std::uint32_t w) { return w < step.from || w >= step.to; });
    case Kind::kKeepWorks:
      return with_works(c, [&](std::uint32_t w) {
        return std::binary_search(step.kept.begin(), step.kept.end(), w);
      });
    default:
      break;
  }
  FuzzCase out = c;
  if (step.kind == Kind::kRemoveSchedules) {
    erase(out.schedules, step.from, step.to);
    ESSIM_ASSERT(!out.schedules.empty());
    return out;
  }
  ESSIM_ASSERT(step.schedule < out.schedules.size());
  Schedule& s = out.schedules[step.schedule];
  if (step.kind == Kind::kRemoveRedeliveries) {
    erase(s.redeliveries, step.from, step.to);
    return out;
  }
  if (step.kind == Kind::kSplitCrash) {
    ESSIM_ASSERT(step.from < s.redeliveries.size());
    ESSIM_ASSERT(s.redeliveries[step.from].unacked > 0);
    erase(s.redeliveries, step.from, step.from + 1);
    s.redeliveries.insert(s.redeliveries.begin() + step.from, step.agains.begin(),
                          step.agains.end());
    return out;
  }
  if (step.kind == Kind::kInOrder) {
    s.interleaving = 0;
    return out;
  }
  ESSIM_ASSERT(step.from < s.redeliveries.size());
  Redelivery& r = s.redeliveries[step.from];
  if (step.kind == Kind::kRetarget) {
    r.tag = step.tag;
    r.event = step.event;
  } else {
    ESSIM_ASSERT(step.kind == Kind::kNoDelay);
    r.delay = 0;
  }
  return out;
}

DecidedCases::DecidedCases(const model::Domain& domain, std::vector<model::WorkWeight> mix)
    : mix_(std::move(mix)), builder_(domain, false) {}

const DecidedCase& DecidedCases::decide(const FuzzCase& c) {
  if (works_ && *works_ == c.works) return decided_;
  works_.reset();
  ++generation_;
  decide_case(builder_, mix_, c, decided_);
  works_ = c.works;
  return decided_;
}

namespace {

// The shrinks of a case, made a phase at a time as RapidCheck asks for them.
class Shrinks {
 public:
  Shrinks(std::shared_ptr<DecidedCases> histories, const FuzzCase& c)
      : histories_(std::move(histories)), case_(std::make_shared<const FuzzCase>(c)) {}

  rc::Maybe<FuzzCase> operator()() {
    while (next_ == steps_.size()) {
      if (phase_ == kShrinkPhases.size()) return rc::Nothing;
      const ShrinkPhase phase = kShrinkPhases[phase_++];
      steps_ = shrink_steps(*case_, needs_history(phase) ? decided() : nullptr, phase);
      next_ = 0;
    }
    return shrunk(*case_, steps_[next_++]);
  }

 private:
  // The case's history, when user code lets it be decided.
  const DecidedCase* decided() {
    try {
      return &histories_->decide(*case_);
    } catch (const model::UserCodeError&) {
      return nullptr;
    } catch (const model::HarnessFailure&) {
      return nullptr;  // the next case ends the search with it
    }
  }

  std::shared_ptr<DecidedCases> histories_;
  std::shared_ptr<const FuzzCase> case_;
  std::size_t phase_ = 0;  // the next one
  std::vector<ShrinkStep> steps_;
  std::size_t next_ = 0;
};

}  // namespace

rc::Gen<FuzzCase> fuzz_cases(std::shared_ptr<DecidedCases> histories, std::size_t works_max) {
  ESSIM_ASSERT(works_max >= 1);
  ESSIM_ASSERT(histories != nullptr);
  return rc::Gen<FuzzCase>([histories, works_max](const rc::Random& random, int /*size*/) {
    rc::Random r = random;
    return rc::shrinkable::shrinkRecur(
        draw_case(r.next(), works_max),
        [histories](const FuzzCase& c) { return rc::Seq<FuzzCase>(Shrinks(histories, c)); });
  });
}

}  // namespace essim::fuzzing
