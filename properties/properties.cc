#include "properties/properties.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <typeinfo>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "properties/schema_evolution.h"

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

// The final store in position order, upcast by the reference upcasters.
std::vector<Event> upcast_log(const RunView& run) {
  std::vector<Event> log;
  for (const auto& [position, e] : index(*run.log).by_position) {
    log.push_back(model::upcasted(*run.domain, *e));
  }
  return log;
}

// The oracle: the final store, in position order, through the same handler,
// with the reference upcasters.
model::ReadModel clean_replay(const std::vector<Event>& log,
                              const model::ProjectionHandler& handler) {
  model::ReadModel model;
  model::call_handler_all(handler, model, log);
  return model;
}

// Cites where `expected` and `actual` part, one line each; returns how many paths do.
std::size_t cite_difference(Violation& v, const model::ReadModel& expected,
                            const model::ReadModel& actual) {
  std::size_t differ = 0;
  const std::string difference = describe_difference(expected, actual, 5, &differ);
  for (std::size_t at = 0; at < difference.size();) {
    const std::size_t end = std::min(difference.find('\n', at), difference.size());
    cite(v, difference.substr(at, end - at));
    at = end + 1;
  }
  return differ;
}

std::vector<Violation> replay_matches_projection(const RunView& run) {
  Collector c{"replay_matches_projection"};
  if (!run.quiet) return c.out;  // not caught up: projections_converge says so
  const std::vector<Event> log = upcast_log(run);
  for (const ProjectionView& p : run.projections) {
    if (p.state == nullptr || p.handler == nullptr || c.full()) continue;
    const model::ReadModel expected = clean_replay(log, *p.handler);
    if (expected != p.state->model) {
      Violation& v =
          c.add(fmt::format("projection {} differs from a clean replay of the store", p.name));
      // Expected: the replay; got: the projection.
      const std::size_t differ = cite_difference(v, expected, p.state->model);
      v.summary += fmt::format(" ({} difference(s); the handler ran {} times for {} events)",
                               differ, p.state->events_applied, log.size());
    }
    // The independent oracle: what the handler should have arrived at.
    if (!p.handler->reference || c.full()) continue;
    const model::ReadModel reference = model::call_reference(*p.handler, log);
    if (reference == p.state->model) continue;
    Violation& v =
        c.add(fmt::format("projection {} differs from its handler's reference projection", p.name));
    // Expected: the reference; got: the projection.
    const std::size_t differ = cite_difference(v, reference, p.state->model);
    v.summary += fmt::format(" ({} difference(s) over {} events)", differ, log.size());
  }
  return c.out;
}

// Every audit the run made found the store's log whole: every record's CRC
// and link good, up to a torn tail at most (what a crash leaves, and what
// recovery cuts off).
std::vector<Violation> audits_pass(const RunView& run) {
  Collector c{"audits_pass"};
  if (run.audits == nullptr) return c.out;
  for (const AuditRecord& a : *run.audits) {
    if (a.report.status != model::LogScan::Status::kCorrupt || c.full()) continue;
    Violation& v = c.add(fmt::format("the audit at {} found the store's log corrupt: {}",
                                     sim::format_time(a.at_us), a.report.problem));
    cite(v, fmt::format("{} records ({} bytes) verify before it; the log holds {} bytes",
                        a.report.records, a.report.good_bytes, a.report.file_bytes));
  }
  return c.out;
}

// A rebuild, once the run settled or its bus had nothing more to deliver: it
// cut over, and its read model is what a clean replay of the final store
// gives (events appended while it replayed included).
std::vector<Violation> rebuild_matches_live(const RunView& run) {
  Collector c{"rebuild_matches_live"};
  if (run.rebuilds.empty()) return c.out;
  const std::vector<Event> log = upcast_log(run);
  for (const RebuildView& r : run.rebuilds) {
    if (c.full()) break;
    // Fell behind for good: its worker waits for an event that never comes
    // (or the run settled without it), while the live one handled everything.
    if (!r.caught_up && r.live_caught_up && (!r.gap.empty() || run.quiet)) {
      Violation& v = c.add(fmt::format(
          "the rebuild of {} fell behind for good: the live projection handled the whole store, "
          "the rebuild ({}) only through position {}",
          r.live, r.worker, r.rebuilt_through));
      if (!r.gap.empty()) cite(v, fmt::format("its worker waits for {}, which never came", r.gap));
      cite(v, r.log->cut_over_at_us
                  ? fmt::format("started at {}; queries cut over to it at {} and stay behind",
                                sim::format_time(r.started_at_us),
                                sim::format_time(*r.log->cut_over_at_us))
                  : fmt::format("started at {}; it never cut over",
                                sim::format_time(r.started_at_us)));
      continue;
    }
    // Still catching up when the run ended: projections_converge says so.
    if (!(run.quiet || r.caught_up)) continue;
    if (!r.log->cut_over_at_us) {
      Violation& v = c.add(fmt::format("the rebuild of {} never cut over", r.live));
      cite(v, fmt::format("started at {}; {} answer(s) served by {}",
                          sim::format_time(r.started_at_us), r.log->live_served, r.live));
      continue;
    }
    if (r.state == nullptr || r.handler == nullptr) continue;
    const model::ReadModel expected = clean_replay(log, *r.handler);
    if (expected == r.state->model) continue;
    Violation& v = c.add(fmt::format(
        "the rebuild of {} ({}) differs from a clean replay of the store", r.live, r.worker));
    const std::size_t differ = cite_difference(v, expected, r.state->model);
    v.summary += fmt::format(
        " ({} difference(s); it applied {} events of {}; started at {}, cut "
        "over at {})",
        differ, r.state->events_applied, log.size(), sim::format_time(r.started_at_us),
        sim::format_time(*r.log->cut_over_at_us));
  }
  return c.out;
}

