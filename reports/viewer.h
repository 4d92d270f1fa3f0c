#pragma once
// The trace viewer: one self-contained HTML file (no network fetches) with a
// space-time diagram of a run (one lane per node, time flowing down), and the
// same trace in ShiViz's log format for people who already use ShiViz.

#include <cstdint>
#include <string>
#include <vector>

namespace essim::reports {

// A trace as the viewer needs it (the reports layer does not see the kernel).
struct ViewerTrace {
  struct Step {
    std::uint64_t step = 0;
    std::int64_t at_us = 0;
    std::string kind;  // send, deliver, drop, duplicate, crash, restart, note...
    int node = -1;     // -1: no node
    int peer = -1;
    std::uint64_t a = 0;
    std::uint64_t b = 0;
    std::string text;
  };
  std::string title;
  std::vector<std::string> nodes;
  std::vector<Step> steps;
  std::vector<std::string> verdict;            // violations and evidence, as lines
  std::vector<std::uint64_t> highlight_steps;  // steps the evidence names
  // A mark across every lane with its label, and listed beside the diagram:
  // each operation the run made (scenario `operations:`) at its time, and
  // what one noted that the timeline should show (a rebuild's cut-over).
  struct Marker {
    std::int64_t at_us = 0;
    std::string label;   // "rebuild balances"
    std::string detail;  // shown when it is clicked
  };
  std::vector<Marker> operations;
};

std::string viewer_html(const ViewerTrace& trace);

// ShiViz's format: a parsing regex on the first line, then for each event a
// description line and a `host {vector clock}` line.
std::string shiviz_log(const ViewerTrace& trace);

}  // namespace essim::reports
