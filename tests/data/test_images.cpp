// Image decoding (libpng, libjpeg-turbo) and torchvision's transforms on files and images the
// tests make themselves: colour, gray, alpha, palette, 16-bit and CMYK; files refused by their
// signature, truncated or declaring huge sizes; the antialiased resize against its formula and
// against PyTorch; the crop boxes against torchvision's formulas.
#include <gtest/gtest.h>
#include <png.h>

#include <chrono>
#include <cmath>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/core/rng_streams.h"
#include "engine/data/image_io.h"
#include "engine/data/image_transforms.h"
#include "tests/data/image_files.h"
#include "tests/support/temp_dir.h"

namespace rp {
namespace {

using test::pattern_pixels;

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  return "no error";
}

double mean_abs_diff(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  double s = 0;
  for (std::size_t i = 0; i < a.size() && i < b.size(); ++i)
    s += std::fabs(double(a[i]) - double(b[i]));
  return s / static_cast<double>(a.size());
}

// A smooth image, so that JPEG at quality 100 stays within a few levels of it.
std::vector<std::uint8_t> smooth_pixels(int w, int h, int channels) {
  std::vector<std::uint8_t> p;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        p.push_back(static_cast<std::uint8_t>(40 + x * 3 + y * 2 + c * 30));
  return p;
}

TEST(ImageDecode, PngColourTypesBecomeRgb) {
  test::TempDir dir;
  const int w = 7, h = 5;
  const auto rgb = pattern_pixels(w, h, 3);
  test::write_png_file(dir.file("rgb.png"), w, h, PNG_COLOR_TYPE_RGB, 8, rgb);
  Image img = load_image(dir.file("rgb.png"));
  EXPECT_EQ(img.width, w);
  EXPECT_EQ(img.height, h);
  EXPECT_EQ(img.channels, 3);
  EXPECT_EQ(img.pixels, rgb);
  // 16 bits a sample: the high byte.
  test::write_png_file(dir.file("rgb16.png"), w, h, PNG_COLOR_TYPE_RGB, 16, rgb);
  EXPECT_EQ(load_image(dir.file("rgb16.png")).pixels, rgb);
  // Gray: replicated.
  const auto gray = pattern_pixels(w, h, 1);
  test::write_png_file(dir.file("gray.png"), w, h, PNG_COLOR_TYPE_GRAY, 8, gray);
  img = load_image(dir.file("gray.png"));
  ASSERT_EQ(img.channels, 3);
  for (std::size_t p = 0; p < gray.size(); ++p) {
    for (int c = 0; c < 3; ++c) ASSERT_EQ(img.pixels[3 * p + static_cast<std::size_t>(c)], gray[p]);
  }
  // Alpha: dropped (PIL's convert("RGB")); kept by load_png(path, 4).
  const auto rgba = pattern_pixels(w, h, 4);
  test::write_png_file(dir.file("rgba.png"), w, h, PNG_COLOR_TYPE_RGB_ALPHA, 8, rgba);
  img = load_image(dir.file("rgba.png"));
  ASSERT_EQ(img.channels, 3);
  for (std::size_t p = 0; p < rgba.size() / 4; ++p) {
    for (std::size_t c = 0; c < 3; ++c) ASSERT_EQ(img.pixels[3 * p + c], rgba[4 * p + c]);
  }
  EXPECT_EQ(load_png(dir.file("rgba.png"), 4).pixels, rgba);
  const auto gray_alpha = pattern_pixels(w, h, 2);
  test::write_png_file(dir.file("ga.png"), w, h, PNG_COLOR_TYPE_GRAY_ALPHA, 8, gray_alpha);
  img = load_image(dir.file("ga.png"));
  EXPECT_EQ(img.pixels[3 * 4 + 1], gray_alpha[2 * 4]);
  // An opaque alpha where the file has none.
  const Image opaque = load_png(dir.file("rgb.png"), 4);
  EXPECT_EQ(opaque.pixels[3], 255);
  EXPECT_EQ(opaque.pixels[4], rgb[3]);
  // Palette: expanded.
  const std::uint8_t a[3] = {10, 200, 30}, b[3] = {250, 5, 128};
  test::write_palette_png(dir.file("pal.png"), w, h, a, b);
  img = load_image(dir.file("pal.png"));
  EXPECT_EQ(img.pixels[0], 10);
  EXPECT_EQ(img.pixels[3 + 1], 5);  // pixel (0, 1) is entry 1
  // Gray for load_png(path, 1): PIL's luma.
  const Image luma = load_png(dir.file("rgb.png"), 1);
  EXPECT_EQ(luma.pixels[0], (rgb[0] * 19595 + rgb[1] * 38470 + rgb[2] * 7471 + 0x8000) >> 16);
}

TEST(ImageDecode, JpegRgbGrayAndCmyk) {
  test::TempDir dir;
  const int w = 24, h = 16;
  const auto rgb = smooth_pixels(w, h, 3);
  test::write_jpeg(dir.file("rgb.JPEG"), w, h, 3, rgb);
  Image img = load_image(dir.file("rgb.JPEG"));
  EXPECT_EQ(img.width, w);
  EXPECT_EQ(img.height, h);
  ASSERT_EQ(img.channels, 3);
  EXPECT_LT(mean_abs_diff(img.pixels, rgb), 3.0);
  const auto gray = smooth_pixels(w, h, 1);
  test::write_jpeg(dir.file("gray.jpg"), w, h, 1, gray);
  img = load_image(dir.file("gray.jpg"));
  ASSERT_EQ(img.channels, 3);
  std::vector<std::uint8_t> red;
  for (std::size_t p = 0; p < gray.size(); ++p) {
    ASSERT_EQ(img.pixels[3 * p], img.pixels[3 * p + 1]);
    ASSERT_EQ(img.pixels[3 * p], img.pixels[3 * p + 2]);
    red.push_back(img.pixels[3 * p]);
  }
  EXPECT_LT(mean_abs_diff(red, gray), 2.0);
  // CMYK (inverted, as Adobe writes it): R = (255 - C)(255 - K) / 255.
  const auto cmyk = smooth_pixels(w, h, 4);
  test::write_jpeg(dir.file("cmyk.jpg"), w, h, 4, cmyk);
  img = load_image(dir.file("cmyk.jpg"));
  ASSERT_EQ(img.channels, 3);
  std::vector<std::uint8_t> expected;
  for (std::size_t p = 0; p < cmyk.size() / 4; ++p) {
    for (std::size_t c = 0; c < 3; ++c) {
      expected.push_back(static_cast<std::uint8_t>(
          std::lround((255.0 - cmyk[4 * p + c]) * (255.0 - cmyk[4 * p + 3]) / 255.0)));
    }
  }
  EXPECT_LT(mean_abs_diff(img.pixels, expected), 3.0);
  // The format comes from the bytes, not the name: a PNG named .JPEG reads.
  test::write_png_file(dir.file("png.JPEG"), w, h, PNG_COLOR_TYPE_RGB, 8, rgb);
  EXPECT_EQ(load_image(dir.file("png.JPEG")).pixels, rgb);
}

TEST(ImageDecode, RefusesFilesThatAreNotPngOrJpeg) {
  test::TempDir dir;
  // A 1x1 BMP behind a .png name (stb_image would have decoded it).
  std::string bmp = "BM";
  bmp += std::string(52, '\0');
  test::write_bytes(dir.file("bmp.png"), bmp);
  std::string e = error_of([&] { load_image(dir.file("bmp.png")); });
  EXPECT_NE(e.find("bmp.png is neither a PNG nor a JPEG"), std::string::npos) << e;
  EXPECT_NE(e.find("42 4d"), std::string::npos) << e;
  e = error_of([&] { load_png(dir.file("bmp.png")); });
  EXPECT_NE(e.find("is not a PNG"), std::string::npos) << e;
  // A JPEG is not a PNG for load_png.
  test::write_jpeg(dir.file("a.png"), 4, 4, 3, smooth_pixels(4, 4, 3));
  EXPECT_NE(error_of([&] { load_png(dir.file("a.png")); }).find("is not a PNG"), std::string::npos);
  test::write_bytes(dir.file("empty.png"), "");
  e = error_of([&] { load_image(dir.file("empty.png")); });
  EXPECT_NE(e.find("the file is empty"), std::string::npos) << e;
  e = error_of([&] { load_image(dir.file("missing.png")); });
  EXPECT_NE(e.find("missing.png"), std::string::npos) << e;
}

TEST(ImageDecode, RefusesTruncatedFiles) {
  test::TempDir dir;
  test::write_jpeg(dir.file("full.jpg"), 64, 48, 3, pattern_pixels(64, 48, 3));
  const std::string jpeg = test::read_bytes(dir.file("full.jpg"));
  test::write_bytes(dir.file("cut.jpg"), jpeg.substr(0, jpeg.size() / 2));
  std::string e = error_of([&] { load_image(dir.file("cut.jpg")); });
  EXPECT_NE(e.find("cut.jpg: not a readable JPEG: the file ends early"), std::string::npos) << e;
  // Cut inside the header.
  test::write_bytes(dir.file("head.jpg"), jpeg.substr(0, 40));
  e = error_of([&] { load_image(dir.file("head.jpg")); });
  EXPECT_NE(e.find("head.jpg: not a readable JPEG"), std::string::npos) << e;
  // Garbage after a JPEG's signature.
  test::write_bytes(dir.file("junk.jpg"), std::string("\xff\xd8\xff") + std::string(100, 'x'));
  e = error_of([&] { load_image(dir.file("junk.jpg")); });
  EXPECT_NE(e.find("junk.jpg: not a readable JPEG"), std::string::npos) << e;

  test::write_png_file(dir.file("full.png"), 64, 48, PNG_COLOR_TYPE_RGB, 8,
                       pattern_pixels(64, 48, 3));
  const std::string png = test::read_bytes(dir.file("full.png"));
  for (const std::size_t keep : {png.size() / 2, png.size() - 5, std::size_t{20}}) {
    test::write_bytes(dir.file("cut.png"), png.substr(0, keep));
    e = error_of([&] { load_image(dir.file("cut.png")); });
    EXPECT_NE(e.find("cut.png: not a readable PNG"), std::string::npos) << keep << ": " << e;
  }
}

// The declared size is refused from the header alone: fast, and nothing of that size allocated.
TEST(ImageDecode, RefusesHugeDeclaredSizesBeforeAllocating) {
  test::TempDir dir;
  test::write_png_file(dir.file("small.png"), 2, 2, PNG_COLOR_TYPE_RGB, 8, pattern_pixels(2, 2, 3));
  std::string png = test::read_bytes(dir.file("small.png"));
  test::set_png_declared_size(png, 30000, 30000);
  test::write_bytes(dir.file("huge.png"), png);
  const auto start = std::chrono::steady_clock::now();
  std::string e = error_of([&] { load_image(dir.file("huge.png")); });
  EXPECT_NE(e.find("huge.png: the PNG declares 30000x30000 pixels"), std::string::npos) << e;
  EXPECT_NE(e.find("at most 16384 pixels a side"), std::string::npos) << e;
  // Within the side limit, over the pixel limit.
  test::set_png_declared_size(png, 16384, 16385);
  test::write_bytes(dir.file("huge2.png"), png);
  e = error_of([&] { load_image(dir.file("huge2.png")); });
  EXPECT_NE(e.find("declares 16384x16385"), std::string::npos) << e;

  test::write_jpeg(dir.file("small.jpg"), 8, 8, 3, pattern_pixels(8, 8, 3));
  std::string jpeg = test::read_bytes(dir.file("small.jpg"));
  const std::size_t sof = jpeg.find("\xff\xc0");
  ASSERT_NE(sof, std::string::npos);
  // SOF0: marker, length (2), precision (1), height (2), width (2).
  jpeg[sof + 5] = static_cast<char>(30000 >> 8);
  jpeg[sof + 6] = static_cast<char>(30000 & 0xff);
  jpeg[sof + 7] = static_cast<char>(30000 >> 8);
  jpeg[sof + 8] = static_cast<char>(30000 & 0xff);
  test::write_bytes(dir.file("huge.jpg"), jpeg);
  e = error_of([&] { load_image(dir.file("huge.jpg")); });
  EXPECT_NE(e.find("huge.jpg: the JPEG declares 30000x30000 pixels"), std::string::npos) << e;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 1.0);  // decoding 30000x30000 pixels would take far longer
}

