// Square Attack's Linf proposals (square.h). Built with --fmad=false (kernels/CMakeLists.txt):
// bit-identical to the CPU reference.
#include <sstream>

#include "kernels/attack_math.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/square.h"
#include "kernels/perturb_math.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

template <typename T>
__global__ void init_linf_kernel(i64 count, i64 h, i64 w, const T* x0, T eps, RngStream rng,
                                 T* out) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 plane = e / (h * w), q = e % w;
    const T sign = square_sign<T>(rng, static_cast<std::uint64_t>(plane * w + q));
    out[e] = clamp01(x0[e] + eps * sign);
  }
}

template <typename T>
__global__ void propose_linf_kernel(i64 count, i64 h, i64 w, const T* x0, const T* x_best, T eps,
                                    SquareWindow win, RngStream rng, T* out) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 plane = e / (h * w), r = (e / w) % h, q = e % w;
    const bool inside =
        r >= win.top && r < win.top + win.side && q >= win.left && q < win.left + win.side;
    out[e] = inside ? square_vertex_value(x_best[e], x0[e], eps,
                                          square_sign<T>(rng, static_cast<std::uint64_t>(plane)))
                    : x_best[e];
  }
}

std::string shape_text(const SquareShape& s) {
  std::ostringstream os;
  os << "x (" << s.n << ", " << s.c << ", " << s.h << ", " << s.w << ")";
  return os.str();
}

}  // namespace

template <typename T>
void square_init_linf(CudaHandles* h, const SquareShape& s, const T* x0, double eps, RngStream rng,
                      T* out) {
  const i64 count = s.n * s.c * s.h * s.w;
  if (count == 0) return;
  init_linf_kernel<T><<<grid_for(count), kBlock, 0, h->stream>>>(count, s.h, s.w, x0,
                                                                 static_cast<T>(eps), rng, out);
  check_launch(h, "square_init_linf", shape_text(s));
}

template <typename T>
void square_propose_linf(CudaHandles* h, const SquareShape& s, const T* x0, const T* x_best,
                         double eps, const SquareWindow& win, RngStream rng, T* out) {
  const i64 count = s.n * s.c * s.h * s.w;
  if (count == 0) return;
  propose_linf_kernel<T><<<grid_for(count), kBlock, 0, h->stream>>>(
      count, s.h, s.w, x0, x_best, static_cast<T>(eps), win, rng, out);
  check_launch(h, "square_propose_linf", shape_text(s));
}

#define RP_INSTANTIATE(T)                                                                          \
  template void square_init_linf<T>(CudaHandles*, const SquareShape&, const T*, double, RngStream, \
                                    T*);                                                           \
  template void square_propose_linf<T>(CudaHandles*, const SquareShape&, const T*, const T*,       \
                                       double, const SquareWindow&, RngStream, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
