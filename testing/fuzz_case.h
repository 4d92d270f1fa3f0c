#pragma once
// The cases the idempotency fuzzer (testing/idempotency.h) draws, how they are
// delivered, and how they shrink.
//
// A case is a list of works and a few delivery schedules of the history they
// decide. Each work carries its own seed (the kind the mix draws, the commands
// the domain generates, the event ids), so removing one work leaves every
// other as it was; the history is the works decided in order by the domain's
// own deciders (a refused command adds no event). Deciding costs far more
// than delivering, so one history is delivered on several schedules, each
// checked on its own. In a schedule every event is delivered once, streams
// merged by a key drawn per event (each stream's own order kept), and
// redeliveries come in between: the same event again, or what a crashed
// worker had not acknowledged. A redelivery names its event by the work's tag
// and the event's place among that work's events, so removing another work
// leaves it on the same event.
//
// Shrinking is essim's own rather than RapidCheck's shrinking of one seed,
// whose every step would draw another history. The steps, in the order they
// are tried: remove schedules (halves, ..., one), remove redeliveries (all,
// halves, ..., one), keep only the works of the streams some event comes to
// twice, remove works (halves, ..., one), turn a crash into the events it
// redelivers (each again, at the same point), move a redelivery to an earlier
// event, take a delay away, and deliver a schedule in history order (see
// ShrinkPhase). Removing one work (its events) or one delivery is one step.
// Each step makes the case smaller in the order (works, schedules, the
// redeliveries' weight (1 for an event again, 1 + its reach for a crash),
// their delays, the sum of their events' positions, interleavings), so
// shrinking ends.

#include <array>
#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <vector>

#include <rapidcheck.h>

#include "model/domain.h"
#include "testing/history.h"

namespace essim::fuzzing {

struct CaseWork {
  std::uint64_t seed = 0;  // decides the work: its kind (drawn by the mix), commands and event ids
  std::uint32_t tag = 0;   // its place when drawn: increasing along a case, kept by shrinking
  friend bool operator==(const CaseWork&, const CaseWork&) = default;
};

// The deliveries beyond the first of each event: one event again, or those a
// crashed worker had not acknowledged.
inline constexpr std::uint8_t kUnackedMax = 3;
struct Redelivery {
  std::uint32_t tag = 0;    // the work whose event it is about
  std::uint32_t event = 0;  // which of that work's events, modulo their count
  std::uint32_t delay = 0;  // first deliveries of later events in between
  // 0: the event comes again. 1 to kUnackedMax: the worker crashes and the
  // bus redelivers the last `unacked` first deliveries (with no delay, the
  // event's is the last of them).
  std::uint8_t unacked = 0;
  friend bool operator==(const Redelivery&, const Redelivery&) = default;
};

struct Schedule {
  std::vector<Redelivery> redeliveries;
  std::uint64_t interleaving = 0;  // 0: first deliveries in history order; else the keys' seed
  friend bool operator==(const Schedule&, const Schedule&) = default;
};

// A case draws 1 to kSchedulesMax schedules.
inline constexpr std::size_t kSchedulesMax = 16;
struct FuzzCase {
  std::vector<CaseWork> works;      // decided in this order
  std::vector<Schedule> schedules;  // at least one
  friend bool operator==(const FuzzCase&, const FuzzCase&) = default;
};
// For RapidCheck's own reports (a property in a user's test).
void showValue(const FuzzCase& c, std::ostream& os);

// A case of 1 to works_max works drawn from `seed` (all its randomness).
// REQUIRES: works_max from 1 to 2^28.
FuzzCase draw_case(std::uint64_t seed, std::size_t works_max);

// A case's history as the domain decided it.
struct DecidedCase {
  std::vector<model::Event> history;     // as decided (what the store holds)
  std::vector<model::Event> log;         // the same, upcast (what handlers see)
  std::vector<std::uint32_t> first;      // per work of the case: its first event
  std::vector<std::uint32_t> count;      // per work: how many events it decided
  std::vector<std::uint32_t> work_of;    // per event: its work's place in the case
  std::vector<std::uint32_t> stream_of;  // per event: its stream's number
  std::uint32_t streams = 0;
  std::vector<std::uint32_t> place_of_tag;  // per tag up to the last work's: kNoWork or its place
};
inline constexpr std::uint32_t kNoWork = UINT32_MAX;

// Decides `c` into `out` through `builder` (reset first, reused for its
// buffers). Throws UserCodeError when user code throws.
// REQUIRES: the mix has a positive weight.
void decide_case(HistoryBuilder& builder, const std::vector<model::WorkWeight>& mix,
                 const FuzzCase& c, DecidedCase& out);

enum class Why : std::uint8_t { kDeliver, kAgain, kAfterCrash };
struct Delivery {
  std::uint32_t event = 0;  // its place in the history
  Why why = Why::kDeliver;
  bool ran = false;  // false: the dedup strategy skipped it
};

// The order one schedule's deliveries come in. Keeps its buffers from one
// schedule to the next: planning allocates nothing once they are large enough.
class DeliveryPlan {
 public:
  // Plans schedule `s` of `c` over its decided history: every event once
  // (each stream in order), and every redelivery whose work decided an event.
  // REQUIRES: s < c.schedules.size(); `decided` is c's.
  void plan(const FuzzCase& c, std::size_t s, const DecidedCase& decided);
  std::vector<Delivery>& deliveries() { return deliveries_; }
  const std::vector<Delivery>& deliveries() const { return deliveries_; }
  // The events in the order of their first deliveries.
  const std::vector<std::uint32_t>& first_deliveries() const { return order_; }

