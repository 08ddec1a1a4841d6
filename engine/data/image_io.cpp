#include "engine/data/image_io.h"

#include <stb_image.h>
#include <stb_image_write.h>

#include <cstdio>

#include "engine/core/error.h"
#include "engine/core/files.h"

namespace rp {

Image load_png(const std::string& path, int channels) {
  RP_CHECK(channels == 1 || channels == 3 || channels == 4, "load_png",
           "channels must be 1, 3 or 4, found " << channels);
  int w = 0, h = 0, file_channels = 0;
  unsigned char* data = stbi_load(path.c_str(), &w, &h, &file_channels, channels);
  RP_CHECK(data != nullptr, "load_png", "cannot decode " << path << ": " << stbi_failure_reason());
  Image img;
  img.width = w;
  img.height = h;
  img.channels = channels;
  img.pixels.assign(data, data + static_cast<std::size_t>(w) * static_cast<std::size_t>(h) *
                                     static_cast<std::size_t>(channels));
  stbi_image_free(data);
  return img;
}

namespace {

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<std::size_t>(size));
}

}  // namespace

void save_png(const std::string& path, const Image& image) {
  RP_CHECK(image.width > 0 && image.height > 0 &&
               static_cast<std::int64_t>(image.pixels.size()) ==
                   image.width * image.height * image.channels,
           "save_png",
           path << ": " << image.pixels.size() << " bytes for a " << image.width << "x"
                << image.height << "x" << image.channels << " image");
  std::string png;
  const int ok =
      stbi_write_png_to_func(append_bytes, &png, static_cast<int>(image.width),
                             static_cast<int>(image.height), static_cast<int>(image.channels),
                             image.pixels.data(), static_cast<int>(image.width * image.channels));
  RP_CHECK(ok != 0, "save_png", "cannot encode " << path);
  write_file_atomic(path, png);
}

}  // namespace rp
