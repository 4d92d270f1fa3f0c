// report.html: the sweep report page. Rendered here as static HTML with
// inline SVG charts, so it needs no script and no network, opens from a CI
// artifact as it is, and stays small however many seeds ran (charts are
// drawn from the metrics' histograms, not from seeds).

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "reports/report.h"

namespace essim::reports {

namespace {

constexpr std::string_view kStyle = R"(
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d2330;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}
main{padding:16px 24px;max-width:1200px}
table{border-collapse:collapse;background:#fff}
td,th{border:1px solid #d9dde3;padding:3px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3}
td.n{text-align:right;font-variant-numeric:tabular-nums}
section{background:#fff;border:1px solid #d9dde3;border-radius:6px;margin:16px 0;padding:12px 16px}
section h2{margin:0 0 6px;font-size:17px}
.met{color:#11713a;font-weight:600}.unmet{color:#b3261e;font-weight:600}
.never{color:#b3261e}.required{font-weight:600}
.charts{display:flex;flex-wrap:wrap;gap:16px}
figure{margin:0}figcaption{font-size:12px;color:#555}
code{background:#eef0f3;padding:1px 4px;border-radius:3px}
details{margin:6px 0}
)";

const MetricReport* find_metric(const ScenarioReport& s, std::string_view name) {
  for (const MetricReport& m : s.metrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

// The lowest value of a histogram bucket (sim::Histogram's layout: exact
// below 64, then 32 buckets per power of two).
std::uint64_t bucket_low(std::uint32_t bucket) {
  if (bucket < 64) return bucket;
  const std::uint32_t above = bucket - 64;
  const int top = static_cast<int>(above >> 5) + 6;
  return (std::uint64_t{1} << top) | (std::uint64_t{above & 31U} << (top - 5));
}

struct Bar {
  std::string label;
  std::uint64_t value = 0;
};

// A bar chart, `bars` left to right, labelled under each bar.
std::string bar_chart(const std::string& caption, const std::vector<Bar>& bars,
                      std::string_view unit_of_values) {
  constexpr int kWidth = 360;
  constexpr int kHeight = 150;
  constexpr int kBottom = 30;
  constexpr int kLeft = 24;  // room for the first label
  std::uint64_t top = 1;
  for (const Bar& b : bars) top = std::max(top, b.value);
  const int slot = bars.empty() ? kWidth : std::max(4, kWidth / static_cast<int>(bars.size()));
  std::string svg = fmt::format(
      "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{}\" height=\"{}\" role=\"img\" "
      "aria-label=\"{}\">",
      kWidth + 2 * kLeft, kHeight + kBottom, xml_escape(caption));
  for (std::size_t i = 0; i < bars.size(); ++i) {
    const int h = static_cast<int>(static_cast<double>(bars[i].value) * (kHeight - 14) /
                                   static_cast<double>(top));
    const int x = kLeft + static_cast<int>(i) * slot;
    svg += fmt::format(
        "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"#3b6fd4\"><title>{}: {}{}"
        "</title></rect>",
        x + 1, kHeight - h, std::max(2, slot - 2), std::max(h, bars[i].value > 0 ? 1 : 0),
        xml_escape(bars[i].label), bars[i].value, xml_escape(unit_of_values));
    // Every label when they fit, else about five, so that none overlaps.
    const std::size_t every = bars.size() <= 8 ? 1 : (bars.size() + 4) / 5;
    if (i % every == 0) {
      svg +=
          fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"10\" text-anchor=\"middle\">{}</text>",
                      x + slot / 2, kHeight + 12, xml_escape(bars[i].label));
    }
  }
  svg += fmt::format("<text x=\"2\" y=\"10\" font-size=\"10\">max {}{}</text>", top,
                     xml_escape(unit_of_values));
  return svg + fmt::format("</svg><figcaption>{}</figcaption></figure>", xml_escape(caption));
}

// A metric's distribution over the seeds: one bar per histogram bucket.
std::string metric_chart(const ScenarioReport& s, std::string_view name,
                         const std::string& caption) {
  const MetricReport* m = find_metric(s, name);
  if (m == nullptr || m->histogram.empty()) return "";
  std::vector<Bar> bars;
  for (const auto& [bucket, n] : m->histogram)
    bars.push_back({format_metric(std::max(bucket_low(bucket), m->min), m->unit), n});
  return bar_chart(caption, bars, " seeds");
}

std::string probes_html(const ScenarioReport& s) {
  if (s.probes.empty()) return "";
  const auto reached =
      std::count_if(s.probes.begin(), s.probes.end(), [](const auto& p) { return p.hits > 0; });
  std::string out = fmt::format(
      "<details open><summary>Coverage probes: {} of {} reached</summary><table>"
      "<tr><th>probe</th><th>hits</th><th>first seed</th><th>what it means</th></tr>",
      reached, s.probes.size());
  for (const ProbeReport& p : s.probes) {
    const bool required = std::find(s.required_probes.begin(), s.required_probes.end(), p.name) !=
                          s.required_probes.end();
    std::string cls = p.hits == 0 ? "never" : "";
    if (required) cls += cls.empty() ? "required" : " required";
    out += fmt::format(
        "<tr class=\"{}\" data-probe=\"{}\"><td><code>{}</code>{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td>{}</td></tr>",
        cls, xml_escape(p.name), xml_escape(p.name), required ? " (required)" : "", p.hits,
        p.first_seed ? std::to_string(*p.first_seed) : "never", xml_escape(p.description));
  }
  return out + "</table></details>";
}

std::string metrics_table(const ScenarioReport& s) {
  if (s.metrics.empty()) return "";
  std::string out =
      "<details><summary>Run metrics per seed (median, min, max)</summary><table>"
      "<tr><th>metric</th><th>median</th><th>min</th><th>max</th><th>what it is</th></tr>";
  for (const MetricReport& m : s.metrics) {
    out += fmt::format(
        "<tr><td><code>{}</code></td><td class=\"n\">{}</td><td class=\"n\">{}</td>"
        "<td class=\"n\">{}</td><td>{}</td></tr>",
        xml_escape(m.name), format_metric(m.median, m.unit), format_metric(m.min, m.unit),
        format_metric(m.max, m.unit), xml_escape(m.description));
  }
  return out + "</table></details>";
}

std::string charts_html(const ScenarioReport& s) {
  std::string charts;
  charts += metric_chart(s, "append_p99_us", "append latency p99 per seed: seeds per value");
  charts += metric_chart(s, "projection_lag_p99_us", "projection lag p99 per seed");
  std::vector<Bar> faults;
  for (const MetricReport& m : s.metrics) {
    if (m.name.starts_with("faults.") && m.max > 0) faults.push_back({m.name.substr(7), m.median});
  }
  if (!faults.empty()) charts += bar_chart("faults per seed (median), by kind", faults, "");
  std::vector<Bar> ops;
  for (const auto& [name, label] : std::vector<std::pair<std::string_view, std::string>>{
           {"ops_ok", "ok"}, {"ops_fail", "fail"}, {"ops_info", "info"}}) {
    if (const MetricReport* m = find_metric(s, name)) ops.push_back({label, m->median});
  }
  if (!ops.empty()) charts += bar_chart("operations per seed (median), by outcome", ops, "");
  return charts.empty() ? "" : "<div class=\"charts\">" + charts + "</div>";
}

std::string failures_html(const ScenarioReport& s) {
  if (s.failures.empty()) return "";
  std::string out = "<h3>Failing seeds</h3>";
  for (const FailureReport& f : s.failures) {
    const std::string html = fmt::format("{} --html seed-{}.html", f.replay, f.seed);
    out += fmt::format(
        "<div data-failure=\"{}\"><b>seed {}</b> <code>{}</code>: {}<br>replay: <code>{}</code>"
        "<br>space-time view: <code>{}</code>",
        f.seed, f.seed, xml_escape(f.property), xml_escape(f.summary), xml_escape(f.replay),
        xml_escape(html));
    if (!f.swarm.empty()) out += "<br>swarm mix: " + xml_escape(describe_mix(f.swarm));
    if (!f.operations.empty())
      out += "<br>operations: " + xml_escape(describe_operations(f.operations));
    if (!f.evidence.empty()) {
      out += "<details><summary>evidence</summary><pre>";
      for (const std::string& e : f.evidence) out += xml_escape(e) + "\n";
      out += "</pre></details>";
    }
    out += "</div>";
  }
  return out;
}

std::string verdict_text(const ScenarioReport& s) {
  if (!s.expected_violation.empty()) {
    return s.met ? fmt::format("caught {} at seed {}", s.expected_violation,
                               s.caught_at_seed.value_or(0))
                 : fmt::format("missed {}", s.expected_violation);
  }
  if (s.met) return "passed";
  if (s.seeds_failed > 0) return fmt::format("{} seed(s) failed", s.seeds_failed);
  return "required probes not reached: " + fmt::format("{}", fmt::join(s.missing_probes, ", "));
}

}  // namespace

std::string report_html(const Report& r) {
  std::string body;
  std::string index =
      "<table><tr><th>scenario</th><th>expectation</th><th>verdict</th><th>seeds</th>"
      "<th>probes reached</th></tr>";
  for (std::size_t i = 0; i < r.scenarios.size(); ++i) {
    const ScenarioReport& s = r.scenarios[i];
    const auto reached =
        std::count_if(s.probes.begin(), s.probes.end(), [](const auto& p) { return p.hits > 0; });
    const std::string expect =
        s.expected_violation.empty()
            ? "pass"
            : fmt::format("{} within {} seeds", s.expected_violation, s.within_seeds);
    index += fmt::format(
        "<tr><td><a href=\"#s{}\">{}</a></td><td>{}</td><td class=\"{}\">{}</td>"
        "<td class=\"n\">{}</td><td class=\"n\">{}/{}</td></tr>",
        i, xml_escape(s.name), xml_escape(expect), s.met ? "met" : "unmet",
        xml_escape(verdict_text(s)), s.seeds_run, reached, s.probes.size());
    body += fmt::format(
        "<section id=\"s{}\" data-scenario=\"{}\" data-met=\"{}\"><h2>{} <span class=\"{}\">{}"
        "</span></h2><div>{} — {} · {} seeds run, {} failed · {:.2f} s</div>",
        i, xml_escape(s.name), s.met ? 1 : 0, xml_escape(s.name), s.met ? "met" : "unmet",
        xml_escape(verdict_text(s)), xml_escape(s.file), xml_escape(s.description), s.seeds_run,
        s.seeds_failed, s.wall_seconds);
    if (const std::string line = metrics_line(s); !line.empty())
      body += "<p>per seed (median): " + xml_escape(line) + "</p>";
    body += charts_html(s) + probes_html(s) + metrics_table(s) + failures_html(s) + "</section>";
  }
  index += "</table>";
  const auto met = std::count_if(r.scenarios.begin(), r.scenarios.end(),
                                 [](const ScenarioReport& s) { return s.met; });
  return fmt::format(
      "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>essim report</title><style>{}</style></head><body data-scenarios=\"{}\" "
      "data-met=\"{}\"><header><h1>essim: {} of {} scenarios met their expectation</h1>"
      "<div>{} · shard {}</div></header><main>{}{}</main></body></html>\n",
      kStyle, r.scenarios.size(), met, met, r.scenarios.size(), xml_escape(r.tool),
      xml_escape(r.shard), index, body);
}

}  // namespace essim::reports
