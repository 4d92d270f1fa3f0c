// `essim fuzz DOMAIN` (testing/domain_fuzz.h) and `essim fuzz HANDLER`, a
// projection handler's idempotency (testing/idempotency.h), with RapidCheck. essim prints the
// outcome itself: a shrunk counterexample with payloads, the statistics, and the two commands that
// reproduce it (the whole search from its seed, the shrunk case alone from RapidCheck's reproduce
// string).

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <random>
#include <set>
#include <string_view>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/args.h"
#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "harness/scenario.h"
#include "model/domain.h"
#include "reports/progress.h"
#include "testing/domain_fuzz.h"
#include "testing/idempotency.h"

namespace essim::cli {

namespace {

// The largest weight in a mix, as in a scenario's workload.mix.
constexpr std::uint64_t kWeightMax = 1'000'000;
constexpr std::size_t kWorksMaxDefault = 30;

struct FuzzArgs {
  std::string program;                  // the runner's name, for the reproduce commands
  std::string handler;                  // or a domain
  CLI::Option* dedup_option = nullptr;  // given or not
  int runs = 1'000;
  std::string dedup = "none";
  std::uint64_t seed = 0;
  CLI::Option* seed_option = nullptr;  // given or not
  std::size_t works_max = kWorksMaxDefault;
  std::string mix;       // empty: the domain's
  std::string scenario;  // whose external domain to fuzz
};

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

// "kind=weight,..." over the domain's work kinds. Kinds left out are not drawn.
sim::Result<std::vector<model::WorkWeight>> parse_mix(const model::Domain& domain,
                                                      std::string_view text) {
  const std::vector<std::string> kinds = domain.work_kinds();
  std::vector<model::WorkWeight> mix;
  std::set<std::string, std::less<>> seen;
  std::uint64_t total = 0;
  for (std::size_t from = 0; from <= text.size();) {
    std::size_t to = text.find(',', from);
    if (to == std::string_view::npos) to = text.size();
    const std::string_view entry = trimmed(text.substr(from, to - from));
    from = to + 1;
    const std::size_t eq = entry.find('=');
    if (entry.empty()) return sim::Error{"an empty entry (the mix is kind=weight,...)"};
    if (eq == std::string_view::npos) {
      return sim::Error{fmt::format("'{}' is not kind=weight (the mix is kind=weight,...)", entry)};
    }
    const std::string kind(trimmed(entry.substr(0, eq)));
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
      const std::string guess = harness::nearest(kind, kinds);
      return sim::Error{
          fmt::format("the {} domain has no work kind '{}'{}; its kinds: {}", domain.name(), kind,
                      guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
                      fmt::join(kinds, ", "))};
    }
    if (!seen.insert(kind).second) return sim::Error{fmt::format("'{}' is given twice", kind)};
    const std::string_view weight_text = trimmed(entry.substr(eq + 1));
    const auto weight = parse_u64(weight_text);
    if (!weight || *weight > kWeightMax) {
      return sim::Error{
          fmt::format("the weight of '{}' must be a whole number from 0 to {}, not '{}'", kind,
                      kWeightMax, weight_text)};
    }
    mix.push_back({kind, static_cast<std::uint32_t>(*weight)});
    total += *weight;
  }
  if (total == 0) return sim::Error{"no weight is positive, so no work would be drawn"};
  return mix;
}

std::string show_mix(const std::vector<model::WorkWeight>& mix) {
  std::vector<std::string> weights;
  for (const model::WorkWeight& w : mix) weights.push_back(fmt::format("{}={}", w.kind, w.weight));
  return fmt::format("{}", fmt::join(weights, ","));
}

// The options that decide what is generated and checked, as they must be
// given again to reproduce: all but the seed and the runs.
std::string setting_options(const FuzzArgs& a, const fuzzing::FuzzSettings& s) {
  std::string out;
  if (s.dedup != model::Dedup::kNone) out += fmt::format(" --dedup {}", model::to_string(s.dedup));
  if (s.works_max != kWorksMaxDefault) out += fmt::format(" --max-works {}", s.works_max);
  if (!a.mix.empty()) out += " --mix " + show_mix(s.mix);
  return out;
}

// "1 run", "2 runs".
std::string count(std::uint64_t n, std::string_view noun) {
  return fmt::format("{} {}{}", n, noun, n == 1 ? "" : "s");
}

std::string show_seconds(double seconds) {
  return seconds < 1 ? fmt::format("{:.1f} ms", seconds * 1e3) : fmt::format("{:.2f} s", seconds);
}

enum class Shown : std::uint8_t { kPassed, kFailed, kReproduced };

// Counts, then the wall-clock figures after a ';' (they vary from run to run).
// `unit`: what stats.deliveries counts ("deliveries", "events").
void print_stats(const fuzzing::FuzzStats& s, Shown shown, std::string_view unit) {
  const double rate = s.seconds > 0 ? static_cast<double>(s.deliveries) / s.seconds : 0;
  if (shown == Shown::kReproduced) {
    // RapidCheck walks the shrink path to the case: no search, no shrinking.
    fmt::print("stats: the one case, {} {} along its shrink path; {:.0f} {}/s, {}\n", s.deliveries,
               unit, rate, unit, show_seconds(s.seconds));
    return;
  }
  std::string line = fmt::format("stats: {}", count(s.runs, "run"));
  if (s.discarded > 0) line += fmt::format(" ({} without an event, replaced)", s.discarded);
  if (shown == Shown::kFailed) {
    line += fmt::format(", {} of {} shrinks taken", s.shrinks_taken, s.shrinks_tried);
  }
  line += fmt::format(", {} {}; {:.0f} {}/s, ", s.deliveries, unit, rate, unit);
  line += shown == Shown::kFailed
              ? fmt::format("found in {}, shrunk in {}", show_seconds(s.seconds_to_find),
                            show_seconds(s.seconds_to_shrink))
              : fmt::format("{} in all", show_seconds(s.seconds));
  fmt::print("{}\n", line);
}

// What either fuzzer found, as report() prints it.
struct Found {
  fuzzing::Verdict kind;
  std::string counterexample;  // described, when kFailed
  std::string reproduce;
  std::string message;
  fuzzing::FuzzStats stats;
  std::string_view unit;  // what stats.deliveries counts
};

// `target` is the handler or domain as given; `options` the settings to give again.
int report(const FuzzArgs& a, std::string options, const std::string& name, const Found& out,
           bool reproducing) {
  if (!a.scenario.empty()) options = " --scenario " + a.scenario + options;
  using Kind = fuzzing::Verdict;
  switch (out.kind) {
    case Kind::kBadParams:
      fmt::print(stderr, "{} fuzz: {}\n", a.program, out.message);
      return kExitUsage;
    case Kind::kGaveUp:
      fmt::print(stderr, "{} fuzz: gave up: {}\n", a.program, out.message);
      return kExitUsage;
    case Kind::kNotReproduced:
      fmt::print("NO LONGER REPRODUCES  {}: {}\n", name, out.message);
      return kExitViolation;
    case Kind::kPassed:
      fmt::print("PASSED  {}: {}\n", name, count(out.stats.runs, "run"));
      print_stats(out.stats, Shown::kPassed, out.unit);
      return kExitOk;
    case Kind::kFailed:
      break;
  }
  fmt::print("FAILED  {}", out.counterexample);
  if (out.reproduce.empty()) return kExitViolation;  // before any case: nothing to reproduce
  print_stats(out.stats, reproducing ? Shown::kReproduced : Shown::kFailed, out.unit);
  fmt::print("reproduce:\n");
  if (!reproducing) {
    fmt::print("  {} fuzz {} --seed {} --runs {}{}\n", a.program, a.handler, a.seed, a.runs,
               options);
  }
  fmt::print("  RC_PARAMS=\"{}\" {} fuzz {}{}\n", out.reproduce, a.program, a.handler, options);
  return kExitViolation;
}

// The settings the options give, or why they cannot be used.
// The mix the options give, or why it cannot be used.
sim::Result<std::vector<model::WorkWeight>> fuzz_mix(const FuzzArgs& a,
                                                     const model::Domain& domain) {
  if (a.mix.empty()) {
    std::vector<model::WorkWeight> mix = domain.mix();
    std::uint64_t total = 0;
    for (const model::WorkWeight& w : mix) total += w.weight;
    if (total == 0) {
      return sim::Error{fmt::format(
          "the {} domain's mix() has no positive weight; give one with --mix", domain.name())};
    }
    return mix;
  }
  auto mix = parse_mix(domain, a.mix);
  if (!mix.ok()) return sim::Error{"--mix: " + mix.error().message};
  return mix;
}

sim::Result<fuzzing::FuzzSettings> fuzz_settings(const FuzzArgs& a, const model::Domain& domain) {
  fuzzing::FuzzSettings settings;
  const auto dedup = model::dedup_by_name(a.dedup);
  if (!dedup) {
    return sim::Error{
        fmt::format("--dedup must be none, event-id or atomic-checkpoint, not '{}'", a.dedup)};
  }
  settings.dedup = *dedup;
  settings.works_max = a.works_max;
  auto mix = fuzz_mix(a, domain);
  if (!mix.ok()) return mix.error();
  settings.mix = std::move(mix).value();
  return settings;
}

// The seed, the runs and RC_PARAMS, as the options and the environment give them.
fuzzing::FuzzRun fuzz_run(FuzzArgs& a, bool& random_seed) {
  random_seed = a.seed_option->count() == 0;
  if (random_seed) {
    std::random_device device;  // the tool's own choice, printed; never inside a simulation
    a.seed = (std::uint64_t{device()} << 32) | device();
  }
  fuzzing::FuzzRun run;
  run.seed = a.seed;
  run.runs = a.runs;
  const char* rc_params = std::getenv("RC_PARAMS");
  run.rc_params = rc_params == nullptr ? "" : rc_params;
  return run;
}

// `run`, telling `status` how far the search or its shrinking has come
// (an external domain's cases can take minutes).
fuzzing::FuzzRun with_progress(fuzzing::FuzzRun run, reports::StatusLine& status) {
  run.progress = [&status](const fuzzing::FuzzStats& s, bool shrinking) {
    if (shrinking) {
      status.show(fmt::format("fuzzing: found after {}; shrinking: {} tried, {} taken",
                              count(s.runs, "run"), s.shrinks_tried, s.shrinks_taken));
    } else {
      status.show(fmt::format("fuzzing: {} passed", count(s.runs, "run")));
    }
  };
  return run;
}

int fuzz_domain_command(FuzzArgs a, const model::Domain& domain) {
  if (a.dedup_option->count() > 0) {
    fmt::print(stderr,
               "{} fuzz: --dedup is for a handler (e.g. {}.HANDLER); fuzzing the {} domain "
               "delivers nothing\n",
               a.program, domain.name(), domain.name());
    return kExitUsage;
  }
  auto mix = fuzz_mix(a, domain);
  if (!mix.ok()) {
    fmt::print(stderr, "{} fuzz: {}\n", a.program, mix.error().message);
    return kExitUsage;
  }
  fuzzing::DomainSettings settings;
  settings.works_max = a.works_max;
  settings.mix = std::move(mix).value();
  bool random_seed = false;
  const fuzzing::FuzzRun run = fuzz_run(a, random_seed);
  const bool reproducing = run.rc_params.find("reproduce=") != std::string::npos;
  if (reproducing) {
    fmt::print("reproducing the case RC_PARAMS names for {}\n", a.handler);
  } else {
    fmt::print(
        "fuzzing the {} domain, seed {}{}: {}, sequences of up to {} drawn by {}, decided in "
        "order and held to its rules, decision model, reference projections, snapshots and "
        "old writers\n",
        domain.name(), a.seed, random_seed ? " (random)" : "", count(a.runs, "run"),
        count(a.works_max, "work"), show_mix(settings.mix));
  }
  std::fflush(stdout);
  reports::StatusLine status(stderr, reports::Progress::is_interactive(stderr));
  auto out = fuzzing::fuzz_domain(domain, settings, with_progress(run, status));
  status.clear();
  std::string options;
  if (settings.works_max != kWorksMaxDefault)
    options += fmt::format(" --max-works {}", settings.works_max);
  if (!a.mix.empty()) options += " --mix " + show_mix(settings.mix);
  const std::string described =
      out.counterexample ? fuzzing::describe(*out.counterexample) : std::string();
  return report(a, options, a.handler,
                Found{out.kind, described, std::move(out.reproduce), std::move(out.message),
                      out.stats, "events"},
                reproducing);
}

int fuzz_command(FuzzArgs a, const model::Registry& registry) {
  if (const model::Domain* domain = registry.domain(a.handler)) {
    return fuzz_domain_command(std::move(a), *domain);
  }
  const auto found = registry.handler(a.handler);
  if (!found) {
    std::vector<std::string> names = registry.domain_names();
    for (std::string& h : registry.handler_names()) names.push_back(std::move(h));
    const std::string guess = harness::nearest(a.handler, names);
    fmt::print(
        stderr, "{} fuzz: no domain or projection handler '{}'{}; domains: {}; handlers: {}{}\n",
        a.program, a.handler, guess.empty() ? "" : fmt::format(" (did you mean '{}'?)", guess),
        fmt::join(registry.domain_names(), ", "), fmt::join(registry.handler_names(), ", "),
        a.scenario.empty() ? "\n  (an external domain? give --scenario FILE, a scenario that "
                             "starts it)"
                           : "");
    return kExitUsage;
  }
  const auto settings = fuzz_settings(a, *found->domain);
  if (!settings.ok()) {
    fmt::print(stderr, "{} fuzz: {}\n", a.program, settings.error().message);
    return kExitUsage;
  }
  bool random_seed = false;
  const fuzzing::FuzzRun run = fuzz_run(a, random_seed);
  const bool reproducing = run.rc_params.find("reproduce=") != std::string::npos;
  const std::string name =
      fmt::format("{} with dedup {}", a.handler, model::to_string(settings.value().dedup));
  if (reproducing) {
    fmt::print("reproducing the case RC_PARAMS names for {}\n", name);
  } else {
    fmt::print(
        "fuzzing {}, seed {}{}: {}, histories of up to {} drawn by {}, delivered out of "
        "order, again, and after crashes\n",
        name, a.seed, random_seed ? " (random)" : "", count(a.runs, "run"),
        count(a.works_max, "work"), show_mix(settings.value().mix));
  }
  std::fflush(stdout);
  reports::StatusLine status(stderr, reports::Progress::is_interactive(stderr));
  auto out =
      fuzzing::fuzz(*found->domain, *found->handler, settings.value(), with_progress(run, status));
  status.clear();
  const std::string described =
      out.counterexample ? fuzzing::describe(*out.counterexample) : std::string();
  return report(a, setting_options(a, settings.value()), name,
                Found{out.kind, described, std::move(out.reproduce), std::move(out.message),
                      out.stats, "deliveries"},
                reproducing);
}

}  // namespace

