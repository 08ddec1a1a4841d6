// The PNG and JPEG decoders behind image_io.h (one file per library). Each takes the whole
// file in memory and returns interleaved 8-bit pixels, or throws rp::Error naming `name`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/data/image_io.h"

namespace rp::detail {

// Throws when a declared size is empty or over kMaxImageSide / kMaxImagePixels.
void check_declared_size(std::int64_t width, std::int64_t height, const std::string& name,
                         const char* format);

// RGB (keep_alpha false) or RGBA (true, opaque where the file has no alpha).
Image decode_png(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                 bool keep_alpha);
// RGB.
Image decode_jpeg(const std::uint8_t* bytes, std::size_t size, const std::string& name);

}  // namespace rp::detail
