#pragma once
// A histogram of whole numbers in log-linear buckets (in the manner of
// HdrHistogram): exact below 64, then 32 buckets per power of two, so a
// quantile is within 1/32 (about 3 %) of the true value, min and max exact.
// Its memory grows with the spread of the values, never with their count,
// and two histograms add up (shards, seeds). Deterministic: no floating
// point in what it stores.

#include <cstdint>
#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace essim::sim {

class Histogram {
 public:
  void add(std::uint64_t value, std::uint64_t count = 1);
  void add(const Histogram& other);
  // Adds `count` values at bucket `bucket` (as buckets() lists them); false
  // when `bucket` is not a bucket index.
  [[nodiscard]] bool add_bucket(std::uint32_t bucket, std::uint64_t count);

  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // REQUIRES: !empty().
  std::uint64_t min() const { return min_; }
  std::uint64_t max() const { return max_; }
  // The value at quantile q in [0, 1] (0.5 the median): the lowest value of
  // the bucket that holds it, clamped to [min, max]. REQUIRES: !empty().
  std::uint64_t quantile(double q) const;

  // Bucket index -> values counted there.
  const std::map<std::uint32_t, std::uint64_t>& buckets() const { return buckets_; }
  static std::uint32_t bucket_of(std::uint64_t value);
  static std::uint64_t lowest_of(std::uint32_t bucket);
  // A histogram from its buckets (increasing, each with a count > 0) and its
  // exact min and max (in the first and the last bucket); nullopt when they
  // cannot be one.
  static std::optional<Histogram> from_buckets(
      const std::vector<std::pair<std::uint32_t, std::uint64_t>>& buckets, std::uint64_t min,
      std::uint64_t max);
  static constexpr std::uint32_t kBucketsMax = 64 + 58 * 32;  // 2^64 - 1 is in the last

  friend bool operator==(const Histogram&, const Histogram&) = default;

 private:
  std::map<std::uint32_t, std::uint64_t> buckets_;
  std::uint64_t count_ = 0;
  std::uint64_t min_ = 0;
  std::uint64_t max_ = 0;
};

}  // namespace essim::sim
