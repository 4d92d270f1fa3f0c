#include "testing/search.h"

#include <algorithm>
#include <chrono>
#include <exception>
#include <optional>
#include <stdexcept>
#include <unordered_map>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <rapidcheck.h>
#include <rapidcheck/detail/Configuration.h>

#include "model/user_code.h"
#include "sim/assert.h"
#include "sim/result.h"

namespace essim::fuzzing {

namespace {

using Clock = std::chrono::steady_clock;  // the tool's own time, never a simulation's

double seconds(Clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

// Counts RapidCheck's cases and shrinks and notes when the first case failed.
// Tells `progress` (when set) after each.
class Listener final : public rc::detail::TestListener {
 public:
  Listener(FuzzStats& stats, const FuzzRun& run) : stats_(stats), progress_(run.progress) {}
  void onTestCaseFinished(const rc::detail::CaseDescription& d) override {
    if (d.result.type == rc::detail::CaseResult::Type::Discard) {
      ++stats_.discarded;
    } else {
      ++stats_.runs;
      if (d.result.type == rc::detail::CaseResult::Type::Failure) found_at_ = Clock::now();
    }
    if (progress_) progress_(stats_, found_at_.has_value());
  }
  void onShrinkTried(const rc::detail::CaseDescription& /*shrink*/, bool accepted) override {
    ++stats_.shrinks_tried;
    if (accepted) ++stats_.shrinks_taken;
    if (progress_) progress_(stats_, true);
  }
  void onTestFinished(const rc::detail::TestMetadata& /*metadata*/,
                      const rc::detail::TestResult& /*result*/) override {}
  std::optional<Clock::time_point> found_at() const { return found_at_; }

 private:
  FuzzStats& stats_;
  const std::function<void(const FuzzStats&, bool)>& progress_;
  std::optional<Clock::time_point> found_at_;
};

// "reproduce=..." as RC_PARAMS takes it.
std::string reproduce_param(const std::string& id, const rc::detail::Reproduce& reproduce) {
  rc::detail::Configuration config;
  config.reproduce.emplace(id, reproduce);
  // The minimal string always names a seed as well; only reproduce= is wanted.
  const std::string all = rc::detail::configToMinimalString(config);
  const std::size_t from = all.find("reproduce=");
  ESSIM_ASSERT(from != std::string::npos);
  return all.substr(from, all.find(' ', from) - from);
}

// The reproduce map in `rc_params`, or why it cannot be used for `id`.
sim::Result<std::unordered_map<std::string, rc::detail::Reproduce>> read_reproduce(
    const std::string& rc_params, const std::string& id) {
  if (rc_params.empty()) return std::unordered_map<std::string, rc::detail::Reproduce>{};
  std::unordered_map<std::string, rc::detail::Reproduce> reproduce;
  try {
    reproduce = rc::detail::configFromString(rc_params).reproduce;
  } catch (const rc::detail::ConfigurationException& e) {
    return sim::Error{fmt::format("RC_PARAMS cannot be read: {}", e.what())};
  }
  if (reproduce.empty() || reproduce.contains(id)) return reproduce;
  std::vector<std::string> ids;
  for (const auto& [other, r] : reproduce) ids.push_back("'" + other + "'");
  std::sort(ids.begin(), ids.end());
  return sim::Error{fmt::format(
      "RC_PARAMS' reproduce= was recorded for {}, not for '{}': run it with those settings",
      fmt::join(ids, ", "), id)};
}

}  // namespace

SearchOutcome search(const std::string& id, const FuzzRun& run,
                     const std::function<CaseVerdict()>& body,
                     const std::function<bool()>& recorded, const std::string& gave_up) {
  ESSIM_ASSERT(run.runs >= 1);
  SearchOutcome out;
  const auto reproduce = read_reproduce(run.rc_params, id);
  if (!reproduce.ok()) {
    out.verdict = Verdict::kBadParams;
    out.message = reproduce.error().message;
    return out;
  }
  Listener listener(out.stats, run);
  rc::detail::TestParams params;
  params.seed = run.seed;
  params.maxSuccess = run.runs;
  const auto started = Clock::now();
  // A harness failure (an external domain's process died, say) ends the
  // search: later cases are discarded at once, and it is thrown on.
  std::exception_ptr harness;
  const auto guarded = [&]() -> rc::detail::CaseResult {
    using Type = rc::detail::CaseResult::Type;
    if (harness) return {Type::Discard, "the harness failed"};
    try {
      switch (body()) {
        case CaseVerdict::kPassed:
          return {Type::Success, ""};
        case CaseVerdict::kFailed:
          return {Type::Failure, "the case failed"};
        case CaseVerdict::kDiscarded:
          return {Type::Discard, "the case had nothing to check"};
      }
      ESSIM_ASSERT_MSG(false, "no such case verdict");
    } catch (const model::HarnessFailure&) {
      harness = std::current_exception();
    }
    return {Type::Discard, "the harness failed"};
  };
  const rc::detail::TestResult result =
      rc::detail::checkProperty(rc::detail::toProperty(guarded), rc::detail::TestMetadata{id, id},
                                params, listener, reproduce.value());
  const auto finished = Clock::now();
  if (harness) std::rethrow_exception(harness);
  out.stats.seconds = seconds(finished - started);
  const auto found_at = listener.found_at().value_or(finished);
  out.stats.seconds_to_find = seconds(found_at - started);
  out.stats.seconds_to_shrink = seconds(finished - found_at);

  rc::detail::FailureResult failure;
  rc::detail::GaveUpResult gave_up_result;
  rc::detail::Error error;
  if (result.match(failure)) {
    // A failure with no counterexample is an exception of essim's own.
    if (!recorded()) throw std::runtime_error(failure.description);
    out.verdict = Verdict::kFailed;
    out.reproduce = reproduce_param(id, failure.reproduce);
  } else if (result.match(gave_up_result)) {
    out.verdict = Verdict::kGaveUp;
    out.message = fmt::format("{} of {} cases {}", out.stats.discarded,
                              out.stats.discarded + out.stats.runs, gave_up);
  } else if (result.match(error)) {
    if (reproduce.value().empty()) throw std::runtime_error(error.description);
    out.verdict = Verdict::kNotReproduced;
    // RapidCheck's two reasons: the case passes, or its shrink path leads nowhere.
    out.message = error.description.find("not a failure") != std::string::npos
                      ? "the case RC_PARAMS names passes now (fixed?)"
                      : "the shrink path RC_PARAMS names leads to no case now (the domain's "
                        "generation changed?)";
  }
  return out;
}

}  // namespace essim::fuzzing