// No query served after a rebuild's cut-over saw less than one served before
// it: every stream at least at the version the live projection had served.
std::vector<Violation> rebuild_never_goes_back(const RunView& run) {
  Collector c{"rebuild_never_goes_back"};
  for (const RebuildView& r : run.rebuilds) {
    for (const model::RebuildLog::Answer& a : r.log->first_rebuilt) {
      if (c.full()) break;
      // Behind what the live projection served, or behind what it had made
      // durable when the rebuild began (recorded by the harness).
      const model::Versions* before = &r.log->live_max;
      auto stream = model::behind_in(a.applied, *before);
      std::string what = fmt::format("after {} had served version", r.live);
      if (!stream && r.log->live_at_start) {
        before = &*r.log->live_at_start;
        stream = model::behind_in(a.applied, *before);
        what = fmt::format("while {} had made durable version", r.live);
      }
      if (!stream) continue;
      const auto it = a.applied.find(*stream);
      const std::uint64_t had = it == a.applied.end() ? 0 : it->second;
      Violation& v = c.add(fmt::format(
          "a query at {} saw {} go back across the cut-over: stream {} at version {}, {} {}",
          sim::format_time(a.at_us), r.live, *stream, had, what, before->at(*stream)));
      cite(v, fmt::format("cut over to {} at {}, after {} answer(s) from {}; the rebuilt read "
                          "model had applied {} events",
                          r.worker, sim::format_time(r.log->cut_over_at_us.value_or(0)),
                          r.log->live_served, r.live, a.events_applied));
      break;  // one finding per rebuild
    }
  }
  return c.out;
}

// ---- backups and the restore drill ----

// The commits of a backup's whole records (a torn tail, if any, left out).
std::vector<model::CommitRecord> backup_commits(const model::Backup& backup) {
  return model::read_store_log(backup.bytes).commits;
}

std::string positions_of(const model::CommitRecord& commit) {
  const Event& first = commit.events.front();
  const Event& last = commit.events.back();
  return first.position == last.position
             ? fmt::format("position {} ({} v{})", first.position, first.stream, first.version)
             : fmt::format("positions {}..{} ({})", first.position, last.position, first.stream);
}

// Every backup that completed is whole records, every one of them committed
// in the store when it was taken (durable in its log, and in its log at the
// end in the same place), and holds every append a client saw acknowledged
// before it began.
std::vector<Violation> backup_consistent(const RunView& run) {
  Collector c{"backup_consistent"};
  if (run.backups == nullptr) return c.out;
  for (std::size_t n = 0; n < run.backups->backups.size() && !c.full(); ++n) {
    const model::Backup& b = run.backups->backups[n];
    if (!b.done_at_us) continue;
    const std::string what =
        fmt::format("the backup asked for at {}{}", sim::format_time(b.requested_at_us),
                    b.file_copy ? " (a copy of the store's file)" : "");
    const model::LogScan scan = model::scan_log(b.bytes);
    if (scan.status != model::LogScan::Status::kClean) {
      Violation& v = c.add(fmt::format("{} does not end at a record boundary: {}", what,
                                       scan.status == model::LogScan::Status::kTornTail
                                           ? "it ends in a torn record"
                                           : "it holds a corrupt record"));
      cite(v, scan.problem);
      cite(v, fmt::format("{} bytes, {} whole records in {} bytes", b.bytes.size(),
                          scan.bodies.size(), scan.valid_bytes));
      continue;
    }
    const std::vector<model::CommitRecord> commits = backup_commits(b);
    // Committed: durable in the store's log when the backup's end was fixed
    // (the agent learnt it just after), and still there when it completed.
    const std::uint64_t committed = std::min(b.durable_at_done, b.durable_at_fix);
    if (committed < b.bytes.size()) {
      std::uint64_t at = 0;
      std::size_t first = 0;  // the first commit past it
      for (const model::ByteView body : scan.bodies) {
        at += model::kRecordHeaderBytes + body.size();
        if (at > committed) break;
        ++first;
      }
      Violation& v = c.add(
          b.durable_at_fix < b.bytes.size()
              ? fmt::format("{} holds {} byte(s) past what the store's log held durably when "
                            "the backup's end was fixed: appends not yet committed",
                            what, b.bytes.size() - b.durable_at_fix)
              : fmt::format("{} holds {} byte(s) the store's log did not hold durably when it "
                            "completed at {}: appends not yet committed",
                            what, b.bytes.size() - b.durable_at_done,
                            sim::format_time(*b.done_at_us)));
      if (first < commits.size()) {
        cite(v, fmt::format("the first: {}, {} commit(s) from the end",
                            positions_of(commits[first]), commits.size() - first));
        v.positions.push_back(commits[first].events.front().position);
      }
      continue;
    }
    // A prefix of the store's log: what the store has at the end begins with it.
    const bool log_whole = run.log->status != model::LogScan::Status::kCorrupt;
    for (std::size_t i = 0; i < commits.size(); ++i) {
      const bool held =
          i < run.log->commits.size() && run.log->commits[i].events == commits[i].events;
      if (held || (!log_whole && i >= run.log->commits.size())) continue;
      Violation& v =
          c.add(fmt::format("{} is not a prefix of the store's log: its commit {} ({}) "
                            "is not the log's",
                            what, i + 1, positions_of(commits[i])));
      if (i < run.log->commits.size())
        cite(v, "the log has there: " + positions_of(run.log->commits[i]));
      else
        cite(v, fmt::format("the log ends after {} commit(s)", run.log->commits.size()));
      v.positions.push_back(commits[i].events.front().position);
      break;
    }
    if (!c.out.empty() && c.out.back().summary.starts_with(what)) continue;
    // Every append acknowledged before the backup began is in it.
    std::set<std::uint64_t> held;
    for (const model::CommitRecord& commit : commits) {
      for (const Event& e : commit.events) held.insert(e.position);
    }
    for (const HistoryEntry& h : run.history->entries()) {
      if (h.type != HistoryEntry::Type::kOk || h.events == 0 || h.at_us >= b.began_at_us) continue;
      if (held.contains(h.first_position)) continue;
      Violation& v = c.add(fmt::format(
          "{} misses position {} of {}, acknowledged at {} before the backup began at {}", what,
          h.first_position, h.stream, sim::format_time(h.at_us), sim::format_time(b.began_at_us)));
      cite(v, "acknowledged: " + model::describe(h));
      cite(v, fmt::format("the backup holds {} commit(s)", commits.size()));
      v.positions.push_back(h.first_position);
      break;
    }
  }
  return c.out;
}

