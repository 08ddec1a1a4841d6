// Gathering a batch from a uint8 dataset, CPU reference: the data loader's one op.
//
//   images (m, c, h, w) u8, labels (m) i32, order (n) i32: indices into the dataset
//   out_images (n, c, h, w) in [0, 1], out_labels (n)
//
//   out_images[j] = augment(images[order[j]]) / 255 (a division, as torchvision's ToTensor),
//   out_labels[j] = labels[order[j]]
//
// Augmentation, torchvision's RandomCrop(padding=pad) then RandomHorizontalFlip: crop offsets
// oy, ox uniform in [0, 2 pad] and a flip with probability 1/2, from Philox block
// (rng.offset + j) of `rng` (words 0, 1, 2), so example j's draw depends only on its position
// in the epoch:
//   out[j, ch, y, x] = src[ch, y + oy - pad, x' + ox - pad]  (0 outside the image),
//   x' = flip ? w - 1 - x : x
#pragma once

#include <cstdint>

#include "engine/core/host_device.h"
#include "engine/core/philox.h"

namespace rp::cpu {

struct GatherShape {
  std::int64_t m = 0, n = 0, c = 0, h = 0, w = 0;  // dataset size, batch, image
};

struct Augmentation {
  bool enabled = false;
  std::int64_t pad = 4;
  bool flip = true;
  RngStream rng;
};

// The crop offsets and flip of example j: one definition compiled for the CPU reference and
// the GPU kernel alike (philox.h is host/device), so both draw bit-identical augmentations.
struct AugmentDraw {
  std::int64_t oy, ox;
  bool flip;
};
RP_HOST_DEVICE inline AugmentDraw augment_draw(const Augmentation& a, std::int64_t j) {
  const PhiloxWords w = rng_block(a.rng, a.rng.offset + static_cast<std::uint64_t>(j));
  const auto span = static_cast<std::uint64_t>(2 * a.pad + 1);
  // Multiply-shift maps a 32-bit word onto [0, span) without a division.
  return AugmentDraw{static_cast<std::int64_t>((static_cast<std::uint64_t>(w.w[0]) * span) >> 32),
                     static_cast<std::int64_t>((static_cast<std::uint64_t>(w.w[1]) * span) >> 32),
                     a.flip && (w.w[2] >> 31) != 0};
}

template <typename T>
void gather_batch(const GatherShape& s, const std::uint8_t* images, const std::int32_t* labels,
                  const std::int32_t* order, const Augmentation& aug, T* out_images,
                  std::int32_t* out_labels, int threads);

}  // namespace rp::cpu
