#include "sim/histogram.h"

#include <algorithm>
#include <bit>

#include "sim/assert.h"

namespace essim::sim {

namespace {
constexpr std::uint32_t kExact = 64;  // values below are their own bucket
constexpr int kSubBits = 5;           // 32 buckets per power of two above
}  // namespace

std::uint32_t Histogram::bucket_of(std::uint64_t value) {
  if (value < kExact) return static_cast<std::uint32_t>(value);
  const int top = 63 - std::countl_zero(value);  // >= 6
  const int shift = top - kSubBits;              // >= 1
  const auto sub = static_cast<std::uint32_t>((value >> shift) & ((1U << kSubBits) - 1));
  return kExact + static_cast<std::uint32_t>(top - 6) * (1U << kSubBits) + sub;
}

std::uint64_t Histogram::lowest_of(std::uint32_t bucket) {
  if (bucket < kExact) return bucket;
  const std::uint32_t above = bucket - kExact;
  const int top = static_cast<int>(above >> kSubBits) + 6;
  const std::uint64_t sub = above & ((1U << kSubBits) - 1);
  return (std::uint64_t{1} << top) | (sub << (top - kSubBits));
}

void Histogram::add(std::uint64_t value, std::uint64_t count) {
  if (count == 0) return;
  buckets_[bucket_of(value)] += count;
  min_ = count_ == 0 ? value : std::min(min_, value);
  max_ = count_ == 0 ? value : std::max(max_, value);
  count_ += count;
}

bool Histogram::add_bucket(std::uint32_t bucket, std::uint64_t count) {
  if (bucket >= kBucketsMax) return false;
  add(lowest_of(bucket), count);
  return true;
}

void Histogram::add(const Histogram& other) {
  if (other.empty()) return;
  for (const auto& [bucket, n] : other.buckets_) buckets_[bucket] += n;
  min_ = count_ == 0 ? other.min_ : std::min(min_, other.min_);
  max_ = count_ == 0 ? other.max_ : std::max(max_, other.max_);
  count_ += other.count_;
}

std::optional<Histogram> Histogram::from_buckets(
    const std::vector<std::pair<std::uint32_t, std::uint64_t>>& buckets, std::uint64_t min,
    std::uint64_t max) {
  if (buckets.empty() || min > max || bucket_of(min) != buckets.front().first ||
      bucket_of(max) != buckets.back().first)
    return std::nullopt;
  Histogram h;
  std::uint32_t previous = 0;
  for (std::size_t i = 0; i < buckets.size(); ++i) {
    const auto [bucket, n] = buckets[i];
    if (bucket >= kBucketsMax || n == 0 || (i > 0 && bucket <= previous)) return std::nullopt;
    if (n > UINT64_MAX - h.count_) return std::nullopt;
    previous = bucket;
    h.buckets_[bucket] = n;
    h.count_ += n;
  }
  h.min_ = min;
  h.max_ = max;
  return h;
}

std::uint64_t Histogram::quantile(double q) const {
  ESSIM_ASSERT(!empty());
  q = std::clamp(q, 0.0, 1.0);
  // The rank of the value wanted, 1-based: the smallest with rank/count >= q.
  auto rank = static_cast<std::uint64_t>(q * static_cast<double>(count_));
  if (static_cast<double>(rank) < q * static_cast<double>(count_)) ++rank;
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (const auto& [bucket, n] : buckets_) {
    seen += n;
    if (seen >= rank) return std::clamp(lowest_of(bucket), min_, max_);
  }
  return max_;
}

}  // namespace essim::sim
