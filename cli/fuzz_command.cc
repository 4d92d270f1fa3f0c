// `essim fuzz HANDLER`: fuzz a projection handler's idempotency (see
// properties/idempotency.h) with RapidCheck, which shrinks a failure and
// prints the string that reproduces it.

#include <cstdlib>
#include <memory>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidcheck.h>

#include "cli/commands.h"
#include "cli/exit_codes.h"
#include "model/domain.h"
#include "properties/idempotency.h"

namespace essim::cli {

namespace {

struct FuzzArgs {
  std::string handler;
  int runs = 1'000;
  std::string dedup = "none";
};

int fuzz_command(const FuzzArgs& a, const model::Registry& registry) {
  const auto found = registry.handler(a.handler);
  if (!found) {
    fmt::print(stderr, "essim fuzz: no projection handler '{}'; registered: {}\n", a.handler,
               fmt::join(registry.handler_names(), ", "));
    return kExitUsage;
  }
  const auto dedup = model::dedup_by_name(a.dedup);
  if (!dedup) {
    fmt::print(stderr,
               "essim fuzz: --dedup must be none, event-id or atomic-checkpoint, not '{}'\n",
               a.dedup);
    return kExitUsage;
  }
  // RapidCheck reads RC_PARAMS once, at its first check; a reproduce string
  // the user set there is kept.
  const char* existing = std::getenv("RC_PARAMS");
  const std::string params =
      fmt::format("{} max_success={}", existing == nullptr ? "" : existing, a.runs);
  setenv("RC_PARAMS", params.c_str(), 1);
  const model::Domain& domain = *found->domain;
  const model::ProjectionHandler& handler = *found->handler;
  fmt::print(
      "fuzzing {} with dedup {}: histories from the {} domain's deciders, delivered "
      "out of order, again, and after crashes\n",
      a.handler, model::to_string(*dedup), domain.name());
  std::fflush(stdout);
  const bool ok = rc::check(fmt::format("{} (dedup {}) equals one in-order application", a.handler,
                                        model::to_string(*dedup)),
                            [&] { properties::check_idempotent(domain, handler, *dedup); });
  return ok ? kExitOk : kExitViolation;
}

}  // namespace

Runner add_fuzz_command(CLI::App& app, const model::Registry& registry) {
  auto args = std::make_shared<FuzzArgs>();
  CLI::App* f = app.add_subcommand(
      "fuzz",
      "Fuzz a projection handler's idempotency: deliver histories its domain can produce\n"
      "with duplicates, redeliveries after crashes and streams interleaved, and check the\n"
      "read model equals one in-order application. Exits 1 with a shrunk counterexample\n"
      "and RapidCheck's reproduce string when it does not.");
  f->add_option("handler", args->handler, "A registered handler, e.g. bank.balances")->required();
  f->add_option("--runs", args->runs, "Random cases to try")
      ->check(CLI::Range(1, 10'000'000))
      ->capture_default_str();
  f->add_option("--dedup", args->dedup,
                "The worker's strategy: none (the handler alone must be idempotent), event-id, "
                "atomic-checkpoint")
      ->capture_default_str();
  return [args, &registry] { return fuzz_command(*args, registry); };
}

}  // namespace essim::cli
