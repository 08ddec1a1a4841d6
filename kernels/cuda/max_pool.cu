// Max pooling (max_pool.h). The geometry's helpers are host code: the launchers pass the
// output size.
#include <sstream>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/max_pool.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

std::string shape_text(const MaxPool2dGeometry& g) {
  std::ostringstream os;
  os << "(" << g.n << ", " << g.c << ", " << g.h << ", " << g.w << "), kernel " << g.kh << "x"
     << g.kw << ", stride " << g.stride_h << "x" << g.stride_w << ", pad " << g.pad_h << "x"
     << g.pad_w;
  return os.str();
}

template <typename T>
__global__ void max_pool_forward_kernel(MaxPool2dGeometry g, i64 ho, i64 wo, i64 count, const T* x,
                                        T* y, std::int32_t* argmax) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 q = e % wo, p = (e / wo) % ho, plane = e / (wo * ho);
    const T* xp = x + plane * g.h * g.w;
    const i64 h0 = max(p * g.stride_h - g.pad_h, i64{0});
    const i64 h1 = min(p * g.stride_h - g.pad_h + g.kh, g.h);
    const i64 w0 = max(q * g.stride_w - g.pad_w, i64{0});
    const i64 w1 = min(q * g.stride_w - g.pad_w + g.kw, g.w);
    T best = -INFINITY;
    i64 best_at = h0 * g.w + w0;
    for (i64 i = h0; i < h1; ++i) {
      for (i64 j = w0; j < w1; ++j) {
        const T v = xp[i * g.w + j];
        if (v > best || isnan(v)) {
          best = v;
          best_at = i * g.w + j;
        }
      }
    }
    y[e] = best;
    argmax[e] = static_cast<std::int32_t>(best_at);
  }
}

template <typename T>
__global__ void max_pool_backward_kernel(MaxPool2dGeometry g, i64 ho, i64 wo, i64 count,
                                         const T* dy, const std::int32_t* argmax, T* dx,
                                         bool accumulate) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 j = e % g.w, i = (e / g.w) % g.h, plane = e / (g.w * g.h);
    const std::int32_t self = static_cast<std::int32_t>(i * g.w + j);
    // The windows that contain (i, j): rows p with p*s - pad <= i < p*s - pad + k.
    const i64 p0 = i + g.pad_h < g.kh ? 0 : (i + g.pad_h - g.kh) / g.stride_h + 1;
    const i64 p1 = min((i + g.pad_h) / g.stride_h + 1, ho);
    const i64 q0 = j + g.pad_w < g.kw ? 0 : (j + g.pad_w - g.kw) / g.stride_w + 1;
    const i64 q1 = min((j + g.pad_w) / g.stride_w + 1, wo);
    const T* dyp = dy + plane * ho * wo;
    const std::int32_t* ap = argmax + plane * ho * wo;
    T sum = accumulate ? dx[e] : T(0);
    for (i64 p = p0; p < p1; ++p) {
      for (i64 q = q0; q < q1; ++q) {
        if (ap[p * wo + q] == self) sum += dyp[p * wo + q];
      }
    }
    dx[e] = sum;
  }
}

}  // namespace

template <typename T>
void max_pool2d_forward(CudaHandles* h, const MaxPool2dGeometry& g, const T* x, T* y,
                        std::int32_t* argmax) {
  const i64 count = g.planes() * g.h_out() * g.w_out();
  if (count == 0) return;
  max_pool_forward_kernel<T>
      <<<grid_for(count), kBlock, 0, h->stream>>>(g, g.h_out(), g.w_out(), count, x, y, argmax);
  check_launch(h, "max_pool2d_forward", shape_text(g));
}

template <typename T>
void max_pool2d_backward(CudaHandles* h, const MaxPool2dGeometry& g, const T* dy,
                         const std::int32_t* argmax, T* dx, GradMode mode) {
  const i64 count = g.planes() * g.h * g.w;
  if (count == 0) return;
  max_pool_backward_kernel<T><<<grid_for(count), kBlock, 0, h->stream>>>(
      g, g.h_out(), g.w_out(), count, dy, argmax, dx, mode == GradMode::Accumulate);
  check_launch(h, "max_pool2d_backward", shape_text(g));
}

#define RP_INSTANTIATE(T)                                                                   \
  template void max_pool2d_forward<T>(CudaHandles*, const MaxPool2dGeometry&, const T*, T*, \
                                      std::int32_t*);                                       \
  template void max_pool2d_backward<T>(CudaHandles*, const MaxPool2dGeometry&, const T*,    \
                                       const std::int32_t*, T*, GradMode);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