// The restored store recovered from the backup and kept it, its log is
// whole, the projections built from it equal a clean replay of it, and it
// lost no append its client saw acknowledged.
std::vector<Violation> restore_replays_clean(const RunView& run) {
  Collector c{"restore_replays_clean"};
  if (!run.restore || !run.restore->ran) return c.out;
  const RestoreView& r = *run.restore;
  const std::string what = fmt::format("the store restored at {} from backup {}",
                                       sim::format_time(r.at_us), r.backup_number + 1);
  if (r.log.status == model::LogScan::Status::kCorrupt) {
    Violation& v = c.add(fmt::format("{}: its log is corrupt: {}", what, r.log.problem));
    cite(v, fmt::format("{} commits verify before the bad record", r.log.commits.size()));
  }
  const std::vector<model::CommitRecord> backup = backup_commits(*r.backup);
  for (std::size_t i = 0; i < backup.size(); ++i) {
    if (i < r.log.commits.size() && r.log.commits[i].events == backup[i].events) continue;
    Violation& v = c.add(
        fmt::format("{} lost the backup's commit {} ({})", what, i + 1, positions_of(backup[i])));
    cite(v, fmt::format("the backup holds {} commit(s), the restored log {} first", backup.size(),
                        std::min(i, r.log.commits.size())));
    v.positions.push_back(backup[i].events.front().position);
    break;
  }
  // Appends its client saw acknowledged.
  std::map<std::uint64_t, const Event*> by_position;
  std::vector<Event> upcast;
  for (const model::CommitRecord& commit : r.log.commits) {
    for (const Event& e : commit.events) by_position.emplace(e.position, &e);
  }
  for (const auto& [position, e] : by_position) upcast.push_back(model::upcasted(*run.domain, *e));
  for (const HistoryEntry& h : r.history->entries()) {
    if (h.type != HistoryEntry::Type::kOk || h.events == 0 || c.full()) continue;
    const auto it = by_position.find(h.first_position);
    if (it != by_position.end() && it->second->stream == h.stream) continue;
    Violation& v = c.add(fmt::format("{} lost position {} of {}, acknowledged to its client", what,
                                     h.first_position, h.stream));
    cite(v, "acknowledged: " + model::describe(h));
    v.positions.push_back(h.first_position);
    break;
  }
  if (!run.quiet) return c.out;  // still catching up: projections_converge says so
  for (const ProjectionView& p : r.workers) {
    if (p.state == nullptr || p.handler == nullptr || c.full()) continue;
    const model::ReadModel expected = clean_replay(upcast, *p.handler);
    if (expected == p.state->model) continue;
    Violation& v = c.add(
        fmt::format("{}: {}, built from it, differs from a clean replay of its log", what, p.name));
    const std::size_t differ = cite_difference(v, expected, p.state->model);
    v.summary += fmt::format(" ({} difference(s); {} events applied of {})", differ,
                             p.state->events_applied, upcast.size());
  }
  return c.out;
}

// The handlers of the run's projections, each once.
std::vector<model::ProjectionHandler> run_handlers(const RunView& run) {
  std::vector<model::ProjectionHandler> handlers;
  for (const ProjectionView& p : run.projections) {
    if (p.handler == nullptr) continue;
    const bool seen = std::any_of(handlers.begin(), handlers.end(),
                                  [&](const auto& h) { return h.name == p.handler->name; });
    if (!seen) handlers.push_back(*p.handler);
  }
  return handlers;
}

// Exhaustiveness: an event of a type the domain emits reached a handler (of
// a projection in this run) or evolve that declared its types but neither
// handles nor ignores that one. Each consumer and type once, at its first event.
std::vector<Violation> handlers_exhaustive(const RunView& run) {
  Collector c{"handlers_exhaustive"};
  const std::vector<model::EventCoverage> coverage =
      model::declared_coverage(*run.domain, run_handlers(run));
  std::set<std::string> reported;
  const model::KnownEvents known(*run.domain);
  for (const Event* e : index(*run.log).in_log_order) {
    if (c.full()) break;
    if (!known.knows(e->type)) continue;  // reported where it is read
    for (const model::EventCoverage& consumer : coverage) {
      if (consumer.covers(e->type) || !reported.insert(consumer.consumer + "\n" + e->type).second)
        continue;
      Violation& v = c.add(fmt::format("{} reached {}, which neither handles nor ignores it",
                                       e->type, consumer.consumer));
      cite_event(v, "first: ", run, *e);
      cite(v, fmt::format("it handles: {}", fmt::join(consumer.handles, ", ")));
      if (!consumer.ignores.empty())
        cite(v, fmt::format("it ignores: {}", fmt::join(consumer.ignores, ", ")));
    }
  }
  return c.out;
}

// ---- forgetting a person (crypto-shredding) ----

// The offset of `needle` in `haystack`, or nullopt (byte for byte: as
// unsigned bytes on both sides, whatever the sign of char).
std::optional<std::size_t> find_bytes(const model::Bytes& haystack, std::string_view needle) {
  const auto* first = reinterpret_cast<const std::uint8_t*>(needle.data());
  const auto it = std::search(haystack.begin(), haystack.end(),
                              std::boyer_moore_horspool_searcher(first, first + needle.size()));
  if (it == haystack.end()) return std::nullopt;
  return static_cast<std::size_t>(it - haystack.begin());
}

