#include "testing/history.h"

#include <utility>
#include <variant>

#include "model/user_code.h"
#include "sim/assert.h"

namespace essim::fuzzing {

using model::Event;

bool HistoryBuilder::decide(const model::Command& c, sim::Rng& rng, model::StepOutcome* outcome) {
  auto& [state, version] = aggregates_[c.stream];
  if (!state) state = model::call_initial(domain_);
  Decision d{c, version, works_ - 1, false, {}, history_.size(), 0};
  auto decided = model::call_decide(domain_, *state, c);
  if (!decided.ok()) {  // a refused command leaves no event, as in a real run
    d.refusal = decided.error().message;
    decisions_.push_back(std::move(d));
    return false;
  }
  d.accepted = true;
  d.events = decided.value().size();
  decisions_.push_back(std::move(d));
  if (outcome != nullptr) outcome->events = decided.value();
  for (const model::NewEvent& n : decided.value()) {
    Event e;
    e.id = model::random_id(rng);
    e.stream = c.stream;
    e.version = ++version;
    e.position = history_.size() + 1;
    e.type = n.type;
    e.schema_version = n.schema_version;
    e.payload = n.payload;
    model::call_evolve(domain_, *state, model::upcasted(domain_, e));
    history_.push_back(std::move(e));
    if (on_event) on_event(*state, history_.back());
  }
  return true;
}

void HistoryBuilder::add_work(const std::vector<model::WorkWeight>& mix, sim::Rng& rng) {
  const model::WorkWeight* drawn = model::draw_weighted(mix, rng);
  ESSIM_ASSERT(drawn != nullptr);
  ++works_;
  sim::Rng generator(rng.next());
  const model::Work work = model::call_generate(domain_, drawn->kind, generator);
  if (const auto* c = std::get_if<model::Command>(&work)) {
    (void)decide(*c, rng, nullptr);
    return;
  }
  // A saga as the clients run it: a failed step undoes the steps before it,
  // and once the listed steps are done the domain may plan another from
  // what they appended.
  model::Saga saga = std::get<model::Saga>(work);
  std::vector<model::StepOutcome> done;
  for (std::size_t s = 0; s < saga.steps.size(); ++s) {
    model::StepOutcome outcome;
    if (decide(saga.steps[s].action, rng, &outcome)) {
      done.push_back(std::move(outcome));
      if (s + 1 == saga.steps.size() && saga.steps.size() < model::kSagaStepsMax) {
        if (auto next = model::call_next_step(domain_, saga, done)) saga.steps.push_back(*next);
      }
      continue;
    }
    for (std::size_t back = s; back-- > 0;) {
      if (saga.steps[back].compensation) (void)decide(*saga.steps[back].compensation, rng, nullptr);
    }
    return;
  }
}

}  // namespace essim::fuzzing
