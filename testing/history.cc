#include "testing/history.h"

#include <utility>
#include <variant>

#include "model/user_code.h"
#include "sim/assert.h"

namespace essim::fuzzing {

using model::Event;

void HistoryBuilder::reset() {
  aggregates_.clear();
  history_.clear();
  upcast_.clear();
  stream_numbers_.clear();
  decisions_.clear();
  works_ = 0;
}

void HistoryBuilder::swap_history(std::vector<Event>& history, std::vector<Event>& upcast,
                                  std::vector<std::uint32_t>& stream_numbers) {
  history_.swap(history);
  upcast_.swap(upcast);
  stream_numbers_.swap(stream_numbers);
}

bool HistoryBuilder::decide(const model::Command& c, sim::Rng& rng, model::StepOutcome* outcome) {
  auto found = aggregates_.find(c.stream);
  if (found == aggregates_.end()) {
    const auto number = static_cast<std::uint32_t>(aggregates_.size());
    found = aggregates_.emplace(c.stream, Aggregate{model::call_initial(domain_), 0, number}).first;
  }
  Aggregate& aggregate = found->second;
  auto decided = model::call_decide(domain_, *aggregate.state, c);
  if (keep_decisions_) {
    Decision d{c, aggregate.version, works_ - 1, false, {}, history_.size(), 0};
    d.accepted = decided.ok();
    if (decided.ok()) d.events = decided.value().size();
    if (!decided.ok()) d.refusal = decided.error().message;
    decisions_.push_back(std::move(d));
  }
  if (!decided.ok()) return false;  // a refused command leaves no event, as in a real run
  std::vector<model::NewEvent> news = std::move(decided).value();
  if (!personal_) personal_.emplace(domain_);
  if (outcome != nullptr) outcome->events.clear();
  for (model::NewEvent& n : news) {
    Event e;
    e.id = model::random_id(rng);
    e.stream = c.stream;
    e.version = ++aggregate.version;
    e.position = history_.size() + 1;
    e.type = std::move(n.type);
    e.schema_version = n.schema_version;
    e.payload = std::move(n.payload);
    seal(e);
    if (outcome != nullptr) outcome->events.push_back({e.type, e.schema_version, e.payload});
    upcast_.push_back(model::upcasted(domain_, e));
    model::call_evolve(domain_, *aggregate.state, upcast_.back());
    history_.push_back(std::move(e));
    stream_numbers_.push_back(aggregate.number);
    ESSIM_ASSERT(upcast_.size() == history_.size());
    if (on_event) on_event(*aggregate.state, history_.back());
  }
  return true;
}

// As a run's clients write it: personal values sealed (with a key derived
// from the subject: there is no key store here), so that evolve, deciders
// and handlers see the tokens they see in a run.
void HistoryBuilder::seal(Event& e) const {
  const model::PersonalData* data = personal_->find(e.type);
  if (data == nullptr) return;
  const std::string subject = model::personal_subject(*data, e);
  if (subject.empty()) return;
  const model::Bytes key = model::derived_key(subject);
  std::uint32_t field = 0;
  e.payload = model::rewrite_personal(*data, e, [&](const std::string& value) {
    if (model::seals_for(value, subject)) return value;
    return model::seal_value(subject, key, e.id, field++, value);
  });
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