// The antialiased bilinear resample evaluated directly, in double: each output pixel a
// triangle-weighted average with support max(in / out, 1), weights normalized, separable.
std::vector<double> direct_weights(std::int64_t in, std::int64_t out, std::int64_t i) {
  const double scale = double(in) / double(out), fs = std::max(scale, 1.0);
  const double center = (double(i) + 0.5) * scale;
  std::vector<double> w(static_cast<std::size_t>(in));
  double total = 0;
  for (std::int64_t j = 0; j < in; ++j) {
    const double d = std::fabs((double(j) + 0.5 - center) / fs);
    w[static_cast<std::size_t>(j)] = d < 1 ? 1 - d : 0;
    total += w[static_cast<std::size_t>(j)];
  }
  for (double& v : w) v /= total;
  return w;
}

double direct_resize(const Image& in, const CropBox& box, std::int64_t ow, std::int64_t oh,
                     std::int64_t x, std::int64_t y, std::int64_t c) {
  const auto wx = direct_weights(box.width, ow, x), wy = direct_weights(box.height, oh, y);
  double s = 0;
  for (std::int64_t j = 0; j < box.height; ++j) {
    for (std::int64_t i = 0; i < box.width; ++i) {
      s += wy[static_cast<std::size_t>(j)] * wx[static_cast<std::size_t>(i)] *
           in.pixels[static_cast<std::size_t>(
               ((box.top + j) * in.width + box.left + i) * in.channels + c)];
    }
  }
  return s;
}

