#include "sim/histogram.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <vector>

#include "sim/probe.h"

namespace essim::sim {
namespace {

// Values spread over many magnitudes, as latencies and counts are.
rc::Gen<std::uint64_t> spread() {
  return rc::gen::mapcat(rc::gen::inRange(0, 64), [](int bits) {
    const std::uint64_t top = bits == 64 ? UINT64_MAX : (std::uint64_t{1} << bits) - 1;
    return rc::gen::inRange<std::uint64_t>(0, top == UINT64_MAX ? top : top + 1);
  });
}

RC_GTEST_PROP(HistogramProperty, QuantilesAreWithinABucketOfTheTruth, ()) {
  const auto values = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint64_t>>(spread()));
  const double q = *rc::gen::element(0.0, 0.01, 0.5, 0.9, 0.99, 1.0);
  Histogram h;
  for (const std::uint64_t v : values) h.add(v);
  std::vector<std::uint64_t> sorted = values;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t rank =
      std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(q * sorted.size())));
  const std::uint64_t truth = sorted[rank - 1];
  const std::uint64_t got = h.quantile(q);
  RC_ASSERT(got <= truth);
  RC_ASSERT(Histogram::bucket_of(got) == Histogram::bucket_of(truth) || got == h.min());
  RC_ASSERT(h.min() == sorted.front());
  RC_ASSERT(h.max() == sorted.back());
  RC_ASSERT(h.count() == values.size());
}

RC_GTEST_PROP(HistogramProperty, HistogramsAddUpAndComeBackFromTheirBuckets, ()) {
  const auto a = *rc::gen::container<std::vector<std::uint64_t>>(spread());
  const auto b = *rc::gen::container<std::vector<std::uint64_t>>(spread());
  Histogram ha;
  Histogram hb;
  Histogram all;
  for (const std::uint64_t v : a) ha.add(v), all.add(v);
  for (const std::uint64_t v : b) hb.add(v), all.add(v);
  ha.add(hb);
  RC_ASSERT(ha == all);
  if (all.empty()) return;
  std::vector<std::pair<std::uint32_t, std::uint64_t>> buckets(all.buckets().begin(),
                                                               all.buckets().end());
  const auto back = Histogram::from_buckets(buckets, all.min(), all.max());
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == all);
}

TEST(Histogram, BucketsAreExactBelow64AndWithinAThirtySecondAbove) {
  for (std::uint64_t v = 0; v < 64; ++v)
    EXPECT_EQ(Histogram::lowest_of(Histogram::bucket_of(v)), v);
  for (const std::uint64_t v : std::vector<std::uint64_t>{64, 65, 1000, 123456789, UINT64_MAX}) {
    const std::uint64_t low = Histogram::lowest_of(Histogram::bucket_of(v));
    EXPECT_LE(low, v);
    EXPECT_LE(v - low, low / 32) << v;
  }
  EXPECT_LT(Histogram::bucket_of(UINT64_MAX), Histogram::kBucketsMax);
}

TEST(Histogram, FromBucketsRefusesWhatCannotBeOne) {
  using Buckets = std::vector<std::pair<std::uint32_t, std::uint64_t>>;
  EXPECT_FALSE(Histogram::from_buckets({}, 0, 0));
  EXPECT_FALSE(Histogram::from_buckets(Buckets{{3, 1}, {2, 1}}, 2, 3));  // not increasing
  EXPECT_FALSE(Histogram::from_buckets(Buckets{{2, 0}}, 2, 2));          // an empty bucket
  EXPECT_FALSE(Histogram::from_buckets(Buckets{{2, 1}}, 3, 3));          // min elsewhere
  EXPECT_FALSE(Histogram::from_buckets(Buckets{{2, 1}, {5, 1}}, 2, 9));  // max elsewhere
  EXPECT_FALSE(Histogram::from_buckets(Buckets{{Histogram::kBucketsMax, 1}}, 0, 0));
  EXPECT_FALSE(Histogram::from_buckets(Buckets{{2, UINT64_MAX}, {3, 2}}, 2, 3));  // overflow
  const auto ok = Histogram::from_buckets(Buckets{{2, 3}, {5, 1}}, 2, 5);
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->count(), 4U);
  EXPECT_EQ(ok->quantile(0.5), 2U);
  EXPECT_EQ(ok->quantile(1.0), 5U);
}

TEST(RunCounters, CountOnlyInsideAScope) {
  probe("outside");
  count("outside");
  observe("outside", 1);
  RunCounters counters;
  {
    const RunScope scope(counters);
    probe("p");
    probe("p");
    count("c", 3);
    observe("o", 7);
    {
      RunCounters inner;
      const RunScope nested(inner);
      probe("inner");
      EXPECT_EQ(inner.probes.size(), 1U);
    }
    probe("p");
  }
  probe("after");
  EXPECT_EQ(counters.probes, (ProbeHits{{"p", 3}}));
  EXPECT_EQ(counters.counts.at("c"), 3U);
  EXPECT_EQ(counters.observations.at("o").count(), 1U);
}

}  // namespace
}  // namespace essim::sim
