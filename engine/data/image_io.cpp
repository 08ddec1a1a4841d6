#include "engine/data/image_io.h"

#include <stb_image_write.h>

#include <cstdio>
#include <cstring>
#include <sstream>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/data/image_decoders.h"

namespace rp {
namespace {

const std::uint8_t kPngSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

std::string first_bytes(const std::uint8_t* bytes, std::size_t size) {
  std::ostringstream s;
  const std::size_t n = size < 8 ? size : 8;
  for (std::size_t i = 0; i < n; ++i) {
    char hex[4];
    std::snprintf(hex, sizeof hex, "%s%02x", i > 0 ? " " : "", bytes[i]);
    s << hex;
  }
  return n == 0 ? std::string("nothing: the file is empty") : s.str();
}

const std::uint8_t* data_of(const std::string& s) {
  return reinterpret_cast<const std::uint8_t*>(s.data());
}

}  // namespace

namespace detail {

void check_declared_size(std::int64_t width, std::int64_t height, const std::string& name,
                         const char* format) {
  RP_CHECK(
      width >= 1 && height >= 1, "load_image",
      name << ": the " << format << " declares an empty image (" << width << "x" << height << ")");
  RP_CHECK(width <= kMaxImageSide && height <= kMaxImageSide && width * height <= kMaxImagePixels,
           "load_image",
           name << ": the " << format << " declares " << width << "x" << height
                << " pixels; images may be at most " << kMaxImageSide << " pixels a side and "
                << kMaxImagePixels << " pixels in all");
}

}  // namespace detail

ImageFormat image_format_of(const std::uint8_t* bytes, std::size_t size) {
  if (size >= 8 && std::memcmp(bytes, kPngSignature, 8) == 0) return ImageFormat::Png;
  if (size >= 3 && bytes[0] == 0xff && bytes[1] == 0xd8 && bytes[2] == 0xff) {
    return ImageFormat::Jpeg;
  }
  return ImageFormat::Unknown;
}

Image decode_image(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
  switch (image_format_of(bytes, size)) {
    case ImageFormat::Png:
      return detail::decode_png(bytes, size, name, false);
    case ImageFormat::Jpeg:
      return detail::decode_jpeg(bytes, size, name);
    case ImageFormat::Unknown:
      break;
  }
  RP_FAIL("load_image", name << " is neither a PNG nor a JPEG (it starts with "
                             << first_bytes(bytes, size)
                             << "); only PNG and JPEG files are read, whatever their name");
}

Image load_image(const std::string& path) {
  const std::string bytes = read_file(path);
  return decode_image(data_of(bytes), bytes.size(), path);
}

Image load_png(const std::string& path, int channels) {
  RP_CHECK(channels == 1 || channels == 3 || channels == 4, "load_png",
           "channels must be 1, 3 or 4, found " << channels);
  const std::string bytes = read_file(path);
  RP_CHECK(
      image_format_of(data_of(bytes), bytes.size()) == ImageFormat::Png, "load_png",
      path << " is not a PNG (it starts with " << first_bytes(data_of(bytes), bytes.size()) << ")");
  Image img = detail::decode_png(data_of(bytes), bytes.size(), path, channels == 4);
  if (channels != 1) return img;
  // PIL's convert("L"): L = R 299/1000 + G 587/1000 + B 114/1000, fixed point with rounding.
  Image gray;
  gray.width = img.width;
  gray.height = img.height;
  gray.channels = 1;
  gray.grayscale = img.grayscale;
  gray.pixels.resize(static_cast<std::size_t>(img.width * img.height));
  for (std::size_t p = 0; p < gray.pixels.size(); ++p) {
    const std::uint8_t* q = img.pixels.data() + 3 * p;
    gray.pixels[p] =
        static_cast<std::uint8_t>((q[0] * 19595 + q[1] * 38470 + q[2] * 7471 + 0x8000) >> 16);
  }
  return gray;
}

namespace {

void append_bytes(void* context, void* data, int size) {
  static_cast<std::string*>(context)->append(static_cast<const char*>(data),
                                             static_cast<std::size_t>(size));
}

}  // namespace

std::string encode_png(const Image& image) {
  RP_CHECK(image.width > 0 && image.height > 0 &&
               static_cast<std::int64_t>(image.pixels.size()) ==
                   image.width * image.height * image.channels,
           "encode_png",
           image.pixels.size() << " bytes for a " << image.width << "x" << image.height << "x"
                               << image.channels << " image");
  std::string png;
  const int ok =
      stbi_write_png_to_func(append_bytes, &png, static_cast<int>(image.width),
                             static_cast<int>(image.height), static_cast<int>(image.channels),
                             image.pixels.data(), static_cast<int>(image.width * image.channels));
  RP_CHECK(ok != 0, "encode_png",
           "stb could not encode a " << image.width << "x" << image.height << " image");
  return png;
}

void save_png(const std::string& path, const Image& image) {
  std::string png;
  try {
    png = encode_png(image);
  } catch (const Error& e) {
    RP_FAIL("save_png", path << ": " << e.detail());
  }
  write_file_atomic(path, png);
}

}  // namespace rp
