#include "reports/progress.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <fmt/format.h>

namespace essim::reports {

namespace {
constexpr auto kInteractiveEvery = std::chrono::milliseconds(100);
constexpr auto kPlainEvery = std::chrono::seconds(5);
}  // namespace

Progress::Progress(std::string label, std::size_t total, std::FILE* out, bool interactive)
    : label_(std::move(label)),
      total_(total),
      out_(out),
      interactive_(interactive),
      started_(Clock::now()),
      last_print_(started_) {}

bool Progress::is_interactive(std::FILE* out) {
  const char* ci = std::getenv("CI");
  if (ci != nullptr && *ci != '\0' && std::strcmp(ci, "false") != 0) return false;
  const char* term = std::getenv("TERM");
  if (term != nullptr && std::strcmp(term, "dumb") == 0) return false;
  return isatty(fileno(out)) != 0;
}

std::string Progress::line(std::size_t done, std::size_t failures) const {
  const double elapsed_s = std::chrono::duration<double>(Clock::now() - started_).count();
  const double rate = elapsed_s > 0 ? static_cast<double>(done) / elapsed_s : 0.0;
  std::string left = "?";
  if (rate > 0 && done <= total_) {
    left = fmt::format("{:.0f}s", static_cast<double>(total_ - done) / rate);
  }
  return fmt::format("{}: {}/{} seeds, {:.1f} seeds/s, {} failed, {} left", label_, done, total_,
                     rate, failures, left);
}

namespace {
// Whether a line printed at `last` may be followed by another at `now`.
template <typename TimePoint>
bool due(TimePoint now, TimePoint last, bool interactive) {
  return now - last >=
         (interactive ? std::chrono::duration_cast<typename TimePoint::duration>(kInteractiveEvery)
                      : std::chrono::duration_cast<typename TimePoint::duration>(kPlainEvery));
}
}  // namespace

void Progress::update(std::size_t done, std::size_t failures) {
  const auto now = Clock::now();
  if (!due(now, last_print_, interactive_)) return;
  last_print_ = now;
  if (interactive_) {
    fmt::print(out_, "\r\033[K{}", line(done, failures));
  } else {
    fmt::print(out_, "{}\n", line(done, failures));
  }
  std::fflush(out_);
}

void Progress::finish(std::size_t done, std::size_t failures) {
  if (interactive_) fmt::print(out_, "\r\033[K");
  fmt::print(out_, "{}\n", line(done, failures));
  std::fflush(out_);
}

StatusLine::StatusLine(std::FILE* out, bool interactive)
    : out_(out), interactive_(interactive), last_print_(Clock::now()) {}

void StatusLine::show(const std::string& text) {
  const auto now = Clock::now();
  if (!due(now, last_print_, interactive_)) return;
  last_print_ = now;
  if (interactive_) {
    fmt::print(out_, "\r\033[K{}", text);
  } else {
    fmt::print(out_, "{}\n", text);
  }
  std::fflush(out_);
  shown_ = true;
}

void StatusLine::clear() {
  if (interactive_ && shown_) fmt::print(out_, "\r\033[K");
  std::fflush(out_);
  shown_ = false;
}

}  // namespace essim::reports
