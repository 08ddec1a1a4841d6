// Gathering a batch (gather.h). Each output element is one expression of one byte (a
// conversion and a division by 255, correctly rounded on both sides; --fmad=false besides, as
// for the other bit-exact kernels), so the GPU batch equals the CPU's bit for bit.
#include <cmath>
#include <sstream>

#include "kernels/cuda/gather.h"
#include "kernels/cuda/launch.cuh"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

// A block per example: the index check and the augmentation draw are per example, the pixels
// are shared among the block's threads (consecutive threads write consecutive pixels).
template <typename T>
__global__ void gather_kernel(GatherShape s, const std::uint8_t* images, const std::int32_t* labels,
                              const std::int32_t* order, Augmentation aug, T* out_images,
                              std::int32_t* out_labels) {
  const i64 plane = s.h * s.w, image = s.c * plane;
  const T levels = T(255);  // divided, as the CPU reference and torchvision's ToTensor do
  for (i64 j = blockIdx.x; j < s.n; j += gridDim.x) {
    const std::int32_t index = order[j];
    T* dst = out_images + j * image;
    if (index < 0 || index >= s.m) {  // not checked on the host: see gather.h
      for (i64 e = threadIdx.x; e < image; e += blockDim.x) dst[e] = static_cast<T>(NAN);
      if (threadIdx.x == 0) out_labels[j] = -1;
      continue;
    }
    const std::uint8_t* src = images + static_cast<i64>(index) * image;
    if (threadIdx.x == 0) out_labels[j] = labels[index];
    if (!aug.enabled) {
      for (i64 e = threadIdx.x; e < image; e += blockDim.x)
        dst[e] = static_cast<T>(src[e]) / levels;
      continue;
    }
    const cpu::AugmentDraw d = cpu::augment_draw(aug, j);
    for (i64 e = threadIdx.x; e < image; e += blockDim.x) {
      const i64 ch = e / plane, y = (e - ch * plane) / s.w, x = e - ch * plane - y * s.w;
      const i64 sy = y + d.oy - aug.pad;
      const i64 sx = (d.flip ? s.w - 1 - x : x) + d.ox - aug.pad;
      const bool inside = sy >= 0 && sy < s.h && sx >= 0 && sx < s.w;
      dst[e] = inside ? static_cast<T>(src[ch * plane + sy * s.w + sx]) / levels : T(0);
    }
  }
}

std::string shape_text(const GatherShape& s) {
  std::ostringstream os;
  os << "images (" << s.m << ", " << s.c << ", " << s.h << ", " << s.w << "), batch " << s.n;
  return os.str();
}

}  // namespace

template <typename T>
void gather_batch(CudaHandles* h, const GatherShape& s, const std::uint8_t* images,
                  const std::int32_t* labels, const std::int32_t* order, const Augmentation& aug,
                  T* out_images, std::int32_t* out_labels) {
  if (s.n == 0) return;
  const unsigned grid = static_cast<unsigned>(std::max<i64>(1, std::min<i64>(s.n, 65535)));
  gather_kernel<T>
      <<<grid, kBlock, 0, h->stream>>>(s, images, labels, order, aug, out_images, out_labels);
  check_launch(h, "gather_batch", shape_text(s));
}

#define RP_INSTANTIATE(T)                                                                          \
  template void gather_batch<T>(CudaHandles*, const GatherShape&, const std::uint8_t*,             \
                                const std::int32_t*, const std::int32_t*, const Augmentation&, T*, \
                                std::int32_t*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