Image pattern_image(int w, int h, std::uint64_t seed = 0) {
  Image img;
  img.width = w;
  img.height = h;
  img.channels = 3;
  img.pixels = pattern_pixels(w, h, 3, seed);
  return img;
}

TEST(ImageTransforms, ResizeMatchesTheAntialiasedBilinearFormula) {
  struct Case {
    int w, h, ow, oh;
  };
  // Down by integer and fractional factors, up, mixed, to 1 pixel, unchanged.
  for (const Case& k : {Case{40, 30, 10, 10}, Case{37, 23, 16, 9}, Case{9, 7, 20, 15},
                        Case{31, 12, 5, 29}, Case{17, 11, 1, 1}, Case{13, 9, 13, 9}}) {
    const Image in = pattern_image(k.w, k.h, static_cast<std::uint64_t>(k.w));
    const Image out = resize_bilinear(in, k.ow, k.oh);
    ASSERT_EQ(out.width, k.ow);
    ASSERT_EQ(out.height, k.oh);
    ASSERT_EQ(out.pixels.size(), static_cast<std::size_t>(k.ow * k.oh * 3));
    const CropBox whole{0, 0, k.h, k.w};
    for (std::int64_t y = 0; y < k.oh; ++y)
      for (std::int64_t x = 0; x < k.ow; ++x)
        for (std::int64_t c = 0; c < 3; ++c) {
          const double want = direct_resize(in, whole, k.ow, k.oh, x, y, c);
          const double got = out.pixels[static_cast<std::size_t>((y * k.ow + x) * 3 + c)];
          ASSERT_LE(std::fabs(got - want), 1.0)
              << k.w << "x" << k.h << " -> " << k.ow << "x" << k.oh << " at " << x << "," << y;
        }
  }
  // Unchanged size is the identity.
  const Image in = pattern_image(13, 9);
  EXPECT_EQ(resize_bilinear(in, 13, 9).pixels, in.pixels);
  // A box is the crop resized.
  const Image big = pattern_image(50, 40, 3);
  const CropBox box{7, 11, 25, 30};
  EXPECT_EQ(resize_bilinear(big, 12, 10, box).pixels,
            resize_bilinear(crop(big, box), 12, 10).pixels);
  EXPECT_THROW(resize_bilinear(big, 12, 10, CropBox{20, 0, 25, 30}), Error);
}

