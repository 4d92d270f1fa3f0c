#include "properties/properties.h"

#include <map>
#include <set>
#include <typeinfo>

#include <fmt/format.h>

#include "model/domains/bank.h"
#include "model/domains/inventory.h"

namespace essim::properties {

namespace {

using model::Event;
using model::HistoryEntry;

constexpr std::size_t kEvidenceMax = 6;
constexpr std::size_t kViolationsMax = 10;

// The store's events, indexed the ways the properties need.
struct Index {
  std::vector<const Event*> in_log_order;
  std::map<std::uint64_t, const Event*> by_position;
  std::map<std::string, std::vector<const Event*>> by_stream;  // in log order
};

Index index(const model::StoreLog& log) {
  Index ix;
  for (const model::CommitRecord& c : log.commits) {
    for (const Event& e : c.events) {
      ix.in_log_order.push_back(&e);
      ix.by_position.emplace(e.position, &e);
      ix.by_stream[e.stream].push_back(&e);
    }
  }
  return ix;
}

std::string show(const RunView& run, const Event& e) {
  const Event up = model::upcasted(*run.domain, e);
  const std::string payload = model::call_describe_payload(*run.domain, up);
  return payload.empty() ? model::describe(e) : model::describe(e) + ": " + payload;
}

struct Collector {
  std::string property;
  std::vector<Violation> out{};
  bool full() const { return out.size() >= kViolationsMax; }
  Violation& add(std::string summary) {
    out.push_back(Violation{property, std::move(summary), {}});
    return out.back();
  }
};

void cite(Violation& v, std::string line) {
  if (v.evidence.size() < kEvidenceMax) v.evidence.push_back(std::move(line));
}

// Cites an event: its line of evidence, and its position for viewers.
void cite_event(Violation& v, const std::string& prefix, const RunView& run, const Event& e) {
  cite(v, prefix + show(run, e));
  v.positions.push_back(e.position);
}

// ---- generic properties ----

std::vector<Violation> no_lost_acknowledged_events(const RunView& run) {
  Collector c{"no_lost_acknowledged_events"};
  const Index ix = index(*run.log);
  for (const HistoryEntry& h : run.history->entries()) {
    if (h.type != HistoryEntry::Type::kOk || h.events == 0 || c.full()) continue;
    for (std::uint64_t p = h.first_position; p < h.first_position + h.events; ++p) {
      const auto it = ix.by_position.find(p);
      const bool ok = it != ix.by_position.end() && it->second->stream == h.stream;
      if (ok) continue;
      Violation& v = c.add(
          fmt::format("position {} of {} was acknowledged but is not in the store", p, h.stream));
      cite(v, "acknowledged: " + model::describe(h));
      v.positions.push_back(p);
      if (it != ix.by_position.end()) cite_event(v, "position holds instead: ", run, *it->second);
      cite(v, fmt::format("store log: {} commits, {}", run.log->commits.size(),
                          model::to_string(run.log->status)));
      break;
    }
  }
  return c.out;
}

std::vector<Violation> no_duplicate_commands(const RunView& run) {
  Collector c{"no_duplicate_commands"};
  // Events of one logical command share a correlation id; they must come from one append.
  std::map<model::EventId, std::vector<const model::CommitRecord*>> commits;
  for (const model::CommitRecord& commit : run.log->commits) {
    const model::EventId& correlation = commit.events.front().metadata.correlation_id;
    if (!correlation.empty()) commits[correlation].push_back(&commit);
  }
  for (const auto& [correlation, list] : commits) {
    if (list.size() < 2 || c.full()) continue;
    Violation& v = c.add(fmt::format("one command was appended {} times (correlation {})",
                                     list.size(), model::to_string(correlation)));
    for (const model::CommitRecord* commit : list) cite_event(v, "", run, commit->events.front());
  }
  return c.out;
}

std::vector<Violation> stream_versions_contiguous(const RunView& run) {
  Collector c{"stream_versions_contiguous"};
  for (const auto& [stream, events] : index(*run.log).by_stream) {
    for (std::size_t i = 0; i < events.size() && !c.full(); ++i) {
      if (events[i]->version == i + 1) continue;
      Violation& v = c.add(
          fmt::format("{} has version {} where {} belongs", stream, events[i]->version, i + 1));
      if (i > 0) cite_event(v, "before: ", run, *events[i - 1]);
      cite_event(v, "found: ", run, *events[i]);
      break;
    }
  }
  return c.out;
}

std::vector<Violation> global_positions_monotonic(const RunView& run) {
  Collector c{"global_positions_monotonic"};
  std::map<std::uint64_t, const Event*> seen;
  for (const model::CommitRecord& commit : run.log->commits) {
    for (std::size_t i = 0; i < commit.events.size() && !c.full(); ++i) {
      const Event& e = commit.events[i];
      const auto [it, fresh] = seen.emplace(e.position, &e);
      if (!fresh) {
        Violation& v = c.add(fmt::format("position {} is used twice", e.position));
        cite_event(v, "", run, *it->second);
        cite_event(v, "", run, e);
      } else if (e.position == 0 || (i > 0 && e.position != commit.events[i - 1].position + 1)) {
        Violation& v = c.add(fmt::format("positions within one append are not consecutive"));
        cite_event(v, "", run, e);
      }
    }
  }
  for (const auto& [stream, events] : index(*run.log).by_stream) {
    for (std::size_t i = 1; i < events.size() && !c.full(); ++i) {
      if (events[i]->position > events[i - 1]->position) continue;
      Violation& v = c.add(fmt::format("{}: a later version has an earlier position", stream));
      cite_event(v, "", run, *events[i - 1]);
      cite_event(v, "", run, *events[i]);
      break;
    }
  }
  return c.out;
}

std::vector<Violation> log_integrity(const RunView& run) {
  Collector c{"log_integrity"};
  if (run.log->status == model::LogScan::Status::kCorrupt) {
    Violation& v = c.add("the store's log is corrupt: " + run.log->problem);
    cite(v, fmt::format("{} valid bytes, {} commits before the bad record", run.log->valid_bytes,
                        run.log->commits.size()));
  }
  return c.out;
}

std::vector<Violation> projections_converge(const RunView& run) {
  Collector c{"projections_converge"};
  if (!run.quiet) {
    Violation& v = c.add("the system did not settle within the heal bound");
    cite(v, "heal phase ended: " + run.heal_end);
    cite(v, fmt::format("{} operation(s) still open in the history", run.history->open()));
  }
  return c.out;
}

// The oracle: the final store, in position order, through the same handler,
// with the reference upcasters.
model::ReadModel clean_replay(const RunView& run, const model::ProjectionHandler& handler) {
  model::ReadModel model;
  for (const auto& [position, e] : index(*run.log).by_position) {
    model::call_handler(handler, model, model::upcasted(*run.domain, *e));
  }
  return model;
}

std::vector<Violation> replay_matches_projection(const RunView& run) {
  Collector c{"replay_matches_projection"};
  if (!run.quiet) return c.out;  // not caught up: projections_converge says so
  for (const ProjectionView& p : run.projections) {
    if (p.state == nullptr || p.handler == nullptr || c.full()) continue;
    const model::ReadModel expected = clean_replay(run, *p.handler);
    if (expected == p.state->model) continue;
    std::size_t differ = 0;
    std::set<std::string> keys;
    for (const auto& [k, v] : expected) keys.insert(k);
    for (const auto& [k, v] : p.state->model) keys.insert(k);
    Violation& v =
        c.add(fmt::format("projection {} differs from a clean replay of the store", p.name));
    for (const std::string& key : keys) {
      const auto e = expected.find(key);
      const auto a = p.state->model.find(key);
      const std::int64_t want = e == expected.end() ? 0 : e->second;
      const std::int64_t have = a == p.state->model.end() ? 0 : a->second;
      if (want == have && (e == expected.end()) == (a == p.state->model.end())) continue;
      ++differ;
      cite(v, fmt::format("{}: projection has {}, replay gives {}", key,
                          a == p.state->model.end() ? "nothing" : std::to_string(have),
                          e == expected.end() ? "nothing" : std::to_string(want)));
    }
    v.summary += fmt::format(" ({} key(s); the handler ran {} times for {} events)", differ,
                             p.state->events_applied,
                             run.log->commits.empty() ? 0 : index(*run.log).by_position.size());
  }
  return c.out;
}

std::vector<Violation> snapshot_equivalence(const RunView& run) {
  Collector c{"snapshot_equivalence"};
  const Index ix = index(*run.log);
  for (const model::SnapshotSave& s : run.snapshots) {
    if (c.full()) break;
    auto decoded = model::call_decode_state(*run.domain, s.state, s.stream);
    const auto it = ix.by_stream.find(s.stream);
    std::vector<Event> prefix;
    if (it != ix.by_stream.end()) {
      for (const Event* e : it->second) {
        if (e->version <= s.version) prefix.push_back(*e);
      }
    }
    if (prefix.size() != s.version) continue;  // events past the store's end: not this property's
    const auto replayed = model::replay(*run.domain, prefix);
    if (decoded.ok() && decoded.value()->equals(*replayed)) continue;
    Violation& v = c.add(fmt::format(
        "snapshot of {} at version {} differs from replaying the stream", s.stream, s.version));
    cite(v, "snapshot: " + (decoded.ok() ? decoded.value()->describe() : decoded.error().message));
    cite(v, "replay:   " + replayed->describe());
    if (!prefix.empty()) cite_event(v, "last event: ", run, prefix.back());
  }
  return c.out;
}

std::vector<Violation> upcast_equivalence(const RunView& run) {
  Collector c{"upcast_equivalence"};
  for (const auto& [stream, events] : index(*run.log).by_stream) {
    if (c.full()) break;
    auto deployed = model::call_initial(*run.domain);
    auto reference = model::call_initial(*run.domain);
    for (const Event* e : events) {
      model::call_evolve(*run.domain, *deployed, model::upcasted(*run.domain, *e, run.bugs));
      model::call_evolve(*run.domain, *reference, model::upcasted(*run.domain, *e));
      if (deployed->equals(*reference)) continue;
      Violation& v =
          c.add(fmt::format("{}: the deployed upcasters and the reference disagree", stream));
      cite_event(v, "at: ", run, *e);
      cite(v, "deployed: " + deployed->describe());
      cite(v, "reference: " + reference->describe());
      break;
    }
  }
  return c.out;
}

// ---- bank ----

// Folds each stream whose name starts with `prefix` and reports the first
// event after which `holds(state)` is false, per stream.
template <typename State>
std::vector<Violation> invariant_per_stream(const RunView& run, std::string property,
                                            std::string_view prefix, bool (*holds)(const State&),
                                            std::string_view broken) {
  Collector c{std::move(property)};
  for (const auto& [stream, events] : index(*run.log).by_stream) {
    if (!stream.starts_with(prefix) || c.full()) continue;
    auto state = model::call_initial(*run.domain);
    for (const Event* e : events) {
      model::call_evolve(*run.domain, *state, model::upcasted(*run.domain, *e));
      const auto& typed = dynamic_cast<const State&>(*state);
      if (holds(typed)) continue;
      Violation& v = c.add(fmt::format("{} {}", stream, broken));
      cite_event(v, "after: ", run, *e);
      cite(v, "state: " + typed.describe());
      break;
    }
  }
  return c.out;
}

std::vector<Violation> no_overdraft(const RunView& run) {
  return invariant_per_stream<model::domains::BankAccount>(
      run, "no_overdraft", "acct-",
      [](const model::domains::BankAccount& a) { return a.balance_cents >= 0; }, "went below zero");
}

std::vector<Violation> money_conserved(const RunView& run) {
  Collector c{"money_conserved"};
  // Per transfer: what left the source equals what reached the target or came back.
  struct Flow {
    std::int64_t debited = 0;
    std::int64_t credited = 0;
    std::int64_t refunded = 0;
    std::vector<const Event*> events;
  };
  std::map<std::string, Flow> flows;
  for (const Event* e : index(*run.log).in_log_order) {
    const std::string transfer = model::domains::event_transfer(*e);
    if (transfer.empty()) continue;
    Flow& f = flows[transfer];
    const std::int64_t amount = model::domains::event_amount(*e);
    if (e->type == "FundsDebited") f.debited += amount;
    if (e->type == "FundsCredited") f.credited += amount;
    if (e->type == "FundsRefunded") f.refunded += amount;
    f.events.push_back(e);
  }
  for (const auto& [transfer, f] : flows) {
    if (f.debited == f.credited + f.refunded || c.full()) continue;
    // A transfer still in flight when the run did not settle is not a leak.
    if (!run.quiet) continue;
    Violation& v = c.add(fmt::format(
        "transfer {}: {} debited, {} credited, {} refunded: {} cents {}", transfer, f.debited,
        f.credited, f.refunded, std::abs(f.debited - f.credited - f.refunded),
        f.debited > f.credited + f.refunded ? "vanished" : "appeared from nowhere"));
    for (const Event* e : f.events) cite_event(v, "", run, *e);
  }
  return c.out;
}

std::vector<Violation> sagas_complete(const RunView& run) {
  Collector c{"sagas_complete"};
  if (!run.quiet) return c.out;
  for (const auto& [stream, events] : index(*run.log).by_stream) {
    if (stream.rfind("transfer-", 0) != 0 || c.full()) continue;
    const std::string& last = events.back()->type;
    if (last == "TransferCompleted" || last == "TransferFailed") continue;
    Violation& v = c.add(fmt::format("{} never finished: its last event is {}", stream, last));
    for (const Event* e : events) cite_event(v, "", run, *e);
    const std::string id = stream.substr(std::string_view("transfer-").size());
    for (const HistoryEntry& h : run.history->entries()) {
      if (h.stream == "saga-" + id && h.type != HistoryEntry::Type::kInvoke)
        cite(v, model::describe(h));
    }
  }
  return c.out;
}

// ---- inventory ----

std::vector<Violation> no_oversell(const RunView& run) {
  return invariant_per_stream<model::domains::Sku>(
      run, "no_oversell", "sku-", [](const model::domains::Sku& s) { return s.available() >= 0; },
      "reserved more than its stock");
}

// ---- user code ----

std::string node_name(const RunView& run, sim::NodeId node) {
  if (node < run.node_names.size()) return run.node_names[node];
  return fmt::format("node {}", node);
}

// What nodes recorded when user code threw in them. Each distinct failure
// once (a handler that throws on one event throws again after every restart).
std::vector<Violation> user_code_does_not_throw(const RunView& run) {
  Collector c{std::string(kUserCodeDoesNotThrow)};
  if (run.user_failures == nullptr) return c.out;
  std::set<std::string> seen;
  for (const model::UserFailure& f : run.user_failures->kept()) {
    const std::string node = node_name(run, f.node);
    const std::string what = model::describe(f);
    if (!seen.insert(node + "\n" + what).second || c.full()) continue;
    Violation& v = c.add(fmt::format("{}: {}", node, what));
    cite(v, fmt::format("at {} the node fail-stopped", sim::format_time(f.at_us)));
    cite(v, fmt::format("{} time(s) user code threw in this run", run.user_failures->count()));
  }
  return c.out;
}

// A checker that threw: a violation with what it was doing, in place of its
// verdict, so the other properties are still checked.
Violation checker_threw(std::string_view property) {
  Violation v{std::string(kUserCodeDoesNotThrow), {}, {}};
  try {
    throw;
  } catch (const model::UserCodeError& e) {
    v.summary = fmt::format("checking {}: {}", property, e.what());
  } catch (const std::exception& e) {
    v.summary =
        fmt::format("checking {} threw {}: {}", property, model::demangled(typeid(e)), e.what());
  } catch (...) {
    v.summary = fmt::format("checking {} threw something that is not a std::exception", property);
  }
  cite(v, fmt::format("the checker of {} did not finish; its verdict is unknown", property));
  return v;
}

std::vector<Violation> checked(std::string_view property,
                               const std::function<std::vector<Violation>()>& check) {
  try {
    return check();
  } catch (...) {
    return {checker_threw(property)};
  }
}

std::vector<Violation> check_invariant(const RunView& run, const model::Invariant& invariant) {
  Collector c{invariant.name};
  for (const auto& [stream, events] : index(*run.log).by_stream) {
    if (!stream.starts_with(invariant.stream_prefix) || c.full()) continue;
    auto state = model::call_initial(*run.domain);
    for (const Event* e : events) {
      model::call_evolve(*run.domain, *state, model::upcasted(*run.domain, *e));
      if (model::call_holds(invariant, *state, *e)) continue;
      Violation& v = c.add(fmt::format("{}: {} does not hold", stream, invariant.description));
      cite_event(v, "after: ", run, *e);
      cite(v, "state: " + state->describe());
      break;
    }
  }
  return c.out;
}

}  // namespace

const std::vector<Property>& all_properties() {
  static const std::vector<Property> properties{
      {"no_lost_acknowledged_events", "",
       "every append a client saw acknowledged is in the store's log afterwards",
       no_lost_acknowledged_events},
      {"no_duplicate_commands", "", "no command's events were appended more than once",
       no_duplicate_commands},
      {"stream_versions_contiguous", "",
       "each stream's versions run 1, 2, 3... with no gap or repeat", stream_versions_contiguous},
      {"global_positions_monotonic", "",
       "positions are unique, consecutive within an append, and grow with each stream's versions",
       global_positions_monotonic},
      {"log_integrity", "", "the store's log has no corrupt record", log_integrity},
      {"projections_converge", "",
       "after the heal phase every client is idle and every "
       "projection has caught up, within the bound",
       projections_converge},
      {"replay_matches_projection", "",
       "every read model equals a clean replay of the final store through the same handler",
       replay_matches_projection},
      {"snapshot_equivalence", "",
       "every snapshot equals the replay of its stream up to the snapshot's version",
       snapshot_equivalence},
      {"upcast_equivalence", "",
       "folding the store through the deployed upcasters gives the same states as the "
       "reference upcasters",
       upcast_equivalence},
      {"no_overdraft", "bank", "no account's balance ever goes below zero", no_overdraft},
      {"money_conserved", "bank",
       "for every transfer, the money debited equals the money credited plus refunded",
       money_conserved},
      {"sagas_complete", "bank", "every transfer ends completed or failed", sagas_complete},
      {"no_oversell", "inventory", "no SKU ever has more reserved than in stock", no_oversell},
      {std::string(kUserCodeDoesNotThrow), "",
       "no user code (decide, evolve, generate, a handler, an invariant, a codec, an upcaster) "
       "threw; a payload that does not decode counts as a throw (always checked)",
       user_code_does_not_throw},
  };
  return properties;
}

std::vector<std::string> property_names(const model::Domain& domain) {
  std::vector<std::string> names;
  for (const Property& p : all_properties()) {
    if (p.domain.empty() || p.domain == domain.name()) names.push_back(p.name);
  }
  for (const model::Invariant& i : domain.invariants()) names.push_back(i.name);
  return names;
}

const Property* property_by_name(std::string_view name) {
  for (const Property& p : all_properties()) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

std::vector<Violation> check(const RunView& run, const std::vector<std::string>& names) {
  std::vector<Violation> out{};
  for (const Property& p : all_properties()) {
    const bool named = std::find(names.begin(), names.end(), p.name) != names.end();
    const bool applies = p.domain.empty() || p.domain == run.domain->name();
    // User code that threw is always reported: nothing else explains the run.
    const bool always = p.name == kUserCodeDoesNotThrow;
    if ((names.empty() && applies) || named || always) {
      auto found = checked(p.name, [&] { return p.check(run); });
      out.insert(out.end(), found.begin(), found.end());
    }
  }
  for (const model::Invariant& invariant : run.domain->invariants()) {
    const bool named = std::find(names.begin(), names.end(), invariant.name) != names.end();
    if (!names.empty() && !named) continue;
    auto found = checked(invariant.name, [&] { return check_invariant(run, invariant); });
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

}  // namespace essim::properties