 private:
  void merge_streams(const FuzzCase& c, const Schedule& s, const DecidedCase& decided);

  std::vector<Delivery> deliveries_;
  std::vector<std::uint32_t> order_;    // the first deliveries, by event
  std::vector<std::uint32_t> step_of_;  // per event: its place in order_
  std::vector<std::uint32_t> stream_start_;
  std::vector<std::uint32_t> stream_events_;
  std::vector<std::pair<std::uint64_t, std::uint32_t>> heads_;  // (key, stream), a min-heap
  struct Due {
    std::uint32_t step;
    std::uint32_t redelivery;
    std::uint32_t event;
    friend auto operator<=>(const Due&, const Due&) = default;
  };
  std::vector<Due> due_;
};

// Histories decided for one property and its shrinking, the last one kept:
// shrinking tries many candidates with the same works, and asks for a failing
// case's history right after it was checked.
class DecidedCases {
 public:
  // `domain` must outlive this. REQUIRES: the mix has a positive weight.
  DecidedCases(const model::Domain& domain, std::vector<model::WorkWeight> mix);

  // `c`'s history: the last one when c's works are the last one's. Throws
  // UserCodeError when user code throws.
  const DecidedCase& decide(const FuzzCase& c);
  // Changes whenever a history is decided anew: what was computed from the
  // last one is stale once it changes.
  std::uint64_t generation() const { return generation_; }

 private:
  const std::vector<model::WorkWeight> mix_;
  HistoryBuilder builder_;
  std::optional<std::vector<CaseWork>> works_;  // whose history decided_ is
  DecidedCase decided_;
  std::uint64_t generation_ = 0;
};

// One way a case can shrink (see the top of this file).
struct ShrinkStep {
  enum class Kind : std::uint8_t {
    kRemoveSchedules,     // [from, to)
    kRemoveRedeliveries,  // of `schedule`, [from, to)
    kRemoveWorks,         // [from, to), with their redeliveries
    kKeepWorks,           // only `kept` (places in the case), with their redeliveries
    kSplitCrash,          // redelivery `from` of `schedule`, a crash, replaced by `agains`
    kRetarget,            // redelivery `from` of `schedule` to work `tag`'s event `event`
    kNoDelay,             // redelivery `from` of `schedule`
    kInOrder,             // `schedule` delivers in history order
  };
  Kind kind = Kind::kRemoveSchedules;
  std::uint32_t schedule = 0;
  std::uint32_t from = 0;
  std::uint32_t to = 0;
  std::uint32_t tag = 0;
  std::uint32_t event = 0;
  std::vector<std::uint32_t> kept;
  std::vector<Redelivery> agains;
};

// The steps a failing case may shrink by, phase by phase, in the order they
// are tried. RapidCheck takes the first step that still fails, so the later
// phases are rarely made at all.
enum class ShrinkPhase : std::uint8_t {
  kSchedules,      // remove schedules
  kRedeliveries,   // remove redeliveries
  kStreamsTwice,   // keep the works of the streams an event comes to twice
  kWorks,          // remove works
  kSplitCrashes,   // a crash as the events it redelivers, each again (the same deliveries)
  kEarlierEvents,  // move a redelivery to an earlier event
  kNoDelays,       // take a redelivery's delay away
  kInOrder,        // deliver a schedule in history order
};
inline constexpr std::array kShrinkPhases = {
    ShrinkPhase::kSchedules, ShrinkPhase::kRedeliveries, ShrinkPhase::kStreamsTwice,
    ShrinkPhase::kWorks,     ShrinkPhase::kSplitCrashes, ShrinkPhase::kEarlierEvents,
    ShrinkPhase::kNoDelays,  ShrinkPhase::kInOrder};
// Whether the phase's steps need the case's history.
bool needs_history(ShrinkPhase phase);
// `decided` is the case's history, or null when it could not be decided:
// then the phases that need it have no steps.
std::vector<ShrinkStep> shrink_steps(const FuzzCase& c, const DecidedCase* decided,
                                     ShrinkPhase phase);
std::vector<ShrinkStep> shrink_steps(const FuzzCase& c, const DecidedCase* decided);
// `c` shrunk by `step`, one of shrink_steps(c, ...).
FuzzCase shrunk(const FuzzCase& c, const ShrinkStep& step);

// Cases drawn by draw_case from RapidCheck's randomness, shrinking by
// shrink_steps, with their histories decided by `histories`.
// REQUIRES: works_max >= 1.
rc::Gen<FuzzCase> fuzz_cases(std::shared_ptr<DecidedCases> histories, std::size_t works_max);

}  // namespace essim::fuzzing
