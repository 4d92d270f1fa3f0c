#pragma once
// Coverage probes for your own code: mark a rare path your decider, evolve,
// upcaster or handler takes, and essim counts it per seed and across a sweep.
//
//   if (balance < amount) {
//     essim::probe("wallet.overdraft-refused");
//     return essim::error("insufficient funds");
//   }
//
// report.json lists every probe with its hits and the first seed that hit
// it, summary.md lists the probes no seed reached, and a scenario can make
// them a requirement (`require_probes: [wallet.overdraft-refused]`: a sweep
// that never reached one fails). Declare your probes in Domain::probes() so
// that one never hit is reported too (and so `require_probes` may name it).
// A probe changes nothing in the run: it is outside the trace and the
// fingerprint. Outside a run (a unit test of your domain) it does nothing.
// Names: letters, digits and . _ - (at most 64).

#include <string_view>

namespace essim {

void probe(std::string_view name);

}  // namespace essim