const std::set<std::string>* sealed_for(const model::PersonalLedger& ledger,
                                        std::string_view subject) {
  const auto it = ledger.sealed.find(subject);
  return it == ledger.sealed.end() ? nullptr : &it->second;
}

// The path of the first string in `model` holding `value`
// (["customer-3"]["name"]), or "" if none does.
std::string path_holding(const Value& at, std::string_view value, const std::string& path) {
  if (at.is_string()) return at.as_string().find(value) != std::string::npos ? path : "";
  if (at.is_map()) {
    for (const auto& [key, inner] : at.as_map()) {
      const std::string here = fmt::format("{}[\"{}\"]", path, key);
      if (key.find(value) != std::string::npos) return "the key " + here;
      std::string found = path_holding(inner, value, here);
      if (!found.empty()) return found;
    }
  } else if (at.kind() == Value::Kind::kList) {
    const Value::List& list = at.as_list();
    for (std::size_t i = 0; i < list.size(); ++i) {
      std::string found = path_holding(list[i], value, fmt::format("{}[{}]", path, i));
      if (!found.empty()) return found;
    }
  }
  return "";
}
std::string path_holding(const model::ReadModel& model, std::string_view value) {
  return path_holding(Value(model), value, "");
}

// Every personal value in the store's log is sealed for its event's
// subject (a token of that subject, or kForgotten): one a writer left in
// plaintext, or sealed for another subject, would outlive its forget.
void personal_values_sealed(const RunView& run, Collector& c) {
  const model::PersonalIndex index(*run.domain);
  std::set<std::string> reported;  // one finding per event type
  for (const model::CommitRecord& commit : run.log->commits) {
    for (const Event& e : commit.events) {
      const PersonalData* data = index.find(e.type);
      if (data == nullptr || reported.contains(e.type) || c.full()) continue;
      const std::string subject = model::personal_subject(*data, e);
      std::string wrong;
      std::size_t fields = 0;
      (void)model::rewrite_personal(*data, e, [&](const std::string& value) {
        ++fields;
        if (wrong.empty() && (subject.empty() || !model::seals_for(value, subject))) {
          const auto other = model::token_subject(value);
          wrong = subject.empty()
                      ? "its subject is empty, so nothing can seal it (subject() must name "
                        "whose data every event of this type holds)"
                  : other ? fmt::format(
                                "personal value {} is sealed for another subject than the one "
                                "subject() names for the event as stored (subject() must not "
                                "read a personal field: use an opaque id such as the stream)",
                                fields)
                          : fmt::format(
                                "personal value {} is not sealed ({} bytes): rewrite "
                                "must return every value as seal gives it back, in a "
                                "string field",
                                fields, value.size());
        }
        return value;
      });
      if (wrong.empty()) continue;
      reported.insert(e.type);
      Violation& v =
          c.add(fmt::format("an event of {} in the store's log holds personal data "
                            "no forget can reach: {}",
                            e.type, wrong));
      cite_event(v, "", run, e);
    }
  }
}

// Every personal value in the log is sealed for its subject; every forget
// asked for was carried out; then no file on any node's disk and no read
// model holds a forgotten subject's plaintext, nor its key. The evidence
// names a value by its place among the subject's, never shows it.
std::vector<Violation> forgotten_subjects_absent(const RunView& run) {
  Collector c{"forgotten_subjects_absent"};
  if (!run.personal || run.personal->ledger == nullptr) return c.out;
  const PersonalView& p = *run.personal;
  const model::PersonalLedger& ledger = *p.ledger;
  if (run.log != nullptr) personal_values_sealed(run, c);
  for (const PersonalView::Asked& asked : p.asked) {
    if (ledger.forgotten_subject(asked.subject) || c.full()) continue;
    Violation& v = c.add(fmt::format("{} was to be forgotten at {}, and the key store never did",
                                     asked.subject, sim::format_time(asked.at_us)));
    cite(v, "its key may still be given out: what was sealed for it stays readable");
    cite(v, "heal phase: " + run.heal_end);
  }
  // A value's bytes may turn up inside a token's hex by chance: not a copy.
  // Each place is blanked once, whatever the number of forgotten subjects.
  std::vector<model::Bytes> blanked;
  if (!ledger.forgotten.empty()) {
    blanked.reserve(p.places.size());
    for (const PersonalView::Place& place : p.places) {
      blanked.push_back(place.bytes);
      model::blank_tokens(blanked.back());
    }
  }
  for (const model::PersonalLedger::Forgotten& f : ledger.forgotten) {
    const std::set<std::string>* values = sealed_for(ledger, f.subject);
    for (std::size_t i = 0; i < p.places.size(); ++i) {
      if (c.full()) return c.out;
      const PersonalView::Place& place = p.places[i];
      const model::Bytes& searched = blanked[i];
      if (!f.key.empty()) {
        const std::string_view key(reinterpret_cast<const char*>(f.key.data()), f.key.size());
        if (const auto at = find_bytes(place.bytes, key)) {
          Violation& v = c.add(fmt::format("the key of {}, deleted at {}, is still in {}",
                                           f.subject, sim::format_time(f.at_us), place.name));
          cite(v, fmt::format("at byte {} of {}: whoever reads it can open every token of {}", *at,
                              place.bytes.size(), f.subject));
          continue;
        }
      }
      if (values == nullptr) continue;
      std::size_t index = 0;
      for (const std::string& value : *values) {
        ++index;
        if (value.size() < kPersonalValueMin) continue;
        const auto at = find_bytes(searched, value);
        if (!at) continue;
        Violation& v = c.add(
            fmt::format("{} holds personal data of {} in plaintext after {} was forgotten at {}",
                        place.name, f.subject, f.subject, sim::format_time(f.at_us)));
        const auto origin = ledger.origins.find(value);
        const std::string where = place.model != nullptr ? path_holding(*place.model, value) : "";
        cite(v, fmt::format("{} ({} bytes; not shown here), {}",
                            origin == ledger.origins.end()
                                ? fmt::format("value {} of the {} sealed for {}", index,
                                              values->size(), f.subject)
                                : "the value of " + origin->second,
                            value.size(),
                            where.empty() ? fmt::format("at byte {} of {}", *at, place.bytes.size())
                                          : "at " + where));
        cite(v,
             "its key is deleted, so every sealed copy is unreadable; this copy was never "
             "sealed, or was revealed and kept");
        break;  // one finding per subject and place
      }
    }
  }
  return c.out;
}

