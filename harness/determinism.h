#pragma once
// The determinism check: a seed run a second time must give the same run.
//
// The first run is the sweep's own; the second is made elsewhere (the command
// line re-executes its own binary), so that what differs only between
// processes shows: heap and code addresses (ASLR), statics kept between runs.
// A seed's fingerprint covers its trace and its final states (every
// projection's read model and checkpoint, every stream's replayed aggregate),
// so code that changes only a read model is caught too.
//
// The second run reports back in a line-based text format (encode_second_run)
// that decode_second_run reads strictly: anything else, or a report cut
// short, is an error, never a silent pass.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "harness/runner.h"
#include "sim/result.h"

namespace essim::harness {

// Compares `first` (a run made here) with second(false), a second run of the
// same seed. When the fingerprints agree that is all. When they differ and
// the traces agree, it names the final states that differ; when the traces
// differ, it runs the seed again here (again(), keeping the trace) and there
// (second(true)) and names the first step where the two traces part.
DeterminismCheck check_determinism(
    const SeedResult& first, const std::function<SeedResult()>& again,
    const std::function<sim::Result<SeedResult>(bool keep_trace)>& second);

// What a second run reports: its fingerprints, final states and, when it was
// run with keep_trace, its trace. Nothing else of `result` is kept.
std::string encode_second_run(const SeedResult& result);
// Reads encode_second_run's text; an error names the line that is wrong.
sim::Result<SeedResult> decode_second_run(std::string_view text);

}  // namespace essim::harness
