#pragma once
// A log as its records' bytes, one byte string per record, so tests can
// remove, swap and splice records and join them into a log (tests only).

#include <vector>

#include "model/log.h"

namespace essim::model::testing {

using Records = std::vector<Bytes>;

// The records of a log holding `bodies`, chained from the first.
inline Records chained(const std::vector<Bytes>& bodies) {
  Records records;
  std::uint64_t hash = 0;
  for (const Bytes& body : bodies) {
    Bytes record;
    hash = append_record(record, hash, body);
    records.push_back(std::move(record));
  }
  return records;
}

inline Bytes joined(const Records& records) {
  Bytes log;
  for (const Bytes& r : records) log.insert(log.end(), r.begin(), r.end());
  return log;
}

}  // namespace essim::model::testing
