#include "sim/time.h"

#include <charconv>

#include <fmt/format.h>

namespace essim::sim {
namespace {

struct Unit {
  std::string_view name;
  Micros us;
};

// Longest names first, so that `ms` is not read as `m`.
constexpr Unit kUnits[] = {{"us", 1},
                           {"ms", kMicrosPerMilli},
                           {"s", kMicrosPerSecond},
                           {"m", 60 * kMicrosPerSecond},
                           {"h", 3600 * kMicrosPerSecond}};

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

Error error_at(std::size_t offset, std::string message) {
  return Error{std::move(message), static_cast<int>(offset) + 1};
}

}  // namespace

Result<Micros> parse_duration(std::string_view text) {
  if (text.empty()) {
    return error_at(0, "expected a duration such as 150ms, 2s or 1.5s, found nothing");
  }
  std::size_t i = 0;
  // Integer and fraction digits, kept as an exact integer scaled by 10^digits.
  std::int64_t mantissa = 0;
  std::int64_t scale = 1;
  bool any_digit = false;
  constexpr std::int64_t kMantissaMax = kTimeMax / 10;
  for (; i < text.size() && is_digit(text[i]); ++i) {
    if (mantissa > kMantissaMax) {
      return error_at(
          0, fmt::format("duration is too large: at most {}", format_duration(kDurationMax)));
    }
    mantissa = mantissa * 10 + (text[i] - '0');
    any_digit = true;
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    bool any_fraction = false;
    for (; i < text.size() && is_digit(text[i]); ++i) {
      if (mantissa > kMantissaMax || scale > kMantissaMax) {
        return error_at(0, "duration has too many digits");
      }
      mantissa = mantissa * 10 + (text[i] - '0');
      scale *= 10;
      any_fraction = true;
    }
    if (!any_fraction) return error_at(i, "expected digits after the decimal point");
  }
  if (!any_digit && scale == 1) {
    if (i < text.size() && text[i] == '-') {
      return error_at(i, "a duration cannot be negative");
    }
    return error_at(i,
                    fmt::format("expected a duration such as 150ms, 2s or 1.5s, found '{}'", text));
  }
  const std::string_view unit_text = text.substr(i);
  if (unit_text.empty()) {
    if (mantissa == 0) return Micros{0};
    return error_at(i, "missing unit: write us, ms, s, m or h after the number");
  }
  for (const Unit& unit : kUnits) {
    if (unit_text != unit.name) continue;
    // mantissa * unit / scale in 128 bits: the product may pass 64 bits
    // while the duration itself fits.
    __extension__ using Wide = __int128;
    const Wide scaled = Wide{mantissa} * unit.us;
    if (scaled % scale != 0) {
      return error_at(0, "duration is finer than one microsecond");
    }
    if (scaled / scale > kDurationMax) {
      return error_at(
          0, fmt::format("duration is too large: at most {}", format_duration(kDurationMax)));
    }
    return static_cast<Micros>(scaled / scale);
  }
  return error_at(i, fmt::format("unknown unit '{}': use us, ms, s, m or h", unit_text));
}

Result<DurationRange> parse_duration_range(std::string_view text) {
  const std::size_t dots = text.find("..");
  if (dots == std::string_view::npos) {
    auto single = parse_duration(text);
    if (!single) return single.error();
    return DurationRange{single.value(), single.value()};
  }
  // `100us...5ms` must not read as `100us..0.5ms`, nor `1s..2s..3s` as anything.
  const std::size_t more = text.find('.', dots + 2);
  if (more == dots + 2 || text.find("..", dots + 2) != std::string_view::npos) {
    return error_at(more, "a range is MIN..MAX with exactly two dots, as in 1ms..50ms");
  }
  auto min = parse_duration(text.substr(0, dots));
  if (!min) return min.error();
  auto max = parse_duration(text.substr(dots + 2));
  if (!max) {
    Error error = max.error();
    error.column += static_cast<int>(dots + 2);
    return error;
  }
  if (min.value() > max.value()) {
    return error_at(0, fmt::format("range '{}' has its minimum above its maximum", text));
  }
  return DurationRange{min.value(), max.value()};
}

Result<double> parse_rate(std::string_view text) {
  const std::size_t slash = text.find('/');
  const std::string_view number = text.substr(0, slash);
  std::size_t i = 0;
  while (i < number.size() && is_digit(number[i])) ++i;
  if (i < number.size() && number[i] == '.') ++i;
  while (i < number.size() && is_digit(number[i])) ++i;
  if (number.empty() || i != number.size() || !is_digit(number.back())) {
    return error_at(
        i,
        fmt::format("a rate reads like 200/s or 30/m (a plain number, a slash, s or m), not '{}'",
                    text));
  }
  const std::string_view unit = slash == std::string_view::npos ? "" : text.substr(slash + 1);
  if (unit != "s" && unit != "m") {
    return error_at(number.size() + (slash == std::string_view::npos ? 0 : 1),
                    "a rate ends in /s (per second) or /m (per minute)");
  }
  double value = 0;
  const auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), value);
  if (ec != std::errc{} || end != number.data() + number.size()) {
    return error_at(0, fmt::format("'{}' is not a number", number));
  }
  const double per_second = unit == "m" ? value / 60 : value;
  if (!(per_second >= kRatePerSecondMin && per_second <= kRatePerSecondMax)) {
    return error_at(0, fmt::format("a rate must be from {}/s to {}/s, not {}", kRatePerSecondMin,
                                   kRatePerSecondMax, text));
  }
  return per_second;
}

std::string format_duration(Micros us) {
  const char* sign = us < 0 ? "-" : "";
  const std::uint64_t magnitude =
      us < 0 ? 0 - static_cast<std::uint64_t>(us) : static_cast<std::uint64_t>(us);
  if (magnitude == 0) return "0s";
  if (magnitude % kMicrosPerSecond == 0) {
    return fmt::format("{}{}s", sign, magnitude / kMicrosPerSecond);
  }
  if (magnitude % kMicrosPerMilli == 0) {
    return fmt::format("{}{}ms", sign, magnitude / kMicrosPerMilli);
  }
  return fmt::format("{}{}us", sign, magnitude);
}

std::string format_time(Micros us) {
  const char* sign = us < 0 ? "-" : "";
  const std::uint64_t magnitude =
      us < 0 ? 0 - static_cast<std::uint64_t>(us) : static_cast<std::uint64_t>(us);
  std::string fraction = fmt::format("{:06}", magnitude % kMicrosPerSecond);
  while (!fraction.empty() && fraction.back() == '0') fraction.pop_back();
  if (fraction.empty()) return fmt::format("{}{}s", sign, magnitude / kMicrosPerSecond);
  return fmt::format("{}{}.{}s", sign, magnitude / kMicrosPerSecond, fraction);
}

}  // namespace essim::sim