// Reference values from PyTorch 2.15 on the 13x9 and 4x3 test patterns (HWC order):
//   x = torch.tensor([[[(y*37 + x*91 + c*53) % 256 for x in range(W)] for y in range(H)]
//                     for c in range(3)], dtype=torch.float32)[None]
//   torch.nn.functional.interpolate(x, size=(oh, ow), mode='bilinear', antialias=True,
//                                   align_corners=False)[0].permute(1, 2, 0).flatten()
TEST(ImageTransforms, ResizeMatchesPyTorchAntialiasedInterpolate) {
  struct Case {
    int w, h, ow, oh;
    std::vector<double> torch;
  };
  const std::vector<Case> cases = {
      {13, 9, 5, 4, {98.710,  126.110, 136.444, 117.984, 134.413, 138.651, 129.023, 139.391,
                     129.488, 144.539, 123.287, 131.958, 116.425, 119.444, 146.844, 127.725,
                     153.876, 130.909, 111.780, 124.667, 130.744, 125.849, 137.282, 143.542,
                     139.388, 136.761, 118.807, 138.750, 131.808, 135.273, 126.389, 131.727,
                     135.192, 121.682, 148.193, 130.239, 113.452, 123.458, 129.718, 126.964,
                     136.256, 142.333, 147.819, 136.091, 113.124, 108.116, 120.156, 147.556,
                     130.803, 135.042, 143.713, 115.650, 137.512, 127.609, 111.920, 128.349,
                     132.587, 121.442, 130.556, 140.890}},
      {13, 9, 4, 6, {97.128,  125.808, 138.275, 124.101, 145.101, 139.054, 142.315, 119.506,
                     130.982, 127.048, 116.475, 145.155, 105.796, 136.040, 126.462, 119.115,
                     134.189, 134.702, 137.329, 140.552, 124.472, 118.791, 125.142, 145.905,
                     134.209, 153.076, 135.533, 115.671, 121.263, 136.337, 133.885, 137.107,
                     129.155, 147.204, 137.627, 125.015, 128.049, 141.985, 129.373, 111.935,
                     137.845, 129.893, 125.070, 130.663, 145.737, 150.905, 131.467, 113.924,
                     121.191, 121.095, 141.858, 119.327, 142.528, 126.448, 112.144, 132.298,
                     132.811, 130.015, 140.538, 130.960, 109.378, 121.845, 150.525, 136.351,
                     136.018, 147.494, 110.756, 127.946, 121.899, 111.565, 128.725, 141.192}},
      {4, 3, 7, 5, {0.000,   53.000,  106.000, 32.500,  85.500,  138.500, 84.500,  137.500, 190.500,
                    136.500, 189.500, 114.500, 170.214, 223.214, 38.500,  75.929,  128.929, 90.500,
                    17.000,  70.000,  123.000, 14.800,  67.800,  120.800, 47.300,  100.300, 153.300,
                    99.300,  152.300, 205.300, 151.300, 153.100, 129.300, 185.014, 142.929, 53.300,
                    90.729,  107.157, 105.300, 31.800,  84.800,  137.800, 37.000,  90.000,  143.000,
                    69.500,  122.500, 175.500, 121.500, 174.500, 227.500, 173.500, 98.500,  151.500,
                    207.214, 22.500,  75.500,  112.929, 74.500,  127.500, 54.000,  107.000, 160.000,
                    59.200,  112.200, 165.200, 91.700,  144.700, 142.843, 143.700, 196.700, 107.071,
                    118.900, 120.700, 96.900,  86.786,  44.700,  97.700,  80.271,  96.700,  149.700,
                    76.200,  129.200, 182.200, 74.000,  127.000, 180.000, 106.500, 159.500, 121.071,
                    158.500, 211.500, 26.786,  82.500,  135.500, 60.500,  6.500,   59.500,  112.500,
                    58.500,  111.500, 164.500, 91.000,  144.000, 197.000}}};
  for (const Case& k : cases) {
    const Image out = resize_bilinear(pattern_image(k.w, k.h), k.ow, k.oh);
    ASSERT_EQ(out.pixels.size(), k.torch.size());
    for (std::size_t i = 0; i < k.torch.size(); ++i) {
      ASSERT_LE(std::fabs(out.pixels[i] - k.torch[i]), 1.0)
          << k.w << "x" << k.h << " -> " << k.ow << "x" << k.oh << " element " << i;
    }
  }
}

