#include "sim/event_queue.h"

#include "sim/assert.h"

namespace essim::sim {

namespace {
constexpr std::size_t kArity = 4;
}  // namespace

void EventQueue::push(Micros at_us, std::uint64_t ref) {
  ESSIM_ASSERT_MSG(at_us >= 0, "an event cannot be scheduled before time 0");
  const Entry entry{at_us, next_seq_++, ref};
  std::size_t hole = heap_.size();
  heap_.push_back(entry);
  while (hole > 0) {
    const std::size_t parent = (hole - 1) / kArity;
    if (!before(entry, heap_[parent])) break;
    heap_[hole] = heap_[parent];
    hole = parent;
  }
  heap_[hole] = entry;
}

const EventQueue::Entry& EventQueue::top() const {
  ESSIM_ASSERT_MSG(!heap_.empty(), "EventQueue::top() on an empty queue");
  return heap_.front();
}

EventQueue::Entry EventQueue::pop() {
  ESSIM_ASSERT_MSG(!heap_.empty(), "EventQueue::pop() on an empty queue");
  const Entry result = heap_.front();
  const Entry last = heap_.back();
  heap_.pop_back();
  const std::size_t size = heap_.size();
  if (size == 0) return result;
  std::size_t hole = 0;
  for (;;) {
    const std::size_t first_child = hole * kArity + 1;
    if (first_child >= size) break;
    std::size_t best = first_child;
    const std::size_t end = first_child + kArity < size ? first_child + kArity : size;
    for (std::size_t child = first_child + 1; child < end; ++child) {
      if (before(heap_[child], heap_[best])) best = child;
    }
    if (!before(heap_[best], last)) break;
    heap_[hole] = heap_[best];
    hole = best;
  }
  heap_[hole] = last;
  return result;
}

}  // namespace essim::sim