// ---- the decision model ----

// One stream's decisions, held to the domain's DecisionModel in log order.
class DecisionChecker {
 public:
  DecisionChecker(const RunView& run, const model::DecisionModel& model, Collector& c)
      : run_(run), model_(model), c_(c) {
    for (const HistoryEntry& h : run.history->entries()) {
      if (h.type == HistoryEntry::Type::kInvoke && !h.command.kind.empty())
        commands_.emplace(h.command_id, &h.command);
      if (h.decided && h.events == 0 && explains(h.command))
        decisions_[h.stream].emplace(h.stream_version, &h);
    }
  }

  // Walks `stream`'s commits; stops at the first disagreement (the model and
  // the aggregate have parted) or at a commit whose command is unknown.
  void check(const std::string& stream, const std::vector<const model::CommitRecord*>& commits) {
    if (model_.walk && walk(stream, commits)) return;
    Value state;
    std::uint64_t version = 0;
    for (const model::CommitRecord* commit : commits) {
      if (!decisions_at(stream, version, state)) return;
      const auto it = commands_.find(commit->command_id);
      if (it == commands_.end()) return;  // not a client's command: nothing to hold it to
      const Command& command = *it->second;
      version = commit->events.back().version;
      if (!explains(command)) continue;
      if (!model::call_model_accepts(model_, state, command, run_.domain)) {
        refused(stream, command, *commit, state);
        return;
      }
      model::call_model_apply(model_, state, command, run_.domain);
    }
    decisions_at(stream, version, state);
  }

  // The streams with decisions that appended nothing (some may have no commit).
  std::vector<std::string> decided_streams() const {
    std::vector<std::string> out;
    for (const auto& [stream, decisions] : decisions_) out.push_back(stream);
    return out;
  }

 private:
  bool explains(const Command& command) const {
    return model_.kinds.empty() ||
           std::find(model_.kinds.begin(), model_.kinds.end(), command.kind) != model_.kinds.end();
  }

  // The decisions that appended nothing, made on `stream` at `version`.
  bool decisions_at(const std::string& stream, std::uint64_t version, const Value& state) {
    for (const HistoryEntry* h : decided(stream, version)) {
      if (model::call_model_accepts(model_, state, h->command, run_.domain) ==
          (h->type == HistoryEntry::Type::kOk))
        continue;
      disagreed(stream, *h, version, state);
      return false;
    }
    return true;
  }

  std::vector<const HistoryEntry*> decided(const std::string& stream, std::uint64_t version) const {
    std::vector<const HistoryEntry*> out;
    const auto it = decisions_.find(stream);
    if (it == decisions_.end()) return out;
    const auto [from, to] = it->second.equal_range(version);
    for (auto d = from; d != to; ++d) out.push_back(d->second);
    return out;
  }

  // check() in one DecisionModel::walk: the same steps in the same order,
  // ending where check() would. False when the domain's code threw in it.
  bool walk(const std::string& stream, const std::vector<const model::CommitRecord*>& commits) {
    struct Origin {
      const HistoryEntry* decision = nullptr;  // else `commit`'s command
      const model::CommitRecord* commit = nullptr;
      std::uint64_t version = 0;
    };
    std::vector<model::DecisionModel::Step> steps;
    std::vector<Origin> origins;
    const auto decisions = [&](std::uint64_t version) {
      for (const HistoryEntry* h : decided(stream, version)) {
        steps.push_back({&h->command, h->type == HistoryEntry::Type::kOk, false});
        origins.push_back({h, nullptr, version});
      }
    };
    std::uint64_t version = 0;
    bool unknown = false;
    for (const model::CommitRecord* commit : commits) {
      decisions(version);
      const auto it = commands_.find(commit->command_id);
      if (it == commands_.end()) {
        unknown = true;
        break;
      }
      version = commit->events.back().version;
      if (!explains(*it->second)) continue;
      steps.push_back({it->second, true, true});
      origins.push_back({nullptr, commit, version});
    }
    if (!unknown) decisions(version);
    if (steps.empty()) return true;
    model::DecisionModel::Walked walked;
    if (!model::walked([&] { walked = model_.walk(steps); })) return false;
    if (walked.agreed >= steps.size()) return true;
    const Origin& o = origins[walked.agreed];
    if (o.decision != nullptr) {
      disagreed(stream, *o.decision, o.version, walked.state);
    } else {
      refused(stream, *steps[walked.agreed].command, *o.commit, walked.state);
    }
    return true;
  }

  void refused(const std::string& stream, const Command& command, const model::CommitRecord& commit,
               const Value& state) {
    Violation& v = c_.add(fmt::format("{}: {} was accepted, but the model refuses it", stream,
                                      model::describe_command(command, run_.domain)));
    cite(v, "model state: " + state.to_json());
    for (const Event& e : commit.events) cite_event(v, "appended: ", run_, e);
  }

