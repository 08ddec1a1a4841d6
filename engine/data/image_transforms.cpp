#include "engine/data/image_transforms.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "engine/core/error.h"

namespace rp {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's, for 8-bit images

// One pass's weights (PIL's precompute_coeffs + normalize_coeffs_8bpc): output pixel i reads
// inputs first[i] .. first[i] + count[i] - 1 with weights w[i * ksize + k].
struct Coefficients {
  std::int64_t ksize = 0;
  std::vector<std::int64_t> first, count;
  std::vector<std::int32_t> w;
};

double triangle(double x) {
  x = std::fabs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

Coefficients coefficients(std::int64_t in_size, std::int64_t out_size) {
  const double scale = static_cast<double>(in_size) / static_cast<double>(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;  // the triangle's support is 1
  Coefficients c;
  c.ksize = static_cast<std::int64_t>(std::ceil(support)) * 2 + 1;
  c.first.resize(static_cast<std::size_t>(out_size));
  c.count.resize(static_cast<std::size_t>(out_size));
  c.w.assign(static_cast<std::size_t>(out_size * c.ksize), 0);
  std::vector<double> k(static_cast<std::size_t>(c.ksize));
  for (std::int64_t i = 0; i < out_size; ++i) {
    const double center = (static_cast<double>(i) + 0.5) * scale;
    const auto lo = std::max<std::int64_t>(static_cast<std::int64_t>(center - support + 0.5), 0);
    const auto hi =
        std::min<std::int64_t>(static_cast<std::int64_t>(center + support + 0.5), in_size);
    const std::int64_t n = hi - lo;
    double total = 0;
    for (std::int64_t x = 0; x < n; ++x) {
      const double w =
          triangle((static_cast<double>(x + lo) - center + 0.5) * (1.0 / filter_scale));
      k[static_cast<std::size_t>(x)] = w;
      total += w;
    }
    for (std::int64_t x = 0; x < n; ++x) {
      double w = k[static_cast<std::size_t>(x)];
      if (total != 0.0) w /= total;
      const double fixed = w * static_cast<double>(1 << kPrecisionBits);
      c.w[static_cast<std::size_t>(i * c.ksize + x)] =
          static_cast<std::int32_t>(fixed < 0 ? fixed - 0.5 : fixed + 0.5);
    }
    c.first[static_cast<std::size_t>(i)] = lo;
    c.count[static_cast<std::size_t>(i)] = n;
  }
  return c;
}

std::uint8_t clip8(std::int64_t v) {
  if (v >= (std::int64_t{1} << kPrecisionBits << 8)) return 255;
  if (v <= 0) return 0;
  return static_cast<std::uint8_t>(v >> kPrecisionBits);
}

void check_image(const Image& in, const char* op) {
  RP_CHECK(in.width >= 1 && in.height >= 1 && in.channels >= 1 &&
               static_cast<std::int64_t>(in.pixels.size()) == in.width * in.height * in.channels,
           op,
           "an image of " << in.pixels.size() << " bytes for " << in.width << "x" << in.height
                          << "x" << in.channels);
}

void check_box(const Image& in, const CropBox& b, const char* op) {
  RP_CHECK(b.height >= 1 && b.width >= 1 && b.top >= 0 && b.left >= 0 &&
               b.top + b.height <= in.height && b.left + b.width <= in.width,
           op,
           "box (top " << b.top << ", left " << b.left << ", " << b.width << "x" << b.height
                       << ") is not inside a " << in.width << "x" << in.height << " image");
}

std::uint32_t word_at(RngStream rng, std::uint64_t i) {
  const std::uint64_t e = rng.offset + i;
  return rng_block(rng, e / 4).w[e % 4];
}

double uniform_at(RngStream rng, std::uint64_t i) {
  return static_cast<double>(rng_uniform_from_word(word_at(rng, i)));
}

// torch.randint(0, n): uniform in [0, n).
std::int64_t below_at(RngStream rng, std::uint64_t i, std::int64_t n) {
  return static_cast<std::int64_t>(
      (static_cast<std::uint64_t>(word_at(rng, i)) * static_cast<std::uint64_t>(n)) >> 32);
}

// Python's round(): half to even (the default rounding mode of nearbyint).
std::int64_t round_half_even(double x) {
  return static_cast<std::int64_t>(std::nearbyint(x));
}

}  // namespace

ImageSize resize_shorter_side(std::int64_t width, std::int64_t height, std::int64_t size) {
  RP_CHECK(width >= 1 && height >= 1 && size >= 1, "resize",
           "cannot resize a " << width << "x" << height << " image to shorter side " << size);
  const std::int64_t shorter = std::min(width, height), longer = std::max(width, height);
  const auto other =
      static_cast<std::int64_t>(static_cast<double>(size * longer) / static_cast<double>(shorter));
  return width <= height ? ImageSize{size, other} : ImageSize{other, size};
}

Image resize_bilinear(const Image& in, std::int64_t width, std::int64_t height) {
  return resize_bilinear(in, width, height, CropBox{0, 0, in.height, in.width});
}

Image resize_bilinear(const Image& in, std::int64_t width, std::int64_t height,
                      const CropBox& box) {
  check_image(in, "resize");
  check_box(in, box, "resize");
  RP_CHECK(width >= 1 && height >= 1 && width <= kMaxImageSide && height <= kMaxImageSide, "resize",
           "output size " << width << "x" << height);
  const std::int64_t ch = in.channels;
  const Coefficients cx = coefficients(box.width, width);
  const Coefficients cy = coefficients(box.height, height);
  // Rows of the box the vertical pass reads.
  const std::int64_t row0 = cy.first.front();
  const std::int64_t rows = cy.first.back() + cy.count.back() - row0;
  const std::int64_t in_stride = in.width * ch;
  std::vector<std::uint8_t> tmp(static_cast<std::size_t>(rows * width * ch));
  for (std::int64_t r = 0; r < rows; ++r) {
    const std::uint8_t* src = in.pixels.data() + (box.top + row0 + r) * in_stride + box.left * ch;
    std::uint8_t* dst = tmp.data() + r * width * ch;
    for (std::int64_t x = 0; x < width; ++x) {
      const std::int32_t* w = cx.w.data() + x * cx.ksize;
      const std::int64_t lo = cx.first[static_cast<std::size_t>(x)];
      const std::int64_t n = cx.count[static_cast<std::size_t>(x)];
      for (std::int64_t c = 0; c < ch; ++c) {
        std::int64_t s = std::int64_t{1} << (kPrecisionBits - 1);
        for (std::int64_t k = 0; k < n; ++k) s += std::int64_t{src[(lo + k) * ch + c]} * w[k];
        dst[x * ch + c] = clip8(s);
      }
    }
  }
  Image out;
  out.width = width;
  out.height = height;
  out.channels = ch;
  out.pixels.resize(static_cast<std::size_t>(width * height * ch));
  const std::int64_t row_bytes = width * ch;
  for (std::int64_t y = 0; y < height; ++y) {
    const std::int32_t* w = cy.w.data() + y * cy.ksize;
    const std::int64_t lo = cy.first[static_cast<std::size_t>(y)] - row0;
    const std::int64_t n = cy.count[static_cast<std::size_t>(y)];
    std::uint8_t* dst = out.pixels.data() + y * row_bytes;
    for (std::int64_t i = 0; i < row_bytes; ++i) {
      std::int64_t s = std::int64_t{1} << (kPrecisionBits - 1);
      for (std::int64_t k = 0; k < n; ++k) s += std::int64_t{tmp[(lo + k) * row_bytes + i]} * w[k];
      dst[i] = clip8(s);
    }
  }
  return out;
}

CropBox center_crop_box(std::int64_t width, std::int64_t height, std::int64_t crop_width,
                        std::int64_t crop_height) {
  RP_CHECK(crop_width >= 1 && crop_height >= 1 && crop_width <= width && crop_height <= height,
           "center_crop",
           "a " << crop_width << "x" << crop_height << " crop of a " << width << "x" << height
                << " image");
  return CropBox{round_half_even(static_cast<double>(height - crop_height) / 2.0),
                 round_half_even(static_cast<double>(width - crop_width) / 2.0), crop_height,
                 crop_width};
}

Image crop(const Image& in, const CropBox& box) {
  check_image(in, "crop");
  check_box(in, box, "crop");
  Image out;
  out.width = box.width;
  out.height = box.height;
  out.channels = in.channels;
  out.pixels.resize(static_cast<std::size_t>(box.width * box.height * in.channels));
  const std::int64_t row = box.width * in.channels;
  for (std::int64_t y = 0; y < box.height; ++y) {
    std::copy_n(in.pixels.data() + ((box.top + y) * in.width + box.left) * in.channels, row,
                out.pixels.data() + y * row);
  }
  return out;
}

CropBox random_resized_crop_box(std::int64_t width, std::int64_t height, RngStream rng,
                                const ResizedCropParams& p) {
  RP_CHECK(width >= 1 && height >= 1, "random_resized_crop",
           "a " << width << "x" << height << " image");
  RP_CHECK(p.scale_min > 0 && p.scale_min <= p.scale_max && p.ratio_min > 0 &&
               p.ratio_min <= p.ratio_max,
           "random_resized_crop",
           "scale (" << p.scale_min << ", " << p.scale_max << "), ratio (" << p.ratio_min << ", "
                     << p.ratio_max << ")");
  const double area = static_cast<double>(width * height);
  const double log_lo = std::log(p.ratio_min), log_hi = std::log(p.ratio_max);
  for (std::uint64_t t = 0; t < 10; ++t) {
    const double target =
        area * (p.scale_min + (p.scale_max - p.scale_min) * uniform_at(rng, 4 * t));
    const double ratio = std::exp(log_lo + (log_hi - log_lo) * uniform_at(rng, 4 * t + 1));
    const std::int64_t w = round_half_even(std::sqrt(target * ratio));
    const std::int64_t h = round_half_even(std::sqrt(target / ratio));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      return CropBox{below_at(rng, 4 * t + 2, height - h + 1),
                     below_at(rng, 4 * t + 3, width - w + 1), h, w};
    }
  }
  const double in_ratio = static_cast<double>(width) / static_cast<double>(height);
  std::int64_t w = width, h = height;
  if (in_ratio < p.ratio_min) {
    h = round_half_even(static_cast<double>(w) / p.ratio_min);
  } else if (in_ratio > p.ratio_max) {
    w = round_half_even(static_cast<double>(h) * p.ratio_max);
  }
  return CropBox{(height - h) / 2, (width - w) / 2, h, w};
}

void flip_horizontal(Image& img) {
  check_image(img, "flip_horizontal");
  const std::int64_t ch = img.channels;
  for (std::int64_t y = 0; y < img.height; ++y) {
    std::uint8_t* row = img.pixels.data() + y * img.width * ch;
    for (std::int64_t a = 0, b = img.width - 1; a < b; ++a, --b) {
      for (std::int64_t c = 0; c < ch; ++c) std::swap(row[a * ch + c], row[b * ch + c]);
    }
  }
}

Image eval_transform(const Image& in, std::int64_t resize, std::int64_t crop_size) {
  check_image(in, "eval_transform");
  const ImageSize s = resize_shorter_side(in.width, in.height, resize);
  const Image resized = resize_bilinear(in, s.width, s.height);
  return crop(resized, center_crop_box(s.width, s.height, crop_size, crop_size));
}

Image train_transform(const Image& in, std::int64_t size, RngStream rng,
                      const ResizedCropParams& p) {
  check_image(in, "train_transform");
  const CropBox box = random_resized_crop_box(in.width, in.height, rng, p);
  Image out = resize_bilinear(in, size, size, box);
  if (uniform_at(rng, 40) < 0.5) flip_horizontal(out);
  return out;
}

void to_planar(const Image& in, std::uint8_t* out) {
  check_image(in, "to_planar");
  const std::int64_t plane = in.width * in.height;
  for (std::int64_t p = 0; p < plane; ++p) {
    for (std::int64_t c = 0; c < in.channels; ++c) {
      out[c * plane + p] = in.pixels[static_cast<std::size_t>(p * in.channels + c)];
    }
  }
}

}  // namespace rp
