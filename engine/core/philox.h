// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator. A draw is a pure function of (key, counter), so every random number
// the engine uses is reproducible from (seed, stream, element index) on the CPU and the GPU
// alike, in any order and on any number of threads.
//
// Conventions (shared by every op that draws):
//   key      = the run's 64-bit seed
//   counter  = (block index low, block index high, stream low, stream high)
//   element i of a draw is number offset + i of the stream (offset lets data-parallel ranks
//   draw disjoint parts of one stream); number e uses block e / 4, word e % 4
//   uniform  = top 24 bits of a word scaled to [0, 1) (exact in float): bit-identical on the
//              CPU and the GPU
//   normal   = Box-Muller on the words (2j, 2j+1) of a block, number e takes the cosine branch
//              for even e, the sine branch for odd e; evaluated in double and rounded to float,
//              so the last-bit differences of the CPU's and the GPU's libm vanish in rounding
// A "stream" is a 64-bit id naming one purpose (a random start of one batch, a shuffle of one
// epoch ...), so resuming a run can re-create any stream without replaying the others.
#pragma once

#include <cmath>
#include <cstdint>

#include "engine/core/host_device.h"

namespace rp {

struct PhiloxWords {
  std::uint32_t w[4];
};

struct RngStream {
  std::uint64_t seed = 0;
  std::uint64_t stream = 0;
  std::uint64_t offset = 0;  // element i of a draw is number offset + i of the stream
};

RP_HOST_DEVICE inline void philox_mulhilo(std::uint32_t a, std::uint32_t b, std::uint32_t& hi,
                                          std::uint32_t& lo) {
  const std::uint64_t p = static_cast<std::uint64_t>(a) * b;
  hi = static_cast<std::uint32_t>(p >> 32);
  lo = static_cast<std::uint32_t>(p);
}

RP_HOST_DEVICE inline PhiloxWords philox4x32_10(PhiloxWords ctr, std::uint32_t k0,
                                                std::uint32_t k1) {
  constexpr std::uint32_t kM0 = 0xD2511F53u, kM1 = 0xCD9E8D57u;
  constexpr std::uint32_t kW0 = 0x9E3779B9u, kW1 = 0xBB67AE85u;
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      k0 += kW0;
      k1 += kW1;
    }
    std::uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(kM0, ctr.w[0], hi0, lo0);
    philox_mulhilo(kM1, ctr.w[2], hi1, lo1);
    ctr = PhiloxWords{{hi1 ^ ctr.w[1] ^ k0, lo1, hi0 ^ ctr.w[3] ^ k1, lo0}};
  }
  return ctr;
}

// The 4 words of block `block` of `s`.
RP_HOST_DEVICE inline PhiloxWords rng_block(RngStream s, std::uint64_t block) {
  const PhiloxWords ctr{{static_cast<std::uint32_t>(block), static_cast<std::uint32_t>(block >> 32),
                         static_cast<std::uint32_t>(s.stream),
                         static_cast<std::uint32_t>(s.stream >> 32)}};
  return philox4x32_10(ctr, static_cast<std::uint32_t>(s.seed),
                       static_cast<std::uint32_t>(s.seed >> 32));
}

// [0, 1): multiples of 2^-24, each exactly representable in float.
RP_HOST_DEVICE inline float rng_uniform_from_word(std::uint32_t word) {
  return static_cast<float>(word >> 8) * (1.0f / 16777216.0f);
}

// (0, 1]: for logarithms.
RP_HOST_DEVICE inline float rng_uniform_open_from_word(std::uint32_t word) {
  return static_cast<float>((word >> 8) + 1u) * (1.0f / 16777216.0f);
}

// Element i of a uniform [0, 1) draw.
RP_HOST_DEVICE inline float rng_uniform(RngStream s, std::uint64_t i) {
  const std::uint64_t e = s.offset + i;
  return rng_uniform_from_word(rng_block(s, e / 4).w[e % 4]);
}

// Element i of a standard normal draw (Box-Muller).
RP_HOST_DEVICE inline float rng_normal(RngStream s, std::uint64_t i) {
  const std::uint64_t e = s.offset + i;
  const PhiloxWords b = rng_block(s, e / 4);
  const unsigned pair = static_cast<unsigned>((e % 4) / 2);
  const double u1 = static_cast<double>(rng_uniform_open_from_word(b.w[2 * pair]));
  const double u2 = static_cast<double>(rng_uniform_from_word(b.w[2 * pair + 1]));
  const double radius = std::sqrt(-2.0 * std::log(u1));
  const double angle = 6.283185307179586476925286766559 * u2;
  return static_cast<float>((e % 2 == 0) ? radius * std::cos(angle) : radius * std::sin(angle));
}

}  // namespace rp