  void disagreed(const std::string& stream, const HistoryEntry& h, std::uint64_t version,
                 const Value& state) {
    const bool accepted = h.type == HistoryEntry::Type::kOk;
    Violation& v = c_.add(fmt::format("{}: {} was {} at version {}, but the model {} it", stream,
                                      model::describe_command(h.command, run_.domain),
                                      accepted ? "accepted" : "refused (" + h.detail + ")", version,
                                      accepted ? "refuses" : "accepts"));
    cite(v, "model state: " + state.to_json());
    cite(v, "decision: " + model::describe(h));
  }

  const RunView& run_;
  const model::DecisionModel& model_;
  Collector& c_;
  std::map<model::CommandId, const Command*> commands_;
  std::map<std::string, std::multimap<std::uint64_t, const HistoryEntry*>> decisions_;
};

std::vector<Violation> decisions_match_model(const RunView& run) {
  Collector c{"decisions_match_model"};
  const std::optional<model::DecisionModel> decision_model =
      model::call_decision_model(*run.domain);
  if (!decision_model) return c.out;
  std::map<std::string, std::vector<const model::CommitRecord*>> streams;
  for (const model::CommitRecord& commit : run.log->commits) {
    if (!commit.events.empty()) streams[commit.events.front().stream].push_back(&commit);
  }
  DecisionChecker checker(run, *decision_model, c);
  for (const std::string& stream : checker.decided_streams()) streams.try_emplace(stream);
  for (const auto& [stream, commits] : streams) {
    if (c.full()) break;
    checker.check(stream, commits);
  }
  return c.out;
}

std::vector<Violation> snapshot_equivalence(const RunView& run) {
  Collector c{"snapshot_equivalence"};
  const Index ix = index(*run.log);
  // Each stream is folded once, in version order, and each of its snapshots
  // compared as the fold passes its version: linear in the log, however many
  // snapshots there are. Findings keep the snapshots' order.
  std::map<std::string_view, std::vector<std::size_t>> by_stream;
  for (std::size_t i = 0; i < run.snapshots.size(); ++i)
    by_stream[run.snapshots[i].stream].push_back(i);
  struct Finding {
    std::string snapshot;
    std::string replay;
    const Event* last = nullptr;
  };
  std::map<std::size_t, Finding> findings;
  static const std::vector<const Event*> kNoEvents;
  for (auto& [stream, snapshots] : by_stream) {
    std::stable_sort(snapshots.begin(), snapshots.end(), [&](std::size_t a, std::size_t b) {
      return run.snapshots[a].version < run.snapshots[b].version;
    });
    const auto it = ix.by_stream.find(std::string(stream));
    const std::vector<const Event*>& events = it == ix.by_stream.end() ? kNoEvents : it->second;
    std::unique_ptr<model::AggregateState> state = model::call_initial(*run.domain);
    std::uint64_t folded = 0;  // events of the stream folded, all at versions <= the snapshot's
    std::size_t next = 0;
    const Event* last = nullptr;
    Event scratch;
    for (const std::size_t i : snapshots) {
      const model::SnapshotSave& s = run.snapshots[i];
      while (next < events.size() && events[next]->version <= s.version) {
        last = events[next++];
        // The deployed upcasters, never a bug variant's: the clean replay.
        model::call_evolve(*run.domain, *state, model::latest(*run.domain, *last, {}, scratch));
        ++folded;
      }
      if (folded != s.version) continue;  // events past the store's end: not this property's
      auto decoded = model::call_decode_state(*run.domain, s.state, s.stream);
      if (decoded.ok() && decoded.value()->equals(*state)) continue;
      findings[i] = {decoded.ok() ? decoded.value()->describe() : decoded.error().message,
                     state->describe(), last};
    }
  }
  for (const auto& [i, f] : findings) {
    if (c.full()) break;
    const model::SnapshotSave& s = run.snapshots[i];
    Violation& v = c.add(fmt::format(
        "snapshot of {} at version {} differs from replaying the stream", s.stream, s.version));
    cite(v, "snapshot: " + f.snapshot);
    cite(v, "replay:   " + f.replay);
    if (f.last != nullptr) cite_event(v, "last event: ", run, *f.last);
  }
  return c.out;
}

// The commands clients saw decided, by stream and the version they were
// decided on: those whose events are in the log, and those that appended nothing.
DecisionsByStream decisions_by_stream(const RunView& run) {
  std::map<model::CommandId, const Command*> commands;
  DecisionsByStream out;
  for (const HistoryEntry& h : run.history->entries()) {
    if (h.type == HistoryEntry::Type::kInvoke && !h.command.kind.empty())
      commands.emplace(h.command_id, &h.command);
    if (h.decided && h.events == 0 && !h.command.kind.empty())
      out[h.stream].emplace(h.stream_version, &h.command);
  }
  for (const model::CommitRecord& commit : run.log->commits) {
    const auto it = commands.find(commit.command_id);
    if (it == commands.end() || commit.events.empty()) continue;
    const Event& first = commit.events.front();
    out[first.stream].emplace(first.version - 1, it->second);
  }
  return out;
}

std::vector<Violation> upcast_equivalence(const RunView& run) {
  Collector c{"upcast_equivalence"};
  // The independent oracle: the log written again by the domain's old writers.
  const DecisionsByStream decisions = decisions_by_stream(run);
  if (auto d = schema_evolution_difference(*run.domain, upcast_log(run), run_handlers(run),
                                           decisions, run.bugs)) {
    Violation& v = c.add(d->summary);
    for (std::string& line : d->evidence) cite(v, std::move(line));
    if (d->position) v.positions.push_back(*d->position);
  }
  if (!run.bugs.any()) return c.out;
  // essim's own upcaster variants: the events stored at old schemas, through
  // the deployed upcasters and the reference ones.
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
  } catch (const model::HarnessFailure&) {
    throw;
  } catch (...) {
    return {checker_threw(property)};
  }
}

