#include "kernels/cpu/gather.h"

#include <algorithm>

#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

template <typename T>
void gather_batch(const GatherShape& s, const std::uint8_t* images, const std::int32_t* labels,
                  const std::int32_t* order, const Augmentation& aug, T* out_images,
                  std::int32_t* out_labels, int threads) {
  const i64 plane = s.h * s.w, image = s.c * plane;
  const T levels = T(255);  // divided, as torchvision's ToTensor does (not * 1/255)
  parallel_for(threads, s.n, std::max<i64>(1, 65536 / std::max<i64>(1, image)),
               [&](i64 begin, i64 end, int) {
                 for (i64 j = begin; j < end; ++j) {
                   const std::uint8_t* src = images + static_cast<i64>(order[j]) * image;
                   T* dst = out_images + j * image;
                   out_labels[j] = labels[order[j]];
                   if (!aug.enabled) {
                     for (i64 k = 0; k < image; ++k) dst[k] = static_cast<T>(src[k]) / levels;
                     continue;
                   }
                   const AugmentDraw d = augment_draw(aug, j);
                   for (i64 ch = 0; ch < s.c; ++ch) {
                     for (i64 y = 0; y < s.h; ++y) {
                       const i64 sy = y + d.oy - aug.pad;
                       for (i64 x = 0; x < s.w; ++x) {
                         const i64 sx = (d.flip ? s.w - 1 - x : x) + d.ox - aug.pad;
                         const bool inside = sy >= 0 && sy < s.h && sx >= 0 && sx < s.w;
                         dst[ch * plane + y * s.w + x] =
                             inside ? static_cast<T>(src[ch * plane + sy * s.w + sx]) / levels
                                    : T(0);
                       }
                     }
                   }
                 }
               });
}

template void gather_batch<float>(const GatherShape&, const std::uint8_t*, const std::int32_t*,
                                  const std::int32_t*, const Augmentation&, float*, std::int32_t*,
                                  int);
template void gather_batch<double>(const GatherShape&, const std::uint8_t*, const std::int32_t*,
                                   const std::int32_t*, const Augmentation&, double*, std::int32_t*,
                                   int);

}  // namespace rp::cpu