TEST(ImageTransforms, ResizeShorterSideAndCenterCropFollowTorchvision) {
  // Resize(256): shorter side 256, longer int(256 * long / short).
  EXPECT_EQ(resize_shorter_side(500, 375, 256).width, 341);  // int(256 * 500 / 375) = 341
  EXPECT_EQ(resize_shorter_side(500, 375, 256).height, 256);
  EXPECT_EQ(resize_shorter_side(333, 500, 256).width, 256);
  EXPECT_EQ(resize_shorter_side(333, 500, 256).height, 384);  // 384.38...
  EXPECT_EQ(resize_shorter_side(100, 100, 256).width, 256);
  EXPECT_EQ(resize_shorter_side(1, 3, 256).height, 768);
  // CenterCrop(224): offsets int(round((size - 224) / 2.0)), Python rounding half to even.
  for (std::int64_t size = 224; size < 400; ++size) {
    const CropBox b = center_crop_box(size, size + 1, 224, 224);
    const double left = double(size - 224) / 2.0, top = double(size + 1 - 224) / 2.0;
    auto py_round = [](double v) {
      const double f = std::floor(v);
      if (v - f != 0.5) return static_cast<std::int64_t>(std::lround(v));
      return static_cast<std::int64_t>(std::fmod(f, 2.0) == 0 ? f : f + 1);
    };
    ASSERT_EQ(b.left, py_round(left)) << size;
    ASSERT_EQ(b.top, py_round(top)) << size;
    ASSERT_EQ(b.width, 224);
    ASSERT_EQ(b.height, 224);
  }
  EXPECT_EQ(center_crop_box(225, 225, 224, 224).left, 0);  // round(0.5) = 0
  EXPECT_EQ(center_crop_box(227, 227, 224, 224).left, 2);  // round(1.5) = 2
  EXPECT_EQ(center_crop_box(229, 229, 224, 224).left, 2);  // round(2.5) = 2
  EXPECT_THROW(center_crop_box(200, 300, 224, 224), Error);
  // eval_transform = resize then crop.
  const Image in = pattern_image(300, 250, 1);
  const Image out = eval_transform(in, 256, 224);
  EXPECT_EQ(out.width, 224);
  EXPECT_EQ(out.height, 224);
  const Image resized = resize_bilinear(in, 307, 256);
  EXPECT_EQ(out.pixels, crop(resized, CropBox{16, 42, 224, 224}).pixels);
}

