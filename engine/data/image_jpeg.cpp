// JPEG decoding through libjpeg-turbo. Its errors leave the decoder by longjmp: the frame that
// calls setjmp (run_decode) holds nothing but pointers that never change, and every object with
// a destructor lives in its caller. A file that ends early is only a warning to libjpeg (it pads
// the image with grey); here it is an error, as in PIL. Other warnings (extraneous bytes before
// a marker, common in ImageNet) are let through, as PIL does.
#include <csetjmp>
#include <cstdio>
#include <cstring>
// clang-format off: jpeglib.h needs FILE declared first
#include <jerror.h>
#include <jpeglib.h>
// clang-format on

#include "engine/core/error.h"
#include "engine/data/image_decoders.h"

namespace rp::detail {
namespace {

struct ErrorState {
  jpeg_error_mgr mgr;  // first: libjpeg hands back a pointer to it
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX] = {0};
};

struct Decoded {
  std::int64_t width = 0, height = 0;
  bool declared_only = false;  // the size is out of bounds: stopped after the header
  bool cmyk = false;
  Image* image = nullptr;
};

[[noreturn]] void on_error_exit(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorState*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

void on_message(j_common_ptr cinfo, int level) {
  if (level < 0 && cinfo->err->msg_code == JWRN_JPEG_EOF) {
    auto* err = reinterpret_cast<ErrorState*>(cinfo->err);
    std::snprintf(err->message, sizeof err->message, "the file ends early (truncated)");
    std::longjmp(err->jump, 1);
  }
}

bool size_in_bounds(std::int64_t w, std::int64_t h) {
  return w >= 1 && h >= 1 && w <= kMaxImageSide && h <= kMaxImageSide && w * h <= kMaxImagePixels;
}

// False when libjpeg failed (err->message says why).
bool run_decode(jpeg_decompress_struct* cinfo, ErrorState* err, const std::uint8_t* bytes,
                std::size_t size, Decoded* out) {
  if (setjmp(err->jump)) return false;
  jpeg_create_decompress(cinfo);
  jpeg_mem_src(cinfo, bytes, static_cast<unsigned long>(size));
  jpeg_read_header(cinfo, TRUE);
  out->width = static_cast<std::int64_t>(cinfo->image_width);
  out->height = static_cast<std::int64_t>(cinfo->image_height);
  if (!size_in_bounds(out->width, out->height)) {
    out->declared_only = true;
    return true;
  }
  // libjpeg converts gray and YCbCr to RGB itself, CMYK and YCCK only to CMYK.
  out->cmyk = cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK;
  cinfo->out_color_space = out->cmyk ? JCS_CMYK : JCS_RGB;
  jpeg_start_decompress(cinfo);
  Image& img = *out->image;
  img.width = out->width;
  img.height = out->height;
  img.channels = cinfo->output_components;
  img.grayscale = cinfo->jpeg_color_space == JCS_GRAYSCALE;
  const auto stride = static_cast<std::size_t>(img.width * img.channels);
  img.pixels.resize(stride * static_cast<std::size_t>(img.height));
  while (cinfo->output_scanline < cinfo->output_height) {
    JSAMPROW row = img.pixels.data() + stride * cinfo->output_scanline;
    jpeg_read_scanlines(cinfo, &row, 1);
  }
  jpeg_finish_decompress(cinfo);
  return true;
}

// PIL's cmyk2rgb: R = (255 - K) - (255 - K) C / 255, with its rounding (MULDIV255).
std::uint8_t cmyk_channel(int c, int k) {
  const int nk = 255 - k;
  const int t = c * nk + 128;
  return static_cast<std::uint8_t>(nk - (((t >> 8) + t) >> 8));
}

}  // namespace

Image decode_jpeg(const std::uint8_t* bytes, std::size_t size, const std::string& name) {
  jpeg_decompress_struct cinfo;
  std::memset(&cinfo, 0, sizeof cinfo);
  ErrorState err;
  cinfo.err = jpeg_std_error(&err.mgr);
  err.mgr.error_exit = on_error_exit;
  err.mgr.emit_message = on_message;
  Image img;
  Decoded out;
  out.image = &img;
  const bool ok = run_decode(&cinfo, &err, bytes, size, &out);
  jpeg_destroy_decompress(&cinfo);
  RP_CHECK(ok, "load_image", name << ": not a readable JPEG: " << err.message);
  if (out.declared_only) check_declared_size(out.width, out.height, name, "JPEG");
  RP_CHECK(img.channels == (out.cmyk ? 4 : 3), "load_image",
           name << ": libjpeg gave " << img.channels << " channels where " << (out.cmyk ? 4 : 3)
                << " were asked for");
  if (!out.cmyk) return img;
  // CMYK JPEGs are read inverted, Adobe's convention (Photoshop's, and ImageNet's few), which
  // PIL assumes for every CMYK JPEG: so does this.
  Image rgb;
  rgb.width = img.width;
  rgb.height = img.height;
  rgb.channels = 3;
  rgb.pixels.resize(static_cast<std::size_t>(img.width * img.height * 3));
  for (std::size_t p = 0; p < rgb.pixels.size() / 3; ++p) {
    const std::uint8_t* q = img.pixels.data() + 4 * p;
    for (int c = 0; c < 3; ++c) {
      rgb.pixels[3 * p + static_cast<std::size_t>(c)] = cmyk_channel(255 - q[c], 255 - q[3]);
    }
  }
  return rgb;
}

}  // namespace rp::detail
