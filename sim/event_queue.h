#pragma once
// The scheduler's queue: events ordered by (time, insertion sequence), so that
// two events at the same time always run in the order they were scheduled
// (FoundationDB's tie-break). An event is a 64-bit reference the owner
// interprets; the queue stores nothing else, and in steady state it allocates
// nothing: its array only grows to the largest number of pending events.

#include <cstdint>
#include <vector>

#include "sim/time.h"

namespace essim::sim {

class EventQueue {
 public:
  struct Entry {
    Micros at_us;
    std::uint64_t seq;
    std::uint64_t ref;
  };

  // REQUIRES: at_us >= 0.
  void push(Micros at_us, std::uint64_t ref);

  // REQUIRES: !empty().
  const Entry& top() const;
  Entry pop();

  bool empty() const { return heap_.empty(); }
  std::size_t size() const { return heap_.size(); }
  void clear() { heap_.clear(); }
  void reserve(std::size_t n) { heap_.reserve(n); }

 private:
  static bool before(const Entry& a, const Entry& b) {
    return a.at_us < b.at_us || (a.at_us == b.at_us && a.seq < b.seq);
  }

  // A 4-ary min-heap: shallower than a binary one, and a node's children share
  // a cache line or two.
  std::vector<Entry> heap_;
  std::uint64_t next_seq_ = 0;
};

}  // namespace essim::sim
