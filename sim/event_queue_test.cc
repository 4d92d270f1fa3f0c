#include "sim/event_queue.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <tuple>

namespace essim::sim {
namespace {

TEST(EventQueue, OrdersByTimeThenInsertion) {
  EventQueue q;
  q.push(5, 1);
  q.push(3, 2);
  q.push(5, 3);
  q.push(3, 4);
  q.push(0, 5);
  std::vector<std::uint64_t> order;
  while (!q.empty()) order.push_back(q.pop().ref);
  EXPECT_EQ(order, (std::vector<std::uint64_t>{5, 2, 4, 1, 3}));
}

// Against a sorted reference, with pushes interleaved between pops as a
// scheduler does.
RC_GTEST_PROP(EventQueueProperty, PopsInTimeThenSequenceOrder, ()) {
  const auto ops = *rc::gen::container<std::vector<std::pair<bool, Micros>>>(
      rc::gen::pair(rc::gen::arbitrary<bool>(), rc::gen::inRange<Micros>(0, 50)));
  EventQueue q;
  std::vector<std::tuple<Micros, std::uint64_t>> model;  // (time, ref = insertion index)
  std::uint64_t next_ref = 0;
  for (const auto& [pop, at] : ops) {
    if (pop && !model.empty()) {
      const auto smallest = std::min_element(model.begin(), model.end());
      const EventQueue::Entry e = q.pop();
      RC_ASSERT(e.at_us == std::get<0>(*smallest));
      RC_ASSERT(e.ref == std::get<1>(*smallest));
      model.erase(smallest);
    } else {
      q.push(at, next_ref);
      model.emplace_back(at, next_ref++);
    }
    RC_ASSERT(q.size() == model.size());
  }
  std::sort(model.begin(), model.end());
  for (const auto& [at, ref] : model) {
    const EventQueue::Entry e = q.pop();
    RC_ASSERT(e.at_us == at);
    RC_ASSERT(e.ref == ref);
  }
  RC_ASSERT(q.empty());
}

TEST(EventQueueDeath, RejectsNegativeTimeAndEmptyPop) {
  EventQueue q;
  EXPECT_DEATH(q.push(-1, 0), "before time 0");
  EXPECT_DEATH(q.pop(), "empty queue");
}

}  // namespace
}  // namespace essim::sim
