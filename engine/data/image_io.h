// PNG files in and out (stb_image, from Debian's libstb). Writes are atomic (files.h).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rp {

// Interleaved 8-bit pixels (height, width, channels), as image files store them.
struct Image {
  std::int64_t width = 0, height = 0, channels = 0;
  std::vector<std::uint8_t> pixels;
};

// Decodes a PNG (any bit depth and colour type) into `channels` channels (1, 3 or 4).
Image load_png(const std::string& path, int channels = 3);
void save_png(const std::string& path, const Image& image);

}  // namespace rp