namespace {

// At most this many events in one walk (Invariant::walk, LogInvariant::walk).
constexpr std::size_t kWalkMax = 512;

// `events` upcast to their latest schema and given to `walk` in runs of at
// most kWalkMax, each run ending before an event that needs an upcast (an
// upcast is a call of the domain's too, made when the calls one event at a
// time would make it: after the walk of the events before it). `walk`
// returns false to stop.
template <typename Walk>
void in_runs(const model::Domain& domain, const std::vector<const Event*>& events, Walk&& walk) {
  std::vector<Event> run;
  std::size_t first = 0;  // the index in `events` of run.front()
  for (std::size_t i = 0; i < events.size(); ++i) {
    const bool upcast = model::call_user([] { return std::string("asking for an upcast"); },
                                         [&] { return domain.needs_upcast(*events[i]); });
    if (!run.empty() && (upcast || run.size() == kWalkMax)) {
      if (!walk(run, first)) return;
      run.clear();
    }
    if (run.empty()) first = i;
    run.push_back(model::upcasted(domain, *events[i]));
  }
  if (!run.empty()) walk(run, first);
}

}  // namespace

std::vector<Violation> check_invariant(const RunView& run, const model::Invariant& invariant) {
  Collector c{invariant.name};
  const Index ix = index(*run.log);
  for (const auto& by_stream : ix.by_stream) {
    const std::string& stream = by_stream.first;  // named: lambdas below capture them
    const std::vector<const Event*>& events = by_stream.second;
    if (!stream.starts_with(invariant.stream_prefix) || c.full()) continue;
    auto state = model::call_initial(*run.domain);
    const auto broken = [&](std::size_t at) {
      Violation& v = c.add(fmt::format("{}: {} does not hold", stream, invariant.description));
      cite_event(v, "after: ", run, *events[at]);
      cite(v, "state: " + state->describe());
    };
    // events[at], upcast: false when the invariant does not hold after it.
    const auto step = [&](const Event& upcast, std::size_t at) {
      model::call_evolve(*run.domain, *state, upcast);
      if (model::call_holds(invariant, *state, *events[at])) return true;  // as stored
      broken(at);
      return false;
    };
    const auto one_by_one = [&](const std::vector<Event>& upcast, std::size_t first) {
      for (std::size_t i = 0; i < upcast.size(); ++i) {
        if (!step(upcast[i], first + i)) return false;
      }
      return true;
    };
    if (!invariant.walk) {
      for (std::size_t i = 0; i < events.size(); ++i) {
        if (!step(model::upcasted(*run.domain, *events[i]), i)) break;
      }
      continue;
    }
    in_runs(*run.domain, events, [&](const std::vector<Event>& upcast, std::size_t first) {
      std::size_t at = upcast.size();
      if (!model::walked([&] { at = invariant.walk(*state, upcast); }))
        return one_by_one(upcast, first);
      if (at >= upcast.size()) return true;
      broken(first + at);
      return false;
    });
  }
  return c.out;
}

std::vector<Violation> check_log_invariant(const RunView& run, const model::LogInvariant& rule) {
  Collector c{rule.name};
  Value memory;
  const std::vector<const Event*> events = index(*run.log).in_log_order;
  const auto broken = [&](const std::string& what, std::size_t at) {
    Violation& v = c.add(what);
    cite_event(v, "at: ", run, *events[at]);
  };
  bool held = true;
  // events[at], upcast: false when it breaks the rule.
  const auto step = [&](const Event& upcast, std::size_t at) {
    const std::string what = model::call_log_step(rule, memory, upcast);
    if (what.empty()) return true;
    broken(what, at);
    return held = false;
  };
  const auto one_by_one = [&](const std::vector<Event>& upcast, std::size_t first) {
    for (std::size_t i = 0; i < upcast.size(); ++i) {
      if (!step(upcast[i], first + i)) return false;
    }
    return true;
  };
  if (!rule.walk) {
    for (std::size_t i = 0; i < events.size(); ++i) {
      if (!step(model::upcasted(*run.domain, *events[i]), i)) break;
    }
  } else {
    in_runs(*run.domain, events, [&](const std::vector<Event>& upcast, std::size_t first) {
      model::LogInvariant::Walked walked{upcast.size(), {}};
      if (!model::walked([&] { walked = rule.walk(memory, upcast); }))
        return one_by_one(upcast, first);
      if (walked.at >= upcast.size()) return true;
      broken(walked.broken, first + walked.at);
      return held = false;
    });
  }
  // What settles only at the end (a transfer in flight is not yet a leak).
  if (!held || !rule.at_end || !run.quiet) return c.out;
  const std::string what = model::call_log_end(rule, memory);
  if (!what.empty()) c.add(what);
  return c.out;
}

