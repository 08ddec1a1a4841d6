// Image files the data tests write themselves: JPEGs through libjpeg (RGB, gray, CMYK), PNGs
// through libpng (any colour type), and byte-level edits of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rp::test {

// A pattern with edges and every channel different: byte (y, x, c) of a w x h image.
std::uint8_t pattern_byte(std::int64_t y, std::int64_t x, std::int64_t c, std::uint64_t seed = 0);
std::vector<std::uint8_t> pattern_pixels(int w, int h, int channels, std::uint64_t seed = 0);

// components 3 (RGB), 1 (gray) or 4 (CMYK, stored inverted as Adobe's JPEGs are).
void write_jpeg(const std::string& path, int w, int h, int components,
                const std::vector<std::uint8_t>& pixels, int quality = 100);
// libpng colour types: PNG_COLOR_TYPE_GRAY (1 channel), _RGB (3), _RGB_ALPHA (4), _GRAY_ALPHA
// (2); bit_depth 8 or 16 (16: each byte doubled to a sample).
void write_png_file(const std::string& path, int w, int h, int color_type, int bit_depth,
                    const std::vector<std::uint8_t>& pixels);
// A 2-colour palette PNG: pixel (y, x) is palette entry (x + y) % 2.
void write_palette_png(const std::string& path, int w, int h, const std::uint8_t rgb0[3],
                       const std::uint8_t rgb1[3]);

std::string read_bytes(const std::string& path);
void write_bytes(const std::string& path, const std::string& bytes);
// The PNG chunk CRC (ISO 3309, as zlib's crc32).
std::uint32_t png_crc(const std::uint8_t* bytes, std::size_t n);
// A PNG file's bytes with the size its IHDR declares changed (the chunk's CRC recomputed), the
// pixels left as they were.
void set_png_declared_size(std::string& png, std::uint32_t width, std::uint32_t height);

}  // namespace rp::test
