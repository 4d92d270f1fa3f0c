// `essim demo`: a sweep of seeds over the built-in kernel demo (see
// harness/kernel_demo.h), until the scenario runner exists.

#include <atomic>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "cli/shard.h"
#include "harness/kernel_demo.h"
#include "harness/sweep.h"
#include "reports/progress.h"
#include "sim/types.h"

namespace essim::cli {

namespace {

struct DemoOptions {
  std::uint64_t seed = 1;
  std::uint64_t seeds = 100;
  int jobs = 1;
  std::string shard = "0/1";
  bool ack_before_sync = false;
  bool calm = false;
  bool quiet = false;
  int writers = 3;
  double chaos_s = 10;
};


std::string replay_command(const DemoOptions& o, std::uint64_t seed) {
  std::string command = fmt::format("essim demo --seed {} --seeds 1", seed);
  if (o.ack_before_sync) command += " --ack-before-sync";
  if (o.calm) command += " --calm";
  if (o.writers != 3) command += fmt::format(" --writers {}", o.writers);
  if (o.chaos_s != 10) command += fmt::format(" --chaos {}", o.chaos_s);
  return command;
}

void print_single(const DemoOptions& o, const harness::DemoResult& r) {
  fmt::print("seed {}: {}\n", r.seed, r.violations.empty() ? "passed" : "FAILED");
  fmt::print("  events {}, trace steps {}, writes acknowledged {}\n", r.events, r.trace_steps,
             r.writes_acked);
  fmt::print("  messages sent {}, dropped {}, duplicated {}\n", r.messages_sent, r.messages_dropped,
             r.messages_duplicated);
  fmt::print("  faults planned ({}):\n", r.faults.size());
  for (const std::string& f : r.faults) fmt::print("    {}\n", f);
  constexpr std::size_t kShown = 10;
  for (std::size_t i = 0; i < r.violations.size() && i < kShown; ++i) {
    fmt::print("  violation: {}\n", r.violations[i]);
  }
  if (r.violations.size() > kShown) {
    fmt::print("  ... and {} more violations\n", r.violations.size() - kShown);
  }
  if (!r.violations.empty()) fmt::print("  replay: {}\n", replay_command(o, r.seed));
  fmt::print("fingerprint: 0x{:016x}\n", r.fingerprint);
}

int run_demo_command(const DemoOptions& o) {
  harness::SweepPlan plan;
  plan.first_seed = o.seed;
  plan.seeds = o.seeds;
  plan.jobs = o.jobs;
  if (!parse_shard(o.shard, plan.shard_index, plan.shard_count)) {
    fmt::print(stderr, "essim demo: --shard wants I/N with 0 <= I < N, e.g. 0/4, not '{}'\n",
               o.shard);
    return kExitUsage;
  }
  harness::DemoConfig config;
  config.ack_before_sync = o.ack_before_sync;
  config.faults = !o.calm;
  config.writers = o.writers;
  config.chaos_us = static_cast<sim::Micros>(o.chaos_s * 1e6);

  const std::vector<std::uint64_t> seeds = plan.seed_list();
  std::vector<harness::DemoResult> results(seeds.size());
  if (seeds.size() == 1) {
    results[0] = harness::run_demo(seeds[0], config);
    print_single(o, results[0]);
    return results[0].violations.empty() ? kExitOk : kExitViolation;
  }

  fmt::print(
      "essim demo: keeper + {} writers, {}s chaos, faults {}{}; {} seeds from {}, {} job(s)\n",
      o.writers, o.chaos_s, o.calm ? "off" : "on",
      o.ack_before_sync ? ", bug: ack-before-sync" : "", seeds.size(), o.seed, o.jobs);
  std::fflush(stdout);
  reports::Progress progress("demo", seeds.size(), stderr,
                             reports::Progress::is_interactive(stderr));
  std::atomic<std::size_t> failures{0};
  const auto started = std::chrono::steady_clock::now();
  harness::sweep(
      plan,
      [&](std::uint64_t seed, std::size_t slot) {
        results[slot] = harness::run_demo(seed, config);
        if (!results[slot].violations.empty()) ++failures;
      },
      [&](std::size_t done, std::size_t) {
        if (!o.quiet) progress.update(done, failures);
      });
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (!o.quiet) progress.finish(seeds.size(), failures);

  std::uint64_t sweep_fingerprint = 0;
  harness::DemoResult total;
  std::vector<const harness::DemoResult*> failed;
  for (const harness::DemoResult& r : results) {
    sweep_fingerprint = sim::fold_hash(sweep_fingerprint, r.fingerprint);
    total.events += r.events;
    total.writes_acked += r.writes_acked;
    total.messages_sent += r.messages_sent;
    total.messages_dropped += r.messages_dropped;
    total.messages_duplicated += r.messages_duplicated;
    total.crashes += r.crashes;
    total.partitions += r.partitions;
    total.disk_crash_decisions += r.disk_crash_decisions;
    if (!r.violations.empty()) failed.push_back(&r);
  }
  fmt::print("seeds {}, passed {}, failed {}\n", results.size(), results.size() - failed.size(),
             failed.size());
  fmt::print("simulated events {} ({:.0f} per second of wall time)\n", total.events,
             wall_s > 0 ? static_cast<double>(total.events) / wall_s : 0.0);
  fmt::print(
      "injected: {} crashes, {} partitions, {} messages dropped, {} duplicated, {} disk crash "
      "decisions; {} writes acknowledged\n",
      total.crashes, total.partitions, total.messages_dropped, total.messages_duplicated,
      total.disk_crash_decisions, total.writes_acked);
  constexpr std::size_t kShown = 10;
  for (std::size_t i = 0; i < failed.size() && i < kShown; ++i) {
    const harness::DemoResult& r = *failed[i];
    fmt::print("FAILED seed {} (fingerprint 0x{:016x}): {}\n", r.seed, r.fingerprint,
               r.violations.front());
    if (r.violations.size() > 1)
      fmt::print("  and {} more violation(s)\n", r.violations.size() - 1);
    fmt::print("  replay: {}\n", replay_command(o, r.seed));
  }
  if (failed.size() > kShown) fmt::print("... and {} more failed seeds\n", failed.size() - kShown);
  fmt::print("sweep fingerprint: 0x{:016x}\n", sweep_fingerprint);
  return failed.empty() ? kExitOk : kExitViolation;
}

}  // namespace

Runner add_demo_command(CLI::App& app) {
  auto options = std::make_shared<DemoOptions>();
  CLI::App* demo = app.add_subcommand(
      "demo",
      "Sweep seeds over the built-in kernel demo: a keeper stores writes from writers\n"
      "under drops, duplicates, delays, reordering, partitions, clogs, crashes and torn\n"
      "writes, then checks that no acknowledged write was lost and all writes converged.");
  demo->add_option("--seed", options->seed,
                   "First seed of the sweep (alone with --seeds 1: the seed to replay)")
      ->capture_default_str();
  demo->add_option("--seeds", options->seeds, "Number of seeds")
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100'000'000}))
      ->capture_default_str();
  demo->add_option("--jobs,-j", options->jobs, "Seeds run on this many threads")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  demo->add_option("--shard", options->shard, "Run shard I of N (every N-th seed), as I/N")
      ->capture_default_str();
  demo->add_option("--writers", options->writers, "Writer nodes")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  demo->add_option("--chaos", options->chaos_s, "Simulated seconds of the chaos phase")
      ->check(CLI::Range(0.0, 3600.0))
      ->capture_default_str();
  demo->add_flag("--ack-before-sync", options->ack_before_sync,
                 "Turn on the bug: the keeper acknowledges before its write is durable");
  demo->add_flag("--calm", options->calm, "No faults (the baseline)");
  demo->add_flag("--quiet,-q", options->quiet, "No progress line");
  return [options] { return run_demo_command(*options); };
}

}  // namespace essim::cli
