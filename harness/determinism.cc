#include "harness/determinism.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <vector>

#include <fmt/format.h>

#include "harness/names.h"

namespace essim::harness {

namespace {

// The most differing final states a check names; the rest are counted.
constexpr std::size_t kStatesNamed = 8;

constexpr std::string_view kHeader = "essim-second-run 1";

std::string hex_text(std::string_view text) {
  std::string out = "x";
  for (const char c : text) out += fmt::format("{:02x}", static_cast<unsigned char>(c));
  return out;
}

std::vector<std::string> differing_states(const std::vector<FinalState>& first,
                                          const std::vector<FinalState>& second) {
  std::map<std::string, std::pair<const FinalState*, const FinalState*>> by_name;
  for (const FinalState& s : first) by_name[s.name].first = &s;
  for (const FinalState& s : second) by_name[s.name].second = &s;
  std::vector<std::string> out;
  std::size_t more = 0;
  // Projections first (in node order), then streams: the order they were listed in.
  auto note = [&](const std::string& name, const char* how) {
    if (out.size() < kStatesNamed) {
      out.push_back(name + how);
    } else {
      ++more;
    }
  };
  for (const std::vector<FinalState>* side : {&first, &second}) {
    for (const FinalState& s : *side) {
      const auto& [a, b] = by_name.at(s.name);
      if (a != nullptr && b != nullptr && a->hash == b->hash) continue;
      if (side == &second && a != nullptr) continue;  // named from the first run's side
      note(s.name, a == nullptr   ? " (only in the second run)"
                   : b == nullptr ? " (only in the first run)"
                                  : "");
    }
  }
  if (more > 0) out.push_back(fmt::format("... and {} more", more));
  return out;
}

// Fills in where the two traced runs part.
void locate(const SeedResult& a, const SeedResult& b, DeterminismCheck& out) {
  const std::size_t n = std::min(a.trace.size(), b.trace.size());
  std::size_t i = 0;
  while (i < n && a.trace[i] == b.trace[i]) ++i;
  if (i == n && a.trace.size() == b.trace.size()) {
    out.trace_steps = a.trace.size();
    out.differing_states = differing_states(a.final_states, b.final_states);
    return;
  }
  const std::vector<std::string>& names = a.node_names;
  auto show = [&](const SeedResult& r) {
    return i < r.trace.size() ? sim::describe(r.trace[i], names)
                              : std::string("(the run ended here)");
  };
  out.parted_at_step = i;
  out.agreed_entry = i > 0 ? sim::describe(a.trace[i - 1], names) : "";
  out.first_entry = show(a);
  out.second_entry = show(b);
}

template <typename T>
bool number(std::string_view token, T& out) {
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), out);
  return error == std::errc{} && end == token.data() + token.size();
}

bool unhex(std::string_view token, std::string& out) {
  if (token.empty() || token[0] != 'x' || token.size() % 2 != 1) return false;
  out.clear();
  for (std::size_t i = 1; i < token.size(); i += 2) {
    unsigned byte = 0;
    const auto [end, error] = std::from_chars(token.data() + i, token.data() + i + 2, byte, 16);
    if (error != std::errc{} || end != token.data() + i + 2) return false;
    out += static_cast<char>(byte);
  }
  return true;
}

std::vector<std::string_view> tokens(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t at = 0;
  while (at <= line.size()) {
    const std::size_t space = std::min(line.find(' ', at), line.size());
    out.push_back(line.substr(at, space - at));
    at = space + 1;
  }
  return out;
}

bool read_step(const std::vector<std::string_view>& t, sim::TraceEntry& e) {
  unsigned kind = 0;
  if (t.size() != 9 || !number(t[1], e.step) || !number(t[2], e.at_us) || !number(t[3], kind) ||
      !number(t[4], e.node) || !number(t[5], e.peer) || !number(t[6], e.a) || !number(t[7], e.b) ||
      !unhex(t[8], e.text))
    return false;
  if (kind >= sim::kTraceKindCount) return false;
  e.kind = static_cast<sim::TraceKind>(kind);
  return true;
}

