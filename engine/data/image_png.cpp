// PNG decoding through libpng. libpng reports errors by longjmp out of its own frames: the
// frame that calls setjmp (run_decode) holds nothing but pointers that never change, and every
// object with a destructor lives in its caller, so nothing is skipped or left indeterminate.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <cstring>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/image_decoders.h"

namespace rp::detail {
namespace {

struct ErrorState {
  std::jmp_buf jump;
  char message[256] = {0};
};

struct Reader {
  const std::uint8_t* bytes;
  std::size_t size, pos;
};

struct Decoded {
  std::int64_t width = 0, height = 0;
  bool declared_only = false;  // the size is out of bounds: stopped after the header
  Image* image = nullptr;
  std::vector<png_bytep>* rows = nullptr;
};

[[noreturn]] void on_error(png_structp png, png_const_charp message) {
  auto* err = static_cast<ErrorState*>(png_get_error_ptr(png));
  std::snprintf(err->message, sizeof err->message, "%s", message);
  std::longjmp(err->jump, 1);
}

void on_warning(png_structp, png_const_charp) {}  // PIL reads past libpng's warnings too

void read_bytes(png_structp png, png_bytep out, png_size_t n) {
  auto* r = static_cast<Reader*>(png_get_io_ptr(png));
  if (n > r->size - r->pos) png_error(png, "the file ends early (truncated)");
  std::memcpy(out, r->bytes + r->pos, n);
  r->pos += n;
}

bool size_in_bounds(std::int64_t w, std::int64_t h) {
  return w >= 1 && h >= 1 && w <= kMaxImageSide && h <= kMaxImageSide && w * h <= kMaxImagePixels;
}

// False when libpng failed (err->message says why).
bool run_decode(png_structp png, png_infop info, ErrorState* err, Decoded* out, bool keep_alpha) {
  if (setjmp(err->jump)) return false;
  png_read_info(png, info);
  png_uint_32 w = 0, h = 0;
  int depth = 0, color = 0;
  png_get_IHDR(png, info, &w, &h, &depth, &color, nullptr, nullptr, nullptr);
  out->width = static_cast<std::int64_t>(w);
  out->height = static_cast<std::int64_t>(h);
  if (!size_in_bounds(out->width, out->height)) {
    out->declared_only = true;
    return true;
  }
  png_set_expand(png);                     // palette -> RGB, gray below 8 bits -> 8, tRNS -> alpha
  if (depth == 16) png_set_strip_16(png);  // the high byte, as PIL's 16-bit raw modes
  if ((color & PNG_COLOR_MASK_COLOR) == 0) png_set_gray_to_rgb(png);
  const bool has_alpha =
      (color & PNG_COLOR_MASK_ALPHA) != 0 || png_get_valid(png, info, PNG_INFO_tRNS) != 0;
  if (!keep_alpha && has_alpha) png_set_strip_alpha(png);
  if (keep_alpha && !has_alpha) png_set_add_alpha(png, 0xff, PNG_FILLER_AFTER);
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  const auto channels = static_cast<std::int64_t>(png_get_channels(png, info));
  const std::size_t stride = png_get_rowbytes(png, info);
  if (channels != (keep_alpha ? 4 : 3) ||
      stride != static_cast<std::size_t>(out->width * channels)) {
    png_error(png, "unexpected layout after conversion to 8-bit RGB");
  }
  Image& img = *out->image;
  img.width = out->width;
  img.height = out->height;
  img.channels = channels;
  img.grayscale = (color & PNG_COLOR_MASK_COLOR) == 0;
  img.pixels.resize(static_cast<std::size_t>(out->height) * stride);
  out->rows->resize(static_cast<std::size_t>(out->height));
  for (std::size_t y = 0; y < out->rows->size(); ++y)
    (*out->rows)[y] = img.pixels.data() + y * stride;
  png_read_image(png, out->rows->data());
  png_read_end(png, nullptr);  // the chunks after the pixels, with their CRCs
  return true;
}

}  // namespace

Image decode_png(const std::uint8_t* bytes, std::size_t size, const std::string& name,
                 bool keep_alpha) {
  ErrorState err;
  png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &err, on_error, on_warning);
  RP_CHECK(png != nullptr, "load_image", name << ": libpng could not start (out of memory)");
  png_infop info = png_create_info_struct(png);
  if (info == nullptr) {
    png_destroy_read_struct(&png, nullptr, nullptr);
    RP_FAIL("load_image", name << ": libpng could not start (out of memory)");
  }
  Reader reader{bytes, size, 0};
  png_set_read_fn(png, &reader, read_bytes);
  Image img;
  std::vector<png_bytep> rows;
  Decoded out;
  out.image = &img;
  out.rows = &rows;
  const bool ok = run_decode(png, info, &err, &out, keep_alpha);
  png_destroy_read_struct(&png, &info, nullptr);
  RP_CHECK(ok, "load_image", name << ": not a readable PNG: " << err.message);
  if (out.declared_only) check_declared_size(out.width, out.height, name, "PNG");
  return img;
}

}  // namespace rp::detail