Runner add_fuzz_command(CLI::App& app, const model::Registry& registry) {
  auto args = std::make_shared<FuzzArgs>();
  args->program = app.get_name();  // the runner's name, set before its subcommands are added
  CLI::App* f = app.add_subcommand(
      "fuzz",
      "Fuzz a domain or a projection handler with RapidCheck, outside any cluster.\n"
      "  fuzz DOMAIN: command sequences drawn by the domain's generators, decided in\n"
      "    order, and held to its rules, its decision model, its handlers' reference\n"
      "    projections, exhaustiveness, snapshots taken after every event, and its old\n"
      "    writers read back through the upcasters.\n"
      "  fuzz DOMAIN.HANDLER: histories the domain can produce, delivered with\n"
      "    duplicates, redeliveries after crashes and streams interleaved; the read\n"
      "    model must equal one in-order application (idempotency).\n"
      "Exits 1 with a shrunk counterexample and the commands that reproduce it.\n"
      "RC_PARAMS=\"reproduce=...\" runs the one shrunk case it names; the rest of\n"
      "RC_PARAMS is not read.");
  f->add_option("target", args->handler,
                "A registered domain (e.g. bank) or handler (e.g. bank.balances)")
      ->required();
  f->add_option("--runs", args->runs, "Random cases to try")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  args->dedup_option =
      f->add_option("--dedup", args->dedup,
                    "The worker's strategy: none (the handler alone must be idempotent), event-id, "
                    "atomic-checkpoint")
          ->capture_default_str();
  args->seed_option =
      f->add_option("--seed", args->seed,
                    "RapidCheck's seed (0 to 2^64 - 1): the same seed, the same cases and "
                    "counterexample (default: a random one, printed)")
          ->check(whole_number(0, UINT64_MAX));
  f->add_option("--max-works", args->works_max, "The most pieces of work in one history")
      ->check(whole_number(1, fuzzing::kWorksMaxLimit))
      ->capture_default_str();
  f->add_option("--mix", args->mix,
                fmt::format("How often each kind of work is drawn, as kind=weight,... (weights "
                            "0 to {}; kinds left out are not drawn; default: the domain's mix)",
                            kWeightMax));
  f->add_option("--scenario", args->scenario,
                "A scenario file whose external domain (a process speaking docs/protocol.md) "
                "to start and fuzz");
  return [args, &registry] {
    std::shared_ptr<const model::Registry> keep;
    const model::Registry* r =
        registry_for(args->scenario, registry, keep, args->program + " fuzz");
    if (r == nullptr) return kExitUsage;
    return fuzz_command(*args, *r);
  };
}

}  // namespace essim::cli
