#include "properties/schema_evolution.h"

#include <memory>
#include <utility>

#include <fmt/format.h>

#include "model/probes.h"
#include "model/user_code.h"
#include "sim/probe.h"

namespace essim::properties {

namespace {

using model::Event;

std::string show(const model::Domain& domain, const Event& e) {
  const std::string payload = model::call_describe_payload(domain, e);
  return payload.empty() ? model::describe(e) : model::describe(e) + ": " + payload;
}

std::string show_decision(const Result<std::vector<NewEvent>>& d) {
  if (!d.ok()) return "refused: " + d.error().message;
  std::string out = fmt::format("accepted, {} event(s)", d.value().size());
  for (const NewEvent& e : d.value()) {
    out += fmt::format(" {} v{} ({} bytes)", e.type, e.schema_version, e.payload.size());
  }
  return out;
}

// One stream folded both ways.
struct Folds {
  std::unique_ptr<model::AggregateState> as_written;
  std::unique_ptr<model::AggregateState> via_old;
  std::uint64_t version = 0;
};

class Comparison {
 public:
  Comparison(const model::Domain& domain, const model::OldWriter& writer,
             const DecisionsByStream& decisions)
      : domain_(domain),
        writer_(writer),
        decisions_(decisions),
        side_(fmt::format("written at v{} by the old writer and upcast", writer.version)) {}

  // `log` rewritten: every event of the writer's type that it can write.
  // Returns how many it rewrote.
  std::size_t rewrite(const std::vector<Event>& log, const model::Bugs& bugs) {
    if (writer_.write_all && !bugs.any()) {
      if (const auto rewritten = rewrite_at_once(log)) return *rewritten;
      other_.clear();
    }
    std::size_t rewritten = 0;
    other_.reserve(log.size());
    for (const Event& e : log) {
      if (e.type == writer_.type && e.schema_version > writer_.version) {
        if (auto payload = model::call_old_writer(writer_, e)) {
          Event old = e;
          old.schema_version = writer_.version;
          old.payload = std::move(*payload);
          other_.push_back(model::upcasted(domain_, std::move(old), bugs));
          ++rewritten;
          continue;
        }
      }
      other_.push_back(e);
    }
    return rewritten;
  }

  // rewrite() with every old writing in one go (OldWriter::write_all), then
  // every upcast (Domain::upcast_all): the same calls, answered alike by a
  // deterministic domain. nullopt when the domain's code threw in the
  // writing, for rewrite() to make the calls one at a time; an upcast that
  // threw is made again one at a time here, in the order rewrite() makes
  // them, after every writing succeeded.
  std::optional<std::size_t> rewrite_at_once(const std::vector<Event>& log) {
    std::vector<Event> latest;
    for (const Event& e : log) {
      if (e.type == writer_.type && e.schema_version > writer_.version) latest.push_back(e);
    }
    std::vector<std::optional<Bytes>> written;
    if (!model::walked([&] { written = writer_.write_all(latest); }) ||
        written.size() != latest.size())
      return std::nullopt;
    std::vector<Event> old;
    for (std::size_t i = 0; i < latest.size(); ++i) {
      if (!written[i]) continue;
      Event e = latest[i];
      e.schema_version = writer_.version;
      e.payload = std::move(*written[i]);
      old.push_back(std::move(e));
    }
    std::vector<Event> upcast;
    for (const Event& e : old) {
      if (model::call_user([&] { return "asking whether " + model::describe(e) + " is old"; },
                           [&] { return domain_.needs_upcast(e); }))
        upcast.push_back(e);
    }
    bool all = false;
    if (upcast.size() == old.size() && model::walked([&] { all = domain_.upcast_all(upcast); }) &&
        all) {
      for (std::size_t i = 0; i < upcast.size(); ++i) sim::probe(model::probes::kUpcastApplied);
      old = std::move(upcast);
    } else {
      for (Event& e : old) e = model::upcasted(domain_, std::move(e));
    }
    std::size_t next = 0;
    other_.reserve(log.size());
    for (std::size_t i = 0, w = 0; i < log.size(); ++i) {
      const Event& e = log[i];
      if (e.type == writer_.type && e.schema_version > writer_.version && written[w++]) {
        other_.push_back(std::move(old[next++]));
      } else {
        other_.push_back(e);
      }
    }
    return next;
  }

