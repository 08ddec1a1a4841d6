// torchvision's ImageNet preprocessing on interleaved 8-bit images (height, width, channels), as
// the robustness library applies it to PIL images:
//
//   evaluation  Resize(256) + CenterCrop(224)
//   training    RandomResizedCrop(224, scale (0.08, 1), ratio (3/4, 4/3)) + RandomHorizontalFlip
//
// Resizing is PIL's Image.resize(BILINEAR), which both transforms call on PIL images: separable,
// horizontal pass then vertical, each output pixel a triangle-filter average whose support grows
// with the downscale factor (antialiasing), weights normalized per pixel and rounded to 22-bit
// fixed point, each pass rounded to 8 bits. torch's interpolate(bilinear, antialias=True)
// computes the same weights in floating point without the rounding: the two agree to 1 level.
//
// Random choices draw from a Philox stream (philox.h): a crop's numbers are fixed by the stream
// and its offset, so an augmented epoch is reproducible from (seed, epoch, position).
#pragma once

#include <cstdint>

#include "engine/core/philox.h"
#include "engine/data/image_io.h"

namespace rp {

// A rectangle of an image, in pixels.
struct CropBox {
  std::int64_t top = 0, left = 0, height = 0, width = 0;
};

struct ImageSize {
  std::int64_t width = 0, height = 0;
};

// Resize(size)'s output: the shorter side becomes `size`, the longer int(size * long / short).
ImageSize resize_shorter_side(std::int64_t width, std::int64_t height, std::int64_t size);

// PIL's bilinear resample of `box` of `in` (the whole image by default) to width x height.
Image resize_bilinear(const Image& in, std::int64_t width, std::int64_t height);
Image resize_bilinear(const Image& in, std::int64_t width, std::int64_t height, const CropBox& box);

// CenterCrop's box: offsets int(round((size - crop) / 2)), Python's round (half to even).
// The crop must fit the image.
CropBox center_crop_box(std::int64_t width, std::int64_t height, std::int64_t crop_width,
                        std::int64_t crop_height);
Image crop(const Image& in, const CropBox& box);

struct ResizedCropParams {
  double scale_min = 0.08, scale_max = 1.0;             // of the image's area
  double ratio_min = 3.0 / 4.0, ratio_max = 4.0 / 3.0;  // width / height
};

// Numbers of its stream one crop-and-flip uses: try t (0..9) takes offset + 4t .. 4t + 3 (area,
// log aspect ratio, top, left), the flip offset + 40.
inline constexpr std::uint64_t kResizedCropDraws = 41;

// RandomResizedCrop.get_params: up to 10 tries of an area fraction uniform in [scale_min,
// scale_max) and an aspect ratio log-uniform in [ratio_min, ratio_max), w = round(sqrt(area
// ratio)), h = round(sqrt(area / ratio)), accepted when it fits, at a uniform top and left;
// else the centre crop clamped to the ratio range.
CropBox random_resized_crop_box(std::int64_t width, std::int64_t height, RngStream rng,
                                const ResizedCropParams& p = {});

void flip_horizontal(Image& img);

// Resize(resize) + CenterCrop(crop): a crop x crop image.
Image eval_transform(const Image& in, std::int64_t resize = 256, std::int64_t crop = 224);
// RandomResizedCrop(size) from `rng` + a horizontal flip when number offset + 40 is < 1/2.
Image train_transform(const Image& in, std::int64_t size, RngStream rng,
                      const ResizedCropParams& p = {});

// (H, W, C) interleaved to (C, H, W) planes at `out` (C * H * W bytes).
void to_planar(const Image& in, std::uint8_t* out);

}  // namespace rp
