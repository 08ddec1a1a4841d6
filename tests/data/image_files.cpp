#include "tests/data/image_files.h"

#include <png.h>

#include <cstdio>
#include <fstream>
#include <stdexcept>

#include "engine/core/files.h"
// clang-format off: jpeglib.h needs FILE declared first
#include <jpeglib.h>
// clang-format on

namespace rp::test {

std::uint8_t pattern_byte(std::int64_t y, std::int64_t x, std::int64_t c, std::uint64_t seed) {
  return static_cast<std::uint8_t>(
      (y * 37 + x * 91 + c * 53 + static_cast<std::int64_t>(seed) * 17) % 256);
}

std::vector<std::uint8_t> pattern_pixels(int w, int h, int channels, std::uint64_t seed) {
  std::vector<std::uint8_t> p;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c) p.push_back(pattern_byte(y, x, c, seed));
  return p;
}

void write_jpeg(const std::string& path, int w, int h, int components,
                const std::vector<std::uint8_t>& pixels, int quality) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  jpeg_compress_struct cinfo;
  jpeg_error_mgr err;
  cinfo.err = jpeg_std_error(&err);
  jpeg_create_compress(&cinfo);
  jpeg_stdio_dest(&cinfo, f);
  cinfo.image_width = static_cast<JDIMENSION>(w);
  cinfo.image_height = static_cast<JDIMENSION>(h);
  cinfo.input_components = components;
  cinfo.in_color_space = components == 1 ? JCS_GRAYSCALE : components == 3 ? JCS_RGB : JCS_CMYK;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  jpeg_start_compress(&cinfo, TRUE);
  std::vector<std::uint8_t> row(static_cast<std::size_t>(w * components));
  while (cinfo.next_scanline < cinfo.image_height) {
    const std::size_t y = cinfo.next_scanline;
    for (std::size_t i = 0; i < row.size(); ++i) {
      const std::uint8_t v = pixels[y * row.size() + i];
      row[i] = components == 4 ? static_cast<std::uint8_t>(255 - v) : v;
    }
    JSAMPROW r = row.data();
    jpeg_write_scanlines(&cinfo, &r, 1);
  }
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
  std::fclose(f);
}

namespace {

void write_png_common(const std::string& path, int w, int h, int color_type, int bit_depth,
                      const std::vector<std::vector<std::uint8_t>>& rows, const png_color* palette,
                      int palette_size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  png_infop info = png_create_info_struct(png);
  png_init_io(png, f);
  png_set_IHDR(png, info, static_cast<png_uint_32>(w), static_cast<png_uint_32>(h), bit_depth,
               color_type, PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT,
               PNG_FILTER_TYPE_DEFAULT);
  if (palette != nullptr) png_set_PLTE(png, info, palette, palette_size);
  png_write_info(png, info);
  for (const auto& r : rows) png_write_row(png, r.data());
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  std::fclose(f);
}

}  // namespace

void write_png_file(const std::string& path, int w, int h, int color_type, int bit_depth,
                    const std::vector<std::uint8_t>& pixels) {
  const int channels = color_type == PNG_COLOR_TYPE_GRAY         ? 1
                       : color_type == PNG_COLOR_TYPE_GRAY_ALPHA ? 2
                       : color_type == PNG_COLOR_TYPE_RGB        ? 3
                                                                 : 4;
  std::vector<std::vector<std::uint8_t>> rows(static_cast<std::size_t>(h));
  const auto row_len = static_cast<std::size_t>(w * channels);
  for (std::size_t y = 0; y < rows.size(); ++y) {
    for (std::size_t i = 0; i < row_len; ++i) {
      const std::uint8_t v = pixels[y * row_len + i];
      rows[y].push_back(v);
      if (bit_depth == 16) rows[y].push_back(v);  // big-endian v * 257
    }
  }
  write_png_common(path, w, h, color_type, bit_depth, rows, nullptr, 0);
}

void write_palette_png(const std::string& path, int w, int h, const std::uint8_t rgb0[3],
                       const std::uint8_t rgb1[3]) {
  const png_color palette[2] = {{rgb0[0], rgb0[1], rgb0[2]}, {rgb1[0], rgb1[1], rgb1[2]}};
  std::vector<std::vector<std::uint8_t>> rows(static_cast<std::size_t>(h));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      rows[static_cast<std::size_t>(y)].push_back(static_cast<std::uint8_t>((x + y) % 2));
  write_png_common(path, w, h, PNG_COLOR_TYPE_PALETTE, 8, rows, palette, 2);
}

std::string read_bytes(const std::string& path) {
  return read_file(path);
}

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

std::uint32_t png_crc(const std::uint8_t* bytes, std::size_t n) {
  std::uint32_t c = 0xffffffffu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= bytes[i];
    for (int k = 0; k < 8; ++k) c = (c & 1u) != 0 ? 0xedb88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xffffffffu;
}

void set_png_declared_size(std::string& png, std::uint32_t width, std::uint32_t height) {
  // Signature (8), IHDR length and type (8), then width and height, big-endian; the CRC over
  // type and data (17 bytes from 12) follows the 13 data bytes.
  auto put32 = [&](std::size_t at, std::uint32_t v) {
    for (int k = 0; k < 4; ++k)
      png[at + static_cast<std::size_t>(k)] = static_cast<char>(v >> (24 - 8 * k));
  };
  put32(16, width);
  put32(20, height);
  put32(29, png_crc(reinterpret_cast<const std::uint8_t*>(png.data()) + 12, 17));
}

}  // namespace rp::test