TEST(ImageTransforms, RandomResizedCropFollowsTorchvisionsSampling) {
  const ResizedCropParams p;
  std::set<std::int64_t> lefts;
  int flips = 0;
  for (std::uint64_t k = 0; k < 400; ++k) {
    const std::int64_t w = 100 + static_cast<std::int64_t>(k % 7) * 50,
                       h = 80 + static_cast<std::int64_t>(k % 5) * 60;
    const RngStream rng{42, rng_stream(RngPurpose::ResizedCrop, 3), k * kResizedCropDraws};
    const CropBox b = random_resized_crop_box(w, h, rng, p);
    ASSERT_GE(b.top, 0);
    ASSERT_GE(b.left, 0);
    ASSERT_GE(b.width, 1);
    ASSERT_GE(b.height, 1);
    ASSERT_LE(b.top + b.height, h);
    ASSERT_LE(b.left + b.width, w);
    // Area and ratio within the ranges up to the rounding of w and h.
    const double area = double(b.width) * double(b.height) / double(w * h);
    const double ratio = double(b.width) / double(b.height);
    const double slack = 1.0 / double(std::min(b.width, b.height)) + 1e-9;
    ASSERT_GE(area, 0.08 * (1 - 2 * slack) * (1 - 2 * slack));
    ASSERT_LE(area, 1.0);
    ASSERT_GE(ratio, 0.75 * (1 - slack) / (1 + slack));
    ASSERT_LE(ratio, 4.0 / 3.0 * (1 + slack) / (1 - slack));
    lefts.insert(b.left);
    // The same stream, the same box; another offset, (almost always) another box.
    const CropBox again = random_resized_crop_box(w, h, rng, p);
    ASSERT_EQ(again.top, b.top);
    ASSERT_EQ(again.left, b.left);
    ASSERT_EQ(again.width, b.width);
    const Image img = pattern_image(static_cast<int>(w), static_cast<int>(h));
    const Image out = train_transform(img, 32, rng, p);
    ASSERT_EQ(out.width, 32);
    ASSERT_EQ(out.height, 32);
    Image plain = resize_bilinear(img, 32, 32, b);
    if (out.pixels != plain.pixels) {
      flip_horizontal(plain);
      ASSERT_EQ(out.pixels, plain.pixels);
      ++flips;
    }
  }
  EXPECT_GT(lefts.size(), 50u);
  EXPECT_GT(flips, 150);
  EXPECT_LT(flips, 250);
  // No try fits a 400x10 strip (h >= sqrt(0.08 * 4000 * 3 / 4) > 10): the centre fallback,
  // clamped to ratio 4/3: h = 10, w = round(10 * 4 / 3) = 13, top 0, left (400 - 13) // 2.
  const CropBox strip = random_resized_crop_box(400, 10, RngStream{1, 2, 0}, p);
  EXPECT_EQ(strip.height, 10);
  EXPECT_EQ(strip.width, 13);
  EXPECT_EQ(strip.top, 0);
  EXPECT_EQ(strip.left, 193);
  const CropBox tall = random_resized_crop_box(10, 400, RngStream{1, 2, 0}, p);
  EXPECT_EQ(tall.width, 10);
  EXPECT_EQ(tall.height, 13);  // round(10 / (3/4)) = round(13.33)
  EXPECT_EQ(tall.top, 193);
}

TEST(ImageTransforms, FlipAndPlanar) {
  Image img = pattern_image(5, 3);
  const Image before = img;
  flip_horizontal(img);
  for (std::int64_t y = 0; y < 3; ++y)
    for (std::int64_t x = 0; x < 5; ++x)
      for (std::int64_t c = 0; c < 3; ++c)
        ASSERT_EQ(img.pixels[static_cast<std::size_t>((y * 5 + x) * 3 + c)],
                  before.pixels[static_cast<std::size_t>((y * 5 + 4 - x) * 3 + c)]);
  std::vector<std::uint8_t> planar(45, 0xAB);
  to_planar(before, planar.data());
  EXPECT_EQ(planar[2 * 15 + 1 * 5 + 3], before.pixels[(1 * 5 + 3) * 3 + 2]);
}

}  // namespace
}  // namespace rp
