#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <set>

#include "engine/core/philox.h"

namespace rp {
namespace {

// Known-answer vectors of Random123's kat_vectors for philox4x32-10: counter, key, output.
struct Kat {
  PhiloxWords ctr;
  std::uint32_t k0, k1;
  PhiloxWords expected;
};

TEST(Philox, MatchesRandom123KnownAnswers) {
  const Kat kats[] = {
      {{{0, 0, 0, 0}}, 0, 0, {{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}}},
      {{{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}},
       0xffffffff,
       0xffffffff,
       {{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}}},
      {{{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}},
       0xa4093822,
       0x299f31d0,
       {{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}}},
  };
  for (const Kat& k : kats) {
    const PhiloxWords out = philox4x32_10(k.ctr, k.k0, k.k1);
    for (int i = 0; i < 4; ++i) EXPECT_EQ(out.w[i], k.expected.w[i]) << "word " << i;
  }
}

TEST(Philox, DrawsArePureFunctionsOfSeedStreamAndIndex) {
  const RngStream a{42, 7}, same{42, 7}, other_stream{42, 8}, other_seed{43, 7};
  int differ_stream = 0, differ_seed = 0;
  for (std::uint64_t i = 0; i < 1000; ++i) {
    EXPECT_EQ(rng_uniform(a, i), rng_uniform(same, i));
    EXPECT_EQ(rng_normal(a, i), rng_normal(same, i));
    differ_stream += rng_uniform(a, i) != rng_uniform(other_stream, i);
    differ_seed += rng_uniform(a, i) != rng_uniform(other_seed, i);
  }
  EXPECT_GT(differ_stream, 990);
  EXPECT_GT(differ_seed, 990);
  // High bits of seed and stream matter too.
  EXPECT_NE(rng_uniform(RngStream{1ull << 40, 0}, 0), rng_uniform(RngStream{0, 0}, 0));
  EXPECT_NE(rng_uniform(RngStream{0, 1ull << 40}, 0), rng_uniform(RngStream{0, 0}, 0));
}

TEST(Philox, OffsetShiftsTheDraw) {
  const RngStream base{7, 3, 0}, shifted{7, 3, 10};
  for (std::uint64_t i = 0; i < 50; ++i) {
    EXPECT_EQ(rng_uniform(shifted, i), rng_uniform(base, i + 10));
    EXPECT_EQ(rng_normal(shifted, i), rng_normal(base, i + 10));
  }
}

// Box-Muller on the known-answer words of Philox(counter 0, key 0), computed independently.
TEST(Philox, NormalGoldenValues) {
  const double u1 = (static_cast<double>(0x6627e8d5u >> 8) + 1) / 16777216.0;
  const double u2 = static_cast<double>(0xe169c58du >> 8) / 16777216.0;
  const double r = std::sqrt(-2 * std::log(u1)), a = 2 * M_PI * u2;
  EXPECT_EQ(rng_normal(RngStream{0, 0, 0}, 0), static_cast<float>(r * std::cos(a)));
  EXPECT_EQ(rng_normal(RngStream{0, 0, 0}, 1), static_cast<float>(r * std::sin(a)));
}

TEST(Philox, UniformIsInUnitIntervalWithTheRightMoments) {
  const RngStream s{3, 1};
  const int n = 200000;
  double sum = 0, sq = 0;
  std::set<float> distinct;
  for (int i = 0; i < n; ++i) {
    const float u = rng_uniform(s, static_cast<std::uint64_t>(i));
    ASSERT_GE(u, 0.0f);
    ASSERT_LT(u, 1.0f);
    sum += static_cast<double>(u);
    sq += static_cast<double>(u) * static_cast<double>(u);
    if (i < 1000) distinct.insert(u);
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  EXPECT_NEAR(mean, 0.5, 0.005);        // standard error ~0.0006
  EXPECT_NEAR(var, 1.0 / 12.0, 0.002);  // standard error ~0.0002
  EXPECT_GT(distinct.size(), 990u);
}

TEST(Philox, NormalHasZeroMeanUnitVarianceAndLightTails) {
  const RngStream s{11, 2};
  const int n = 200000;
  double sum = 0, sq = 0, quart = 0;
  int beyond3 = 0;
  for (int i = 0; i < n; ++i) {
    const double z = rng_normal(s, static_cast<std::uint64_t>(i));
    ASSERT_TRUE(std::isfinite(z));
    sum += z;
    sq += z * z;
    quart += z * z * z * z;
    beyond3 += std::abs(z) > 3;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);   // standard error ~0.0022
  EXPECT_NEAR(sq / n, 1.0, 0.02);    // standard error ~0.0032
  EXPECT_NEAR(quart / n, 3.0, 0.1);  // Gaussian kurtosis; standard error ~0.02
  EXPECT_NEAR(beyond3 / static_cast<double>(n), 0.0027, 0.0008);
}

TEST(Philox, ConsecutiveNormalsAreUncorrelated) {
  const RngStream s{5, 9};
  const int n = 100000;
  double cross = 0;
  for (int i = 0; i < n; ++i) {
    cross += static_cast<double>(rng_normal(s, 2 * static_cast<std::uint64_t>(i))) *
             static_cast<double>(rng_normal(s, 2 * static_cast<std::uint64_t>(i) + 1));
  }
  EXPECT_NEAR(cross / n, 0.0, 0.015);  // standard error ~0.0032
}

}  // namespace
}  // namespace rp
