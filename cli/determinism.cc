#include "cli/determinism.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/args.h"
#include "cli/exit_codes.h"
#include "cli/subprocess.h"
#include "harness/determinism.h"

namespace essim::cli {

namespace {

constexpr const char* kChildCommand = "determinism-child";
// A second run may take this long at least, and this many times the first.
constexpr double kSecondRunSecondsMin = 60;
constexpr double kSecondRunSlowdownMax = 10;
// The most a second run may print (a traced report is ~60 bytes a step).
constexpr std::size_t kReportBytesMax = std::size_t{512} << 20;

// The binary that is running, started again.
constexpr const char* kSelf = "/proc/self/exe";

struct ChildArgs {
  std::string file;
  std::uint64_t seed = 0;
  bool trace = false;
};

bool write_all(int fd, std::string_view text) {
  while (!text.empty()) {
    const ssize_t n = ::write(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// The report goes to the standard output it was given; whatever the code
// under test prints goes to standard error, so it cannot garble the report.
int child_command(const ChildArgs& a, const model::Registry& registry) {
  const int report = ::dup(STDOUT_FILENO);
  if (report < 0 || ::dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    fmt::print(stderr, "{}: cannot set up standard output\n", kChildCommand);
    return kExitInternal;
  }
  auto s = harness::load_scenario(a.file, registry);
  if (!s.ok()) {
    fmt::print(stderr, "error: {}\n", s.error().message);
    return kExitUsage;
  }
  const harness::SeedResult r = harness::run_seed(s.value(), a.seed, a.trace);
  std::fflush(stdout);
  const bool written = write_all(report, harness::encode_second_run(r));
  ::close(report);
  return written ? kExitOk : kExitInternal;
}

std::string indented(const std::string& text) {
  std::string out;
  for (const char c : text) out += c == '\n' ? std::string("\n      ") : std::string(1, c);
  while (!out.empty() && (out.back() == ' ' || out.back() == '\n')) out.pop_back();
  return out;
}

// Why a second run failed, with the command that makes it and the end of
// what it wrote to standard error.
std::string second_run_failed(const std::vector<std::string>& argv, const std::string& why,
                              const std::string& err_tail) {
  std::string out = fmt::format("the second run ('{}') {}", fmt::join(argv, " "), why);
  if (!err_tail.empty()) out += "; the end of its standard error:\n      " + indented(err_tail);
  return out;
}

sim::Result<harness::SeedResult> second_run(const std::string& file, const std::string& program,
                                            std::uint64_t seed, bool keep_trace,
                                            double first_seconds) {
  std::vector<std::string> argv{program, kChildCommand, "--seed", std::to_string(seed)};
  if (keep_trace) argv.emplace_back("--trace");
  argv.insert(argv.end(), {"--", file});
  ProcessLimits limits;
  limits.deadline_seconds = kSecondRunSecondsMin + kSecondRunSlowdownMax * first_seconds;
  limits.out_bytes_max = kReportBytesMax;
  const sim::Result<ProcessOutput> ran = run_process(kSelf, argv, limits);
  if (!ran.ok()) return sim::Error{second_run_failed(argv, ran.error().message, "")};
  const ProcessOutput& o = ran.value();
  if (!o.exited_ok()) return sim::Error{second_run_failed(argv, o.how_it_ended(), o.err_tail)};
  auto report = harness::decode_second_run(o.out);
  if (!report.ok()) {
    return sim::Error{second_run_failed(
        argv, "printed something that is not its report: " + report.error().message, o.err_tail)};
  }
  return report;
}

void print_mismatch(const harness::Scenario& s, const harness::ScenarioResult& r,
                    std::uint64_t seed, const harness::DeterminismCheck& check) {
  fmt::print(
      "NONDETERMINISTIC  {} seed {}: a second run of the same seed, in a new process, differs\n"
      "  fingerprints: 0x{:016x} (this process), 0x{:016x} (the new process)\n",
      s.name, seed, check.first_fingerprint, check.second_fingerprint);
  if (check.parted_at_step) {
    fmt::print("  the runs part at trace step {}:\n", *check.parted_at_step);
    if (!check.agreed_entry.empty()) fmt::print("    both runs:    {}\n", check.agreed_entry);
    fmt::print("    this process: {}\n    new process:  {}\n", check.first_entry,
               check.second_entry);
  } else if (!check.differing_states.empty()) {
    fmt::print("  all {} trace steps agree; the final state differs in:\n", check.trace_steps);
    for (const std::string& what : check.differing_states) fmt::print("    {}\n", what);
  } else if (!check.not_located.empty()) {
    fmt::print("  where they part is not known: {}\n", check.not_located);
  } else {
    fmt::print(
        "  two more runs, keeping their traces, did not differ: the difference comes and "
        "goes\n");
  }
  fmt::print("  replay: {}\n", harness::replay_command(r.program, s, seed));
}

}  // namespace

std::pair<std::string, Runner> add_determinism_child_command(CLI::App& app,
                                                             const model::Registry& registry) {
  auto args = std::make_shared<ChildArgs>();
  CLI::App* c = app.add_subcommand(kChildCommand, "The second run of a determinism check");
  c->group("");  // hidden: run --check-determinism starts it
  c->add_option("--seed", args->seed)->required()->check(whole_number(0, UINT64_MAX));
  c->add_flag("--trace", args->trace);
  c->add_option("scenario", args->file)->required();
  return {kChildCommand, [args, &registry] { return child_command(*args, registry); }};
}

harness::SecondRun second_run_in_new_process(const std::string& scenario_file,
                                             const std::string& program) {
  return [scenario_file, program](std::uint64_t seed, bool keep_trace, double first_seconds) {
    return second_run(scenario_file, program, seed, keep_trace, first_seconds);
  };
}

void print_nondeterminism(const harness::Scenario& s, const harness::ScenarioResult& r) {
  for (const auto& [seed, check] : r.nondeterministic) {
    if (check.failure.empty()) {
      print_mismatch(s, r, seed, check);
    } else {
      fmt::print("NOT CHECKED  {} seed {}: {}\n", s.name, seed, check.failure);
    }
  }
  const std::uint64_t all = r.nondeterministic_seeds + r.unchecked_seeds;
  if (all > r.nondeterministic.size())
    fmt::print("  ... and {} more seeds that differed or could not be checked\n",
               all - r.nondeterministic.size());
}

int print_determinism_summary(std::uint64_t nondeterministic, std::uint64_t unchecked,
                              int exit_code) {
  if (nondeterministic > 0) {
    fmt::print(
        "determinism: {} seed(s) ran differently the second time (see above). The code under "
        "test or essim depends on something the seed does not fix: a wall clock, "
        "std::random_device, a container keyed or ordered by pointers, static or global state "
        "kept between runs, iteration over an unordered container, threads; in an external "
        "domain, random, time, uuid4, module globals, or the order of a set of strings; see "
        "README, "
        "'Determinism checks'\n",
        nondeterministic);
  }
  if (unchecked > 0) {
    fmt::print(
        "determinism: the second run of {} seed(s) could not be made or read (see above): a "
        "harness failure, not a verdict on the code under test\n",
        unchecked);
  }
  if (nondeterministic > 0 || unchecked > 0) return kExitInternal;
  fmt::print("determinism: every seed ran a second time, in a new process, alike\n");
  return exit_code;
}

}  // namespace essim::cli
