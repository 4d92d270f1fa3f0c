// `essim run`, `essim replay`, `essim validate` and `essim merge`.

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/determinism.h"
#include "cli/exit_codes.h"
#include "cli/shard.h"
#include "harness/reporting.h"
#include "harness/runner.h"
#include "harness/scenario.h"
#include "harness/shrink.h"
#include "reports/progress.h"
#include "reports/report.h"
#include "reports/viewer.h"

namespace essim::cli {

namespace {

// The largest report.json merge reads.
constexpr std::size_t kReportBytesMax = std::size_t{64} << 20;
// The most seeds one sweep may ask for (a sweep allocates nothing per seed).
constexpr std::uint64_t kSweepSeedsMax = 1'000'000'000'000ULL;

// Loads one file, or prints its error.
std::optional<harness::Scenario> load_one(const std::string& file,
                                          const model::Registry& registry) {
  auto s = harness::load_scenario(file, registry);
  if (!s.ok()) {
    fmt::print(stderr, "error: {}\n", s.error().message);
    return std::nullopt;
  }
  return std::move(s).value();
}

// Loads every file; prints every error (not just the first).
bool load_all(const std::vector<std::string>& files, const model::Registry& registry,
              std::vector<harness::Scenario>& out) {
  bool ok = true;
  for (const std::string& file : files) {
    auto s = load_one(file, registry);
    if (s) {
      out.push_back(std::move(*s));
    } else {
      ok = false;
    }
  }
  return ok;
}

std::string expectation(const harness::Scenario& s) {
  return s.expect.pass
             ? "pass"
             : fmt::format("{} within {} seeds", s.expect.violation, s.expect.within_seeds);
}

void print_violation(const properties::Violation& v, std::string_view indent) {
  fmt::print("{}{}: {}\n", indent, v.property, v.summary);
  for (const std::string& e : v.evidence) fmt::print("{}    {}\n", indent, e);
}

// ---- run ----

struct RunArgs {
  std::vector<std::string> files;
  std::uint64_t seed = 1;
  std::uint64_t seeds = 0;
  int jobs = 1;
  std::string shard = "0/1";
  std::optional<std::uint64_t> shard_count;  // --shard-count, for --shard auto
  std::string report_dir;
  bool quiet = false;
  bool check_determinism = false;
  std::string program;  // the runner's name, for replay commands
};

// The first evidence line of the first seed that violated `property`.
std::string first_evidence(const harness::ScenarioResult& r, std::string_view property) {
  for (const harness::SeedResult& f : r.failures) {
    for (const properties::Violation& v : f.violations) {
      if (v.property != property) continue;
      return v.evidence.empty() ? v.summary : v.summary + "; " + v.evidence.front();
    }
  }
  return "";
}

void print_also_violated(const harness::ScenarioResult& r) {
  for (const harness::PropertyVerdict& p : r.verdict.properties) {
    if (p.status != harness::PropertyStatus::kAlsoViolated) continue;
    fmt::print("  also violated: {} in {} seed(s): {}\n", p.property, p.seeds,
               first_evidence(r, p.property));
  }
}

// "operations: rebuild balances at 2s, audit store at 1s", as the reports say it.
void print_operations(const harness::SeedResult& r, std::string_view indent) {
  if (r.operations_run.empty()) return;
  fmt::print("{}operations: {}\n", indent,
             reports::describe_operations(harness::operation_reports(r.operations_run)));
}

void print_failures(const harness::Scenario& s, const harness::ScenarioResult& r) {
  constexpr std::size_t kShown = 3;
  for (std::size_t i = 0; i < r.failures.size() && i < kShown; ++i) {
    const harness::SeedResult& f = r.failures[i];
    fmt::print("  seed {} (fingerprint 0x{:016x}):\n", f.seed, f.fingerprint);
    for (const properties::Violation& v : f.violations) print_violation(v, "    ");
    if (f.swarm) fmt::print("    swarm mix: {}\n", harness::describe(*f.swarm));
    print_operations(f, "    ");
    fmt::print("    replay: {}\n", harness::replay_command(r.program, s, f.seed));
  }
  if (r.tally.seeds_failed > kShown)
    fmt::print("  ... and {} more failing seeds\n", r.tally.seeds_failed - kShown);
}

void print_result(const harness::Scenario& s, const harness::ScenarioResult& r) {
  const double rate =
      r.wall_seconds > 0 ? static_cast<double>(r.tally.seeds_run) / r.wall_seconds : 0;
  if (!s.expect.pass && r.verdict.met) {
    fmt::print("CAUGHT  {}: {} at seed {} ({} seeds, {:.1f} seeds/s)\n", s.name, s.expect.violation,
               *r.tally.caught_at_seed, r.tally.seeds_run, rate);
    fmt::print("  evidence: {}\n", first_evidence(r, s.expect.violation));
    for (const harness::SeedResult& f : r.failures) {
      if (f.seed != *r.tally.caught_at_seed) continue;
      if (f.swarm) fmt::print("  swarm mix: {}\n", harness::describe(*f.swarm));
      print_operations(f, "  ");
    }
    fmt::print("  replay: {}\n", harness::replay_command(r.program, s, *r.tally.caught_at_seed));
    print_also_violated(r);
  } else if (!s.expect.pass) {
    fmt::print("MISSED  {}: expected {} within {} seeds; {} seeds ran without it\n", s.name,
               s.expect.violation, s.expect.within_seeds, r.tally.seeds_run);
    print_also_violated(r);
  } else if (r.verdict.met) {
    fmt::print("PASSED  {}: {} seeds ({:.1f} seeds/s)\n", s.name, r.tally.seeds_run, rate);
  } else {
    if (r.tally.seeds_failed > 0) {
      fmt::print("FAILED  {}: {} of {} seeds violated a property\n", s.name, r.tally.seeds_failed,
                 r.tally.seeds_run);
      print_failures(s, r);
    } else {
      fmt::print(
          "FAILED  {}: every property held in {} seeds, but not every required probe was "
          "reached\n",
          s.name, r.tally.seeds_run);
    }
    if (!r.verdict.missing_probes.empty()) {
      fmt::print(
          "  required probes no seed reached: {}\n"
          "  (run more seeds, or make the faults reach those paths; `essim list` says what each "
          "probe means)\n",
          fmt::join(r.verdict.missing_probes, ", "));
    }
  }
  fmt::print("  sweep fingerprint: 0x{:016x}\n", r.fingerprint);
}

void print_table(const reports::Report& report) {
  fmt::print("\n{:<36} {:>7} {:>8} {:>7}  {}\n", "scenario", "seeds", "seeds/s", "probes",
             "result");
  for (const reports::ScenarioReport& s : report.scenarios) {
    const double rate = s.wall_seconds > 0 ? static_cast<double>(s.seeds_run) / s.wall_seconds : 0;
    std::string result;
    if (s.expected_violation.empty() && !s.met && s.seeds_failed == 0) {
      result = fmt::format("FAILED (required probes not reached: {})",
                           fmt::join(s.missing_probes, ", "));
    } else if (s.expected_violation.empty()) {
      result = s.met ? "passed" : fmt::format("FAILED ({} seeds)", s.seeds_failed);
    } else {
      result = s.met ? fmt::format("caught {} at seed {}", s.expected_violation, *s.caught_at_seed)
                     : fmt::format("MISSED {}", s.expected_violation);
    }
    // Probes reached of those declared and reached: what the sweep exercised.
    const auto reached =
        std::count_if(s.probes.begin(), s.probes.end(), [](const auto& p) { return p.hits > 0; });
    fmt::print("{:<36} {:>7} {:>8.1f} {:>7}  {}\n", s.name, s.seeds_run, rate,
               fmt::format("{}/{}", reached, s.probes.size()), result);
  }
  const auto met = std::count_if(report.scenarios.begin(), report.scenarios.end(),
                                 [](const auto& s) { return s.met; });
  fmt::print("{} of {} scenarios met their expectation\n", met, report.scenarios.size());
}

// Every scenario's plan, checked before any runs. Empty on an error (printed).
std::vector<harness::SweepPlan> plans(const std::vector<harness::Scenario>& scenarios,
                                      const harness::SweepPlan& requested) {
  std::vector<harness::SweepPlan> out;
  for (const harness::Scenario& s : scenarios) {
    out.push_back(harness::resolve_plan(s, requested));
    if (const auto why = out.back().invalid()) {
      fmt::print(stderr, "essim run: {}: {}\n", s.file, *why);
      return {};
    }
  }
  return out;
}

// --shard I/N, or --shard auto from the environment; false when the shard
// cannot be read (printed).
bool read_shard(const RunArgs& a, harness::SweepPlan& plan) {
  if (a.shard != "auto") {
    if (a.shard_count) {
      fmt::print(stderr,
                 "essim run: --shard-count is for --shard auto; --shard {} gives the count\n",
                 a.shard);
      return false;
    }
    if (parse_shard(a.shard, plan.shard_index, plan.shard_count)) return true;
    fmt::print(stderr,
               "essim run: --shard wants I/N with 0 <= I < N, e.g. 0/4, or 'auto', not '{}'\n",
               a.shard);
    return false;
  }
  const EnvLookup env = [](std::string_view name) -> std::optional<std::string> {
    const char* value = std::getenv(std::string(name).c_str());
    if (value == nullptr) return std::nullopt;
    return value;
  };
  const auto shard = shard_from_environment(env, a.shard_count);
  if (!shard.ok()) {
    fmt::print(stderr, "essim run: --shard auto: {}\n  --shard auto reads {}\n",
               shard.error().message, kShardVariables);
    return false;
  }
  plan.shard_index = shard.value().index;
  plan.shard_count = shard.value().count;
  if (!a.quiet)
    fmt::print(stderr, "shard {}/{} from {}\n", plan.shard_index, plan.shard_count,
               shard.value().source);
  return true;
}

int run_command(const RunArgs& a, const model::Registry& registry) {
  harness::SweepPlan requested;
  requested.first_seed = a.seed;
  requested.seeds = a.seeds;
  requested.jobs = a.jobs;
  if (!read_shard(a, requested)) return kExitUsage;
  if (!a.report_dir.empty()) {
    if (const auto why = unwritable_dir(a.report_dir)) {
      fmt::print(stderr, "essim run: --report-dir: {}\n", *why);
      return kExitUsage;
    }
  }
  std::vector<harness::Scenario> scenarios;
  if (!load_all(a.files, registry, scenarios)) return kExitUsage;
  const std::vector<harness::SweepPlan> planned = plans(scenarios, requested);
  if (planned.empty()) return kExitUsage;
  reports::Report report;
  report.shard = fmt::format("{}/{}", requested.shard_index, requested.shard_count);
  std::uint64_t nondeterministic = 0;
  std::uint64_t unchecked = 0;
  const bool interactive = reports::Progress::is_interactive(stderr);
  for (std::size_t i = 0; i < scenarios.size(); ++i) {
    const harness::Scenario& s = scenarios[i];
    if (s.repro_seed && requested.shard_index > 0) {
      // A repro replays its one seed; shard 0 runs it, so that the shards'
      // reports merge.
      fmt::print("SKIPPED {}: a repro file runs on shard 0 only\n", s.name);
      continue;
    }
    harness::RunOptions options;
    options.plan = requested;
    options.check_determinism = a.check_determinism;
    if (a.check_determinism) options.second_run = second_run_in_new_process(s.file, a.program);
    options.program = a.program;
    auto progress =
        std::make_shared<reports::Progress>(s.name, planned[i].count(), stderr, interactive);
    if (!a.quiet) {
      options.progress = [progress](std::uint64_t done, std::uint64_t, std::uint64_t failed) {
        progress->update(done, failed);
      };
    }
    const harness::ScenarioResult r = harness::run_scenario(s, options);
    if (!a.quiet && interactive) fmt::print(stderr, "\r\033[K");
    print_result(s, r);
    report.scenarios.push_back(harness::to_report(s, r));
    if (const std::string line = reports::metrics_line(report.scenarios.back()); !line.empty())
      fmt::print("  per seed (median): {}\n", line);
    print_nondeterminism(s, r);
    nondeterministic += r.nondeterministic_seeds;
    unchecked += r.unchecked_seeds;
    std::fflush(stdout);
  }
  print_table(report);
  if (!a.report_dir.empty()) {
    const std::string error = reports::write_report_dir(report, a.report_dir);
    if (!error.empty()) {
      fmt::print(stderr, "essim run: {}\n", error);
      return kExitInternal;
    }
    fmt::print("reports written to {}/ (report.json, junit.xml, summary.md, report.html)\n",
               a.report_dir);
  }
  const int exit_code = report.ok() ? kExitOk : kExitViolation;
  if (!a.check_determinism) return exit_code;
  return print_determinism_summary(nondeterministic, unchecked, exit_code);
}

// ---- replay ----

struct ReplayArgs {
  std::string file;
  std::optional<std::uint64_t> seed;  // a repro file knows its own
  std::string trace_file;
  std::string html_file;
  std::string shiviz_file;
};

// Writes `content` to `path`, or says why not.
bool write_file(const std::string& path, const std::string& content, std::string_view command) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  out.close();
  if (!out) fmt::print(stderr, "essim {}: cannot write {}\n", command, path);
  return static_cast<bool>(out);
}

// The first output path that cannot be written, printed; false if any.
bool outputs_writable(std::initializer_list<std::pair<std::string_view, std::string>> outputs,
                      std::string_view command) {
  for (const auto& [option, path] : outputs) {
    if (path.empty()) continue;
    if (const auto why = unwritable_file(path)) {
      fmt::print(stderr, "essim {}: {}: {}\n", command, option, *why);
      return false;
    }
  }
  return true;
}

// A repro file expects its property to fail: it still reproduces (exit 0,
// as `run` of a caught bug scenario) when that property fails and no other
// does; it no longer reproduces (exit 1) when the property holds, so that a
// fix shows in CI as a repro to retire.
int repro_verdict(const harness::Scenario& s, const harness::SeedResult& r) {
  const std::string& property = s.expect.violation;
  bool reproduces = false;
  std::vector<std::string> others;
  for (const properties::Violation& v : r.violations) {
    if (v.property == property) {
      reproduces = true;
    } else if (std::find(others.begin(), others.end(), v.property) == others.end()) {
      others.push_back(v.property);
    }
  }
  if (!reproduces) {
    fmt::print("no longer reproduces {} (fixed?)\n", property);
    return kExitViolation;
  }
  fmt::print("reproduces {}\n", property);
  if (others.empty()) return kExitOk;
  fmt::print("also violated: {}\n", fmt::join(others, ", "));
  return kExitViolation;
}

int replay_command(const ReplayArgs& a, const model::Registry& registry) {
  if (!outputs_writable(
          {{"--trace", a.trace_file}, {"--html", a.html_file}, {"--shiviz", a.shiviz_file}},
          "replay"))
    return kExitUsage;
  const std::optional<harness::Scenario> s = load_one(a.file, registry);
  if (!s) return kExitUsage;
  const harness::Scenario& scenario = *s;
  const std::optional<std::uint64_t> seed = a.seed ? a.seed : scenario.repro_seed;
  if (!seed) {
    fmt::print(stderr, "essim replay: --seed S is needed (only a repro file knows its own seed)\n");
    return kExitUsage;
  }
  const bool keep_trace = !a.trace_file.empty() || !a.html_file.empty() || !a.shiviz_file.empty();
  const harness::SeedResult r = harness::run_seed(scenario, *seed, keep_trace);
  fmt::print("scenario {} ({}), seed {}{}\n", scenario.name, scenario.file, *seed,
             scenario.spec.script
                 ? fmt::format(", {} scripted decisions", scenario.spec.script->size())
                 : "");
  fmt::print("  {} simulation events, {} trace steps, {} operations, {} planned faults; heal: {}\n",
             r.events, r.trace_steps, r.operations, r.faults, r.heal_end);
  if (r.swarm) {
    fmt::print("  swarm mix{}: {}\n", scenario.swarm_draw ? " (recorded in the repro)" : "",
               harness::describe(*r.swarm));
  }
  print_operations(r, "  ");
  if (r.violations.empty()) {
    fmt::print("verdict: every property held\n");
  } else {
    fmt::print("verdict: {} violation(s){}\n", r.violations.size(),
               scenario.expect.pass
                   ? ""
                   : fmt::format(" (the scenario expects {})", scenario.expect.violation));
    for (const properties::Violation& v : r.violations) print_violation(v, "  ");
  }
  if (!a.trace_file.empty()) {
    if (!write_file(a.trace_file, harness::trace_json_lines(r), "replay")) return kExitInternal;
    fmt::print("trace: {} entries written to {}\n", r.trace.size(), a.trace_file);
  }
  if (!a.html_file.empty() || !a.shiviz_file.empty()) {
    const reports::ViewerTrace view = harness::viewer_trace(scenario, r);
    for (const auto& [path, content, what] :
         {std::tuple{a.html_file, reports::viewer_html(view), "viewer"},
          std::tuple{a.shiviz_file, reports::shiviz_log(view), "ShiViz log"}}) {
      if (path.empty()) continue;
      if (!write_file(path, content, "replay")) return kExitInternal;
      fmt::print("{}: written to {} ({} steps, {} highlighted)\n", what, path, view.steps.size(),
                 view.highlight_steps.size());
    }
  }
  fmt::print("fingerprint: 0x{:016x}\n", r.fingerprint);
  if (scenario.repro_seed && *seed == *scenario.repro_seed) return repro_verdict(scenario, r);
  return r.violations.empty() ? kExitOk : kExitViolation;
}

// ---- shrink ----

struct ShrinkArgs {
  std::string file;
  std::uint64_t seed = 1;
  std::string output;
  double max_seconds = 60;
  std::string property;  // empty: the expected violation, else the first violated
  std::string program;   // the runner's name, for replay commands
};

// Why `property` cannot be kept by shrinking `s`, or nothing.
std::optional<std::string> unknown_property(const harness::Scenario& s,
                                            const std::string& property) {
  if (property.empty()) return std::nullopt;
  const std::vector<std::string> known =
      properties::property_names(*s.registry->domain(s.spec.domain));
  if (std::find(known.begin(), known.end(), property) != known.end()) return std::nullopt;
  return fmt::format("--property: no property '{}' for the {} domain; it has: {}", property,
                     s.spec.domain, fmt::join(known, ", "));
}

std::string listed(const std::vector<std::string>& names) {
  return names.empty() ? "no property" : fmt::format("{}", fmt::join(names, ", "));
}

// Prints why shrinking cannot keep r.property failing; the exit code.
int cannot_shrink(const harness::Scenario& s, std::uint64_t seed, const harness::ShrinkResult& r,
                  std::string_view program) {
  if (!r.failing) {
    fmt::print(stderr,
               "essim shrink: seed {} of {} violates no property: nothing to shrink; give a "
               "failing seed ('{} run {}' prints them)\n",
               seed, s.name, program, s.file);
    return kExitUsage;
  }
  if (!r.property_failed) {
    fmt::print(
        "cannot shrink: seed {} of {} does not violate {} (it violates {}); shrink keeps one "
        "property fixed: give a seed that violates {}, or pick one with --property\n",
        seed, s.name, r.property, listed(r.violated), r.property);
    return kExitViolation;
  }
  fmt::print(
      "cannot shrink: seed {} of {} violates {}, but replayed from its recorded decisions it "
      "violates {}: the run depends on something the decisions do not record (user code or "
      "essim reading a clock, std::random_device, pointer order or a static; see README, "
      "'Determinism')\n",
      seed, s.name, r.property, listed(r.violated_scripted));
  return kExitViolation;
}

int shrink_command(const ShrinkArgs& a, const model::Registry& registry) {
  if (!outputs_writable({{"--output", a.output}}, "shrink")) return kExitUsage;
  const std::optional<harness::Scenario> s = load_one(a.file, registry);
  if (!s) return kExitUsage;
  const harness::Scenario& scenario = *s;
  if (const auto why = unknown_property(scenario, a.property)) {
    fmt::print(stderr, "essim shrink: {}\n", *why);
    return kExitUsage;
  }
  const std::string output =
      a.output.empty() ? fmt::format("{}-seed{}.repro.yaml", file_stem(scenario.name), a.seed)
                       : a.output;
  if (!outputs_writable({{"--output", output}}, "shrink")) return kExitUsage;
  harness::ShrinkOptions options;
  options.max_seconds = a.max_seconds;
  options.property = a.property;
  reports::StatusLine status(stderr, reports::Progress::is_interactive(stderr));
  options.progress = [&](std::size_t runs, std::size_t decisions) {
    status.show(fmt::format("shrinking: {} runs, {} decisions left", runs, decisions));
  };
  const harness::ShrinkResult r = harness::shrink(scenario, a.seed, options);
  status.clear();
  if (!r.reproduced) return cannot_shrink(scenario, a.seed, r, a.program);
  if (!write_file(output, harness::write_repro(scenario, a.seed, r, a.program, output), "shrink"))
    return kExitInternal;
  fmt::print("{} seed {}: {} still fails after shrinking{}\n", scenario.name, a.seed, r.property,
             r.finished ? "" : " (stopped by --max-time; the repro is the smallest found so far)");
  fmt::print("  {:<14} {:>8} -> {:<8}\n", "", "before", "after");
  fmt::print("  {:<14} {:>8} -> {:<8}\n", "faults", r.original.faults.size(),
             r.shrunk.faults.size());
  fmt::print("  {:<14} {:>8} -> {:<8}\n", "message fates", r.original.messages.size(),
             r.shrunk.messages.size());
  fmt::print("  {:<14} {:>8} -> {:<8}\n", "work", r.original.work.size(), r.shrunk.work.size());
  if (!r.original.operations.empty()) {
    fmt::print("  {:<14} {:>8} -> {:<8}\n", "operations", r.original.operations.size(),
               r.shrunk.operations.size());
  }
  fmt::print("  {:<14} {:>8} -> {:<8}\n", "trace steps", r.original_steps, r.shrunk_steps);
  fmt::print("  {:<14} {:>8} -> {:<8}\n", "chaos phase", sim::format_duration(r.original.chaos_us),
             sim::format_duration(r.shrunk.chaos_us));
  fmt::print("  {} runs in {:.1f}s\n", r.runs, r.seconds);
  for (const properties::Violation& v : r.violations) print_violation(v, "  ");
  fmt::print("repro written to {}\nreplay: {} replay {}\nfingerprint: 0x{:016x}\n", output,
             a.program, output, r.fingerprint);
  return kExitOk;
}

// ---- validate ----

int validate_command(const std::vector<std::string>& files, const model::Registry& registry) {
  std::vector<harness::Scenario> scenarios;
  const bool ok = load_all(files, registry, scenarios);
  std::map<std::string, const model::Registry*> domains;  // each with where it is registered
  for (const harness::Scenario& sc : scenarios) {
    fmt::print("ok: {}: {} ({} domain, {} seeds, expect {})\n", sc.file, sc.name, sc.spec.domain,
               harness::default_seed_count(sc), expectation(sc));
    domains.emplace(sc.spec.domain, sc.registry != nullptr ? sc.registry : &registry);
  }
  // Warnings do not make a scenario invalid: the exit code stays.
  for (const auto& [domain, where] : domains) {
    for (const std::string& w : where->warnings(domain)) fmt::print("warning: {}\n", w);
  }
  return ok ? kExitOk : kExitUsage;
}

// ---- merge ----

int merge_command(const std::vector<std::string>& files, const std::string& dir) {
  if (!dir.empty()) {
    if (const auto why = unwritable_dir(dir)) {
      fmt::print(stderr, "essim merge: --report-dir: {}\n", *why);
      return kExitUsage;
    }
  }
  std::vector<harness::ShardFile> shards;
  for (const std::string& file : files) {
    const auto text = harness::read_regular_file(file, kReportBytesMax, "a report.json file");
    if (!text.ok()) {
      fmt::print(stderr, "error: {}\n", text.error().message);
      return kExitUsage;
    }
    if (text.value().size() > kReportBytesMax) {
      fmt::print(stderr, "error: {}: larger than {} bytes; is it a report.json?\n", file,
                 kReportBytesMax);
      return kExitUsage;
    }
    const nlohmann::json j = nlohmann::json::parse(text.value(), nullptr, false);
    if (j.is_discarded()) {
      fmt::print(stderr,
                 "error: {}: not valid JSON; give the report.json 'essim run --report-dir' wrote\n",
                 file);
      return kExitUsage;
    }
    harness::ShardFile shard{file, {}};
    std::string error;
    if (!reports::from_json(j, shard.report, error)) {
      fmt::print(stderr, "error: {}: {}\n", file, error);
      return kExitUsage;
    }
    shards.push_back(std::move(shard));
  }
  auto merged = harness::merge(shards);
  if (!merged.ok()) {
    fmt::print(stderr, "error: {}\n", merged.error().message);
    return kExitUsage;
  }
  fmt::print("{}", reports::summary_markdown(merged.value()));
  if (!dir.empty()) {
    const std::string error = reports::write_report_dir(merged.value(), dir);
    if (!error.empty()) {
      fmt::print(stderr, "essim merge: {}\n", error);
      return kExitInternal;
    }
  }
  return merged.value().ok() ? kExitOk : kExitViolation;
}

}  // namespace