std::vector<Violation> check_read_model_invariant(const RunView& run,
                                                  const model::ReadModelInvariant& rule) {
  Collector c{rule.name};
  for (const ProjectionView& p : run.projections) {
    if (p.handler == nullptr || p.handler->name != rule.handler || c.full()) continue;
    if (p.checkpoint_findings != nullptr) {
      // The first checkpoint the rule failed at: later ones add no news.
      const model::ReadModelFinding* first = nullptr;
      std::size_t times = 0;
      for (const model::ReadModelFinding& f : *p.checkpoint_findings) {
        if (f.rule != rule.name) continue;
        if (first == nullptr) first = &f;
        ++times;
      }
      if (first != nullptr) {
        Violation& v = c.add(fmt::format("{} at a checkpoint: {}", p.name, first->broken));
        cite(v, fmt::format("made durable at {} after {} event(s) applied",
                            sim::format_time(first->at_us), first->events_applied));
        if (times > 1) cite(v, fmt::format("{} checkpoint(s) broke the rule in all", times));
        continue;
      }
    }
    if (p.state == nullptr) continue;
    const std::string broken = model::call_read_model_check(rule, p.state->model);
    if (broken.empty()) continue;
    Violation& v = c.add(fmt::format("{} (final read model): {}", p.name, broken));
    cite(v, fmt::format("{} event(s) applied", p.state->events_applied));
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
      {"audits_pass", "",
       "every audit operation found the store's log whole: every CRC and link good, a torn tail "
       "at most",
       audits_pass},
      {"rebuild_matches_live", "",
       "a projection rebuilt during the run (operations: rebuild) cut over, and its read model "
       "equals a clean replay of the final store",
       rebuild_matches_live},
      {"rebuild_never_goes_back", "",
       "no query answered by a rebuilt projection after its cut-over saw a stream at a lower "
       "version than the live projection had already served",
       rebuild_never_goes_back},
      {"backup_consistent", "",
       "every backup (operations: backup) is whole records, each committed in the store when "
       "it was taken and a prefix of its log, holding every append acknowledged before it began",
       backup_consistent},
      {"restore_replays_clean", "",
       "a store restored from a backup (operations: restore) recovers with the backup whole, "
       "its log whole, no acknowledged append lost, and projections built from it equal to a "
       "clean replay of it",
       restore_replays_clean},
      {"forgotten_subjects_absent", "",
       "every personal value in the log is sealed for its subject, and after a subject is "
       "forgotten (operations: forget) its key is gone from the key store and no file on any "
       "node's disk, no read model and no evidence holds its personal data in plaintext "
       "(domains that declare personal data)",
       forgotten_subjects_absent},
      {"projections_converge", "",
       "after the heal phase every client is idle and every "
       "projection has caught up, within the bound",
       projections_converge},
      {"replay_matches_projection", "",
       "every read model equals a clean replay of the final store through the same handler, "
       "and the handler's reference projection when it names one",
       replay_matches_projection},
      {"handlers_exhaustive", "",
       "every event that reaches a handler or evolve declaring its event types is of a type it "
       "handles or ignores on purpose",
       handlers_exhaustive},
      {"decisions_match_model", "",
       "every decision clients saw (accepted, refused) is the one the domain's decision model "
       "makes, stream by stream in log order (domains that give one)",
       decisions_match_model},
      {"snapshot_equivalence", "",
       "every snapshot equals the replay of its stream up to the snapshot's version",
       snapshot_equivalence},
      {"upcast_equivalence", "",
       "the store written again by the domain's old writers (OldWriter) and upcast gives the "
       "same state after every event, the same decisions and the same read models as the store "
       "as written",
       upcast_equivalence},
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
  for (const model::LogInvariant& i : domain.log_invariants()) names.push_back(i.name);
  for (const model::ReadModelInvariant& i : domain.read_model_invariants()) names.push_back(i.name);
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
  for (const model::LogInvariant& rule : run.domain->log_invariants()) {
    if (!names.empty() && std::find(names.begin(), names.end(), rule.name) == names.end()) continue;
    auto found = checked(rule.name, [&] { return check_log_invariant(run, rule); });
    out.insert(out.end(), found.begin(), found.end());
  }
  for (const model::ReadModelInvariant& rule : run.domain->read_model_invariants()) {
    if (!names.empty() && std::find(names.begin(), names.end(), rule.name) == names.end()) continue;
    auto found = checked(rule.name, [&] { return check_read_model_invariant(run, rule); });
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

namespace {

bool word_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// Replaces each whole-word occurrence of `value` in `text` (not a run of
// digits inside a longer number or id) by kForgotten; true when it did.
bool redact_value(std::string& text, const std::string& value) {
  bool found = false;
  for (std::size_t at = text.find(value); at != std::string::npos; at = text.find(value, at)) {
    const std::size_t end = at + value.size();
    const bool whole = (at == 0 || !word_char(text[at - 1]) || !word_char(value.front())) &&
                       (end == text.size() || !word_char(text[end]) || !word_char(value.back()));
    if (!whole) {
      ++at;
      continue;
    }
    text.replace(at, value.size(), essim::kForgotten);
    at += essim::kForgotten.size();
    found = true;
  }
  return found;
}

}  // namespace

void redact_forgotten(std::vector<Violation>& violations, const PersonalView& personal) {
  if (personal.ledger == nullptr) return;
  const model::PersonalLedger& ledger = *personal.ledger;
  std::vector<Violation> found;
  for (Violation& v : violations) {
    std::set<std::string> whose;
    // Tokens first (in a state's or a read model's description, say): they
    // show whose they are, a forgotten subject's as forgotten; then no
    // forgotten value is left in what remains.
    const auto clean = [&](std::string& text) {
      text = model::mask_tokens(text);
      for (const model::PersonalLedger::Forgotten& f : ledger.forgotten) {
        const std::string sealed = fmt::format("<sealed: {}>", f.subject);
        const std::string gone = fmt::format("<forgotten: {}>", f.subject);
        for (std::size_t at = text.find(sealed); at != std::string::npos;
             at = text.find(sealed, at + gone.size()))
          text.replace(at, sealed.size(), gone);
        const std::set<std::string>* values = sealed_for(ledger, f.subject);
        if (values == nullptr) continue;
        for (const std::string& value : *values) {
          if (value.size() >= kPersonalValueMin && redact_value(text, value))
            whose.insert(f.subject);
        }
      }
    };
    clean(v.summary);
    for (std::string& line : v.evidence) clean(line);
    if (whose.empty()) continue;
    Violation leak{"forgotten_subjects_absent",
                   fmt::format("the evidence of {} showed personal data of {} after it was "
                               "forgotten (redacted there)",
                               v.property, fmt::join(whose, ", ")),
                   {"a domain's describe_payload or describe_command_payload printed it: show "
                    "personal values sealed, or not at all"}};
    found.push_back(std::move(leak));
  }
  for (Violation& v : found) {
    if (violations.size() >= kViolationsMax * 4) break;
    violations.push_back(std::move(v));
  }
}

}  // namespace essim::properties
