// libFuzzer harness: the image decoders (PNG through libpng, JPEG through libjpeg-turbo, by
// signature) on raw bytes, then the evaluation transform of what decoded.
#include <cstddef>
#include <cstdint>

#include "engine/core/error.h"
#include "engine/data/image_io.h"
#include "engine/data/image_transforms.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const rp::Image img = rp::decode_image(data, size, "fuzz");
    if (img.width * img.height <= (1 << 20)) (void)rp::eval_transform(img, 40, 32);
  } catch (const rp::Error&) {
  }
  return 0;
}