std::vector<std::pair<std::string, Runner>> add_scenario_commands(CLI::App& app,
                                                                  const model::Registry& registry,
                                                                  const std::string& program) {
  std::vector<std::pair<std::string, Runner>> runners;

  auto run = std::make_shared<RunArgs>();
  run->program = program;
  CLI::App* r = app.add_subcommand(
      "run",
      "Run scenarios over a sweep of seeds and judge each against its expectation: a\n"
      "scenario expecting 'pass' must hold every property on every seed; one expecting a\n"
      "violation must show it within its seeds. Failures print the evidence and the\n"
      "'essim replay' command that reproduces them.");
  r->add_option("scenarios", run->files, "Scenario files (YAML)")->required();
  r->add_option("--seed", run->seed, "First seed of the sweep (0 to 2^64 - 1)")
      ->check(whole_number(0, UINT64_MAX))
      ->capture_default_str();
  r->add_option("--seeds", run->seeds,
                "Seeds per scenario (default: the scenario's 'seeds', or its expect.within_seeds)")
      ->check(whole_number(1, kSweepSeedsMax));
  r->add_option("--jobs,-j", run->jobs, "Seeds run on this many threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  r->add_option("--shard", run->shard,
                fmt::format("Run shard I of N (every N-th seed), as I/N; merge the reports with "
                            "'essim merge'. 'auto' reads I and N from the environment: {}",
                            kShardVariables))
      ->capture_default_str();
  r->add_option("--shard-count", run->shard_count,
                "With --shard auto: the number of shards, for a Kubernetes Indexed Job (its "
                ".spec.completions); the environment variable ESSIM_SHARD_COUNT does the same")
      ->check(whole_number(1, UINT64_MAX));
  r->add_option("--report-dir", run->report_dir,
                "Write report.json, junit.xml, summary.md and report.html here");
  r->add_flag("--quiet,-q", run->quiet, "No progress line");
  r->add_flag("--check-determinism", run->check_determinism,
              "Run every seed a second time, in a new process, and compare the runs (trace, "
              "read models, aggregates); a difference exits 3 and names the first trace step "
              "where the runs part, or the final state that differs");
  runners.emplace_back("run", [run, &registry] { return run_command(*run, registry); });

  auto replay = std::make_shared<ReplayArgs>();
  CLI::App* p = app.add_subcommand(
      "replay",
      "Run one seed of a scenario again, bit for bit: print its verdict, the evidence of\n"
      "every violation and its fingerprint. Exits 1 if a property was violated; a repro\n"
      "file exits 0 while it reproduces its property and 1 once it no longer does.");
  p->add_option("scenario", replay->file, "Scenario file")->required();
  p->add_option("--seed", replay->seed, "The seed to replay (a repro file's own by default)")
      ->check(whole_number(0, UINT64_MAX));
  p->add_option("--trace", replay->trace_file, "Write every trace step to FILE as JSON lines");
  p->add_option("--html", replay->html_file,
                "Write a self-contained HTML space-time diagram of the run to FILE; it opens on "
                "the steps the evidence names");
  p->add_option("--shiviz", replay->shiviz_file,
                "Write the trace in ShiViz's log format (vector clocks) to FILE");
  runners.emplace_back("replay", [replay, &registry] { return replay_command(*replay, registry); });

  auto shrink = std::make_shared<ShrinkArgs>();
  shrink->program = program;
  CLI::App* sh = app.add_subcommand(
      "shrink",
      "Shrink a failing seed: remove the faults, message fates and work its failure does\n"
      "not need, shorten the chaos phase and the delays, and write a repro file that\n"
      "'essim replay' runs from those decisions alone, failing the same property.");
  sh->add_option("scenario", shrink->file, "Scenario file")->required();
  sh->add_option("--seed", shrink->seed, "The failing seed")
      ->required()
      ->check(whole_number(0, UINT64_MAX));
  sh->add_option("-o,--output", shrink->output, "The repro file (default: NAME-seedS.repro.yaml)");
  sh->add_option("--property", shrink->property,
                 "The property to keep failing (default: the scenario's expected violation, "
                 "else the first the seed violates); shrinking never switches property");
  sh->add_option("--max-time", shrink->max_seconds, "Stop shrinking after this many seconds")
      ->check(CLI::Range(0.1, 86400.0))
      ->capture_default_str();
  runners.emplace_back("shrink", [shrink, &registry] { return shrink_command(*shrink, registry); });

  auto validate = std::make_shared<std::vector<std::string>>();
  CLI::App* v = app.add_subcommand(
      "validate", "Check scenario files without running them: every error names file:line:column.");
  v->add_option("scenarios", *validate, "Scenario files")->required();
  runners.emplace_back("validate",
                       [validate, &registry] { return validate_command(*validate, registry); });

  auto merge_files = std::make_shared<std::vector<std::string>>();
  auto merge_dir = std::make_shared<std::string>();
  CLI::App* m = app.add_subcommand(
      "merge", "Join the report.json files of shards ('essim run --shard I/N') into one report.");
  m->add_option("reports", *merge_files, "report.json files")->required();
  m->add_option("--report-dir", *merge_dir,
                "Write the merged report.json, junit.xml, summary.md and report.html here");
  runners.emplace_back(
      "merge", [merge_files, merge_dir] { return merge_command(*merge_files, *merge_dir); });
  runners.push_back(add_determinism_child_command(app, registry));
  return runners;
}

}  // namespace essim::cli
