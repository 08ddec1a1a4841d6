// The engine's named random streams (see philox.h). A stream id is (purpose << 56) | index, so
// every kind of draw has its own space of streams and any one can be re-created on resume
// without replaying the others: the shuffle of epoch e is rng_stream(Shuffle, e), whatever ran
// before it.
#pragma once

#include <cstdint>

namespace rp {

enum class RngPurpose : std::uint64_t {
  ParamInit = 1,    // index: parameter number in registration order
  Shuffle = 2,      // index: epoch
  Augment = 3,      // index: epoch
  Synthetic = 4,    // index: 0/1 scene draws of the train/test split, 16+split pixel noise,
                    // 32+class the class pattern, 48 the class colours
  RandomStart = 5,  // index: attack call
  Experiment = 6,   // index: experiment seed images
  ResizedCrop = 7,  // index: epoch (ImageNet's RandomResizedCrop and flip, file_loader.h)
};

inline std::uint64_t rng_stream(RngPurpose purpose, std::uint64_t index) {
  return (static_cast<std::uint64_t>(purpose) << 56) | (index & ((1ull << 56) - 1));
}

}  // namespace rp