// Reads line `line_number` (the fingerprint line, then states and steps)
// into `r`; false when it is not one.
bool read_line(std::size_t line_number, const std::vector<std::string_view>& t, SeedResult& r) {
  if (line_number == 2) {
    return t[0] == "fingerprint" && t.size() == 4 && number(t[1], r.fingerprint) &&
           number(t[2], r.trace_fingerprint) && number(t[3], r.trace_steps);
  }
  if (t[0] == "state") {
    FinalState s;
    if (t.size() != 3 || !unhex(t[1], s.name) || !number(t[2], s.hash)) return false;
    r.final_states.push_back(std::move(s));
    return true;
  }
  if (t[0] == "step") {
    sim::TraceEntry e;
    if (!read_step(t, e) || e.step != r.trace.size() || e.step >= r.trace_steps) return false;
    r.trace.push_back(std::move(e));
    return true;
  }
  return false;
}

}  // namespace

DeterminismCheck check_determinism(
    const SeedResult& first, const std::function<SeedResult()>& again,
    const std::function<sim::Result<SeedResult>(bool keep_trace)>& second) {
  DeterminismCheck out;
  out.first_fingerprint = first.fingerprint;
  const sim::Result<SeedResult> other = second(false);
  if (!other.ok()) {
    out.same = false;
    out.failure = other.error().message;
    return out;
  }
  out.second_fingerprint = other.value().fingerprint;
  out.same = out.first_fingerprint == out.second_fingerprint;
  if (out.same) return out;
  if (first.trace_fingerprint == other.value().trace_fingerprint &&
      first.trace_steps == other.value().trace_steps) {
    out.trace_steps = first.trace_steps;
    out.differing_states = differing_states(first.final_states, other.value().final_states);
    return out;
  }
  const SeedResult a = again();
  const sim::Result<SeedResult> b = second(true);
  if (!b.ok()) {
    out.not_located = b.error().message;
    return out;
  }
  locate(a, b.value(), out);
  return out;
}

std::string encode_second_run(const SeedResult& r) {
  std::string out = fmt::format("{}\nfingerprint {} {} {}\n", kHeader, r.fingerprint,
                                r.trace_fingerprint, r.trace_steps);
  for (const FinalState& s : r.final_states)
    out += fmt::format("state {} {}\n", hex_text(s.name), s.hash);
  for (const sim::TraceEntry& e : r.trace) {
    out += fmt::format("step {} {} {} {} {} {} {} {}\n", e.step, e.at_us,
                       static_cast<unsigned>(e.kind), e.node, e.peer, e.a, e.b, hex_text(e.text));
  }
  out += fmt::format("end {} {}\n", r.final_states.size(), r.trace.size());
  return out;
}

sim::Result<SeedResult> decode_second_run(std::string_view text) {
  if (!text.starts_with(kHeader) || text.substr(kHeader.size(), 1) != "\n")
    return sim::Error{fmt::format("it does not start with '{}'", kHeader)};
  SeedResult r;
  std::size_t at = kHeader.size() + 1;
  for (std::size_t line_number = 2; at < text.size(); ++line_number) {
    const std::size_t newline = text.find('\n', at);
    if (newline == std::string_view::npos)
      return sim::Error{fmt::format("line {} is cut short", line_number)};
    const std::string_view line = text.substr(at, newline - at);
    at = newline + 1;
    const std::vector<std::string_view> t = tokens(line);
    if (t[0] == "end" && line_number > 2) {
      std::size_t states = 0;
      std::size_t steps = 0;
      if (t.size() != 3 || !number(t[1], states) || !number(t[2], steps) ||
          states != r.final_states.size() || steps != r.trace.size() || at != text.size())
        return sim::Error{
            fmt::format("line {}: its last line does not match what it reported", line_number)};
      return r;
    }
    if (!read_line(line_number, t, r))
      return sim::Error{fmt::format("line {} is not a line of the report: '{}'", line_number,
                                    printable(line.substr(0, 80)))};
  }
  return sim::Error{"it ends before its last line"};
}

}  // namespace essim::harness
