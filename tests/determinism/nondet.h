#pragma once
// A domain that is not deterministic on purpose, for the tests of
// `run --check-determinism` (tests/determinism/check.cmake).
//
// Streams `tally-N`; the command `add` adds 1..9 to a tally (event Added).
// Deterministic unless a scenario asks otherwise:
//   work `add-tagged`    an Added whose payload also carries a tag drawn from
//                        an address in this process (ASLR, the heap): the
//                        same in every run of one process, different in
//                        another, so only a second process shows it
//   nondet.totals        stream -> total: deterministic
//   nondet.seen-by       also writes a key named after such an address: only
//                        the read model differs, never a message
//   nondet.dies-rerun    aborts when it runs in the second run of a
//                        determinism check (a process whose command line
//                        says `determinism-child`)

#include <essim/domain.h>

namespace nondet {

void register_domain(essim::Registry& registry);

}  // namespace nondet
