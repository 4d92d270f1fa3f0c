#include "reports/viewer.h"

#include <algorithm>
#include <map>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "reports/viewer_page.h"

namespace essim::reports {

std::string viewer_html(const ViewerTrace& t) {
  nlohmann::json steps = nlohmann::json::array();
  for (const ViewerTrace::Step& s : t.steps) {
    // Compact rows: [step, at_us, kind, node, peer, a, b, text]
    steps.push_back({s.step, s.at_us, s.kind, s.node, s.peer, s.a, s.b, s.text});
  }
  nlohmann::json operations = nlohmann::json::array();
  for (const ViewerTrace::Marker& m : t.operations) {
    operations.push_back({{"at_us", m.at_us}, {"label", m.label}, {"detail", m.detail}});
  }
  const nlohmann::json data{{"title", t.title},
                            {"nodes", t.nodes},
                            {"steps", steps},
                            {"verdict", t.verdict},
                            {"highlight", t.highlight_steps},
                            {"operations", operations}};
  // Inside <script>, neither "</script" nor "<!--" may appear, or the HTML
  // parser ends or re-reads the element: JSON may spell <, > and & as \u
  // escapes, and outside strings it has none of them.
  const std::string json = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string safe;
  safe.reserve(json.size());
  for (const char c : json) {
    switch (c) {
      case '<':
        safe += "\\u003c";
        break;
      case '>':
        safe += "\\u003e";
        break;
      case '&':
        safe += "\\u0026";
        break;
      default:
        safe += c;
    }
  }
  std::string page(kViewerPage);
  const std::string marker = "/*ESSIM_DATA*/";
  const std::size_t at = page.find(marker);
  page.replace(at, marker.size(), safe);
  return page;
}

namespace {

// ShiViz reads a host as \S* and an event as one line: a node name with
// spaces or newlines would corrupt the log, so hosts get names without them,
// kept distinct, and event texts are kept to one line.
std::vector<std::string> shiviz_hosts(const std::vector<std::string>& nodes) {
  std::vector<std::string> hosts;
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    std::string h;
    for (const char c : nodes[i]) {
      const auto u = static_cast<unsigned char>(c);
      h += (u <= 0x20 || u == 0x7f) ? '_' : c;
    }
    if (h.empty()) h = fmt::format("node{}", i);
    while (std::find(hosts.begin(), hosts.end(), h) != hosts.end()) h += fmt::format("#{}", i);
    hosts.push_back(std::move(h));
  }
  return hosts;
}

std::string one_line(std::string text) {
  for (char& c : text) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return text;
}

}  // namespace

std::string shiviz_log(const ViewerTrace& t) {
  std::string out = "(?<event>.*)\\n(?<host>\\S*) (?<clock>{.*})\n\n";
  const std::vector<std::string> hosts = shiviz_hosts(t.nodes);
  std::vector<std::map<std::string, std::uint64_t>> clocks(t.nodes.size());
  std::map<std::uint64_t, std::map<std::string, std::uint64_t>> in_flight;  // message id -> clock
  std::map<std::uint64_t, std::uint64_t> copy_of;                           // duplicate -> original
  auto emit = [&](int node, const std::string& what) {
    const std::string& host = hosts[static_cast<std::size_t>(node)];
    auto& clock = clocks[static_cast<std::size_t>(node)];
    ++clock[host];
    out += one_line(what) + "\n" + host + " " +
           nlohmann::json(clock).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "\n";
  };
  for (const ViewerTrace::Step& s : t.steps) {
    if (s.node < 0 || static_cast<std::size_t>(s.node) >= t.nodes.size()) continue;
    const std::string peer = s.peer >= 0 && static_cast<std::size_t>(s.peer) < t.nodes.size()
                                 ? hosts[static_cast<std::size_t>(s.peer)]
                                 : "";
    if (s.kind == "send") {
      emit(s.node, fmt::format("send #{} to {}", s.a, peer));
      in_flight[s.a] = clocks[static_cast<std::size_t>(s.node)];
    } else if (s.kind == "duplicate") {
      in_flight[s.b] = in_flight[s.a];
    } else if (s.kind == "deliver") {
      const auto it = in_flight.find(s.a);
      if (it != in_flight.end()) {
        auto& clock = clocks[static_cast<std::size_t>(s.node)];
        for (const auto& [host, n] : it->second) clock[host] = std::max(clock[host], n);
      }
      emit(s.node, fmt::format("receive #{} from {}", s.a, peer));
    } else if (s.kind == "timer" || s.kind == "sync") {
      continue;  // local noise: left out to keep the diagram readable
    } else {
      emit(s.node, s.text.empty() ? s.kind : s.kind + " " + s.text);
    }
  }
  return out;
}

}  // namespace essim::reports