  std::optional<SchemaDifference> states_and_decisions(const std::vector<Event>& log) {
    std::map<std::string, Folds> streams;
    for (std::size_t i = 0; i < log.size(); ++i) {
      const Event& e = log[i];
      Folds& f = streams[e.stream];
      if (!f.as_written) {
        f.as_written = model::call_initial(domain_);
        f.via_old = model::call_initial(domain_);
      }
      if (auto d = decisions_at(e.stream, f)) return d;
      model::call_evolve(domain_, *f.as_written, e);
      model::call_evolve(domain_, *f.via_old, other_[i]);
      f.version = e.version;
      if (f.as_written->equals(*f.via_old)) continue;
      SchemaDifference d;
      d.summary =
          fmt::format("{}: {} {} leaves another state than as written", e.stream, e.type, side_);
      d.position = e.position;
      d.evidence.push_back("as written: " + show(domain_, e));
      d.evidence.push_back(fmt::format("{}: {}", side_, show(domain_, other_[i])));
      d.evidence.push_back("state as written: " + f.as_written->describe());
      d.evidence.push_back(
          fmt::format("state via v{}: {}", writer_.version, f.via_old->describe()));
      return d;
    }
    for (auto& [stream, f] : streams) {
      if (auto d = decisions_at(stream, f)) return d;
    }
    return std::nullopt;
  }

  std::optional<SchemaDifference> read_model(const std::vector<Event>& log,
                                             const model::ProjectionHandler& handler) {
    ReadModel as_written;
    ReadModel via_old;
    model::call_handler_all(handler, as_written, log);
    model::call_handler_all(handler, via_old, other_);
    if (as_written == via_old) return std::nullopt;
    SchemaDifference d;
    d.summary = fmt::format("handler {}: the log with {} {} gives another read model", handler.name,
                            writer_.type, side_);
    const std::string difference = describe_difference(as_written, via_old, 4);
    for (std::size_t at = 0; at < difference.size();) {
      const std::size_t end = std::min(difference.find('\n', at), difference.size());
      d.evidence.push_back(difference.substr(at, end - at));
      at = end + 1;
    }
    return d;
  }

 private:
  // The commands decided on `stream` at its current version, decided again on both states.
  std::optional<SchemaDifference> decisions_at(const std::string& stream, const Folds& f) {
    const auto it = decisions_.find(stream);
    if (it == decisions_.end()) return std::nullopt;
    const auto [from, to] = it->second.equal_range(f.version);
    for (auto c = from; c != to; ++c) {
      const Command& command = *c->second;
      // Both in one go (Domain::decide_states); one at a time when the
      // domain does not batch them, or its code threw (to report the
      // decision that threw).
      std::vector<Result<std::vector<NewEvent>>> both;
      if (!model::walked([&] {
            both = domain_.decide_states({f.as_written.get(), f.via_old.get()}, command);
          }) ||
          both.size() != 2) {
        both.clear();
        both.push_back(model::call_decide(domain_, *f.as_written, command));
        both.push_back(model::call_decide(domain_, *f.via_old, command));
      }
      const Result<std::vector<NewEvent>>& as_written = both[0];
      const Result<std::vector<NewEvent>>& via_old = both[1];
      if (same_decision(as_written, via_old)) continue;
      SchemaDifference d;
      d.summary = fmt::format("{}: {} at version {} is decided otherwise with {} {}", stream,
                              command.kind, f.version, writer_.type, side_);
      d.evidence.push_back("command: " + model::describe_command(command, &domain_));
      d.evidence.push_back("as written: " + show_decision(as_written));
      d.evidence.push_back(fmt::format("via v{}: {}", writer_.version, show_decision(via_old)));
      d.evidence.push_back("state as written: " + f.as_written->describe());
      d.evidence.push_back(
          fmt::format("state via v{}: {}", writer_.version, f.via_old->describe()));
      return d;
    }
    return std::nullopt;
  }

  const model::Domain& domain_;
  const model::OldWriter& writer_;
  const DecisionsByStream& decisions_;
  std::string side_;
  std::vector<Event> other_;
};

std::vector<model::OldWriter> old_writers(const model::Domain& domain) {
  return model::call_user([] { return std::string("listing the old writers"); },
                          [&] { return domain.old_writers(); });
}

}  // namespace

bool same_decision(const Result<std::vector<NewEvent>>& a, const Result<std::vector<NewEvent>>& b) {
  if (a.ok() != b.ok()) return false;
  if (!a.ok()) return a.error().message == b.error().message;
  const std::vector<NewEvent>& x = a.value();
  const std::vector<NewEvent>& y = b.value();
  if (x.size() != y.size()) return false;
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (x[i].type != y[i].type || x[i].schema_version != y[i].schema_version ||
        x[i].payload != y[i].payload)
      return false;
  }
  return true;
}

std::optional<SchemaDifference> schema_evolution_difference(
    const model::Domain& domain, const std::vector<Event>& log,
    const std::vector<model::ProjectionHandler>& handlers, const DecisionsByStream& decisions,
    const model::Bugs& bugs) {
  for (const model::OldWriter& writer : old_writers(domain)) {
    Comparison comparison(domain, writer, decisions);
    if (comparison.rewrite(log, bugs) == 0) continue;
    if (auto d = comparison.states_and_decisions(log)) return d;
    for (const model::ProjectionHandler& handler : handlers) {
      if (auto d = comparison.read_model(log, handler)) return d;
    }
  }
  return std::nullopt;
}

}  // namespace essim::properties
