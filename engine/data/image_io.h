// Image files in and out. Reading takes real PNG (libpng) and JPEG (libjpeg-turbo) files only,
// told apart by their first bytes, whatever the file is named: a BMP, GIF or anything else
// behind a .png name is refused naming the file. The declared size is checked against
// kMaxImageSide / kMaxImagePixels before any pixel memory is allocated, and the libraries'
// errors (which longjmp out of their decoders) become rp::Error naming the file. A JPEG that
// ends early is refused (libjpeg only warns and pads it with grey, as PIL refuses it too).
// Writing PNGs stays on stb_image_write; writes are atomic (files.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rp {

// Interleaved 8-bit pixels (height, width, channels), as image files store them.
struct Image {
  std::int64_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
  // The file stored gray levels (a decoder still returns RGB): for readers that refuse them.
  bool grayscale = false;
};

// Bounds on a declared image size, checked before decoding.
inline constexpr std::int64_t kMaxImageSide = 16384;
inline constexpr std::int64_t kMaxImagePixels = std::int64_t{1} << 28;

enum class ImageFormat { Png, Jpeg, Unknown };
// From the file's first bytes (the PNG signature, or JPEG's SOI marker FF D8 FF).
ImageFormat image_format_of(const std::uint8_t* bytes, std::size_t size);

// A PNG or JPEG as 8-bit RGB, as PIL's convert("RGB") gives it: grayscale replicated, alpha
// dropped, palettes expanded, 16-bit samples reduced, CMYK/YCCK JPEGs (Adobe's inverted
// convention included) converted R = (255 - C)(255 - K) / 255.
Image load_image(const std::string& path);
// The same from bytes in memory; `name` is what errors call it.
Image decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name);

// A PNG file (refused when it is not one) into `channels` channels: 1 (ITU-R 601 luma, as PIL's
// convert("L")), 3 (RGB) or 4 (RGBA, opaque where the file has no alpha).
Image load_png(const std::string& path, int channels = 3);
void save_png(const std::string& path, const Image& image);
// The PNG file's bytes (deterministic: no timestamps).
std::string encode_png(const Image& image);

}  // namespace rp
