// The DLR loss and the margin (dlr.h). Built with --fmad=false (kernels/CMakeLists.txt) so the
// double-precision terms round as the CPU reference's: the results are bit-identical.
#include <cmath>
#include <sstream>

#include "kernels/attack_math.h"
#include "kernels/cuda/dlr.h"
#include "kernels/cuda/launch.cuh"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

template <typename T>
__global__ void dlr_forward_kernel(i64 n, i64 k, const T* z, const std::int32_t* y,
                                   const std::int32_t* t, T* values) {
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const DlrTerms d = dlr_terms(z + i * k, k, y[i], t != nullptr ? t[i] : -1);
    values[i] = d.ok ? static_cast<T>(-d.num / d.den) : static_cast<T>(NAN);
  }
}

template <typename T>
__global__ void dlr_backward_kernel(i64 n, i64 k, const T* z, const std::int32_t* y,
                                    const std::int32_t* t, const T* upstream, T* dz,
                                    bool accumulate) {
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    const DlrTerms d = dlr_terms(z + i * k, k, y[i], t != nullptr ? t[i] : -1);
    T* row = dz + i * k;
    const double up = static_cast<double>(upstream[i]), inv = up / d.den;
    const double den_grad = up * d.num / (d.den * d.den);
    for (i64 j = 0; j < k; ++j) {
      double g = 0;
      if (!d.ok) {
        g = NAN;
      } else {
        if (j == d.y) g -= inv;
        if (j == d.other) g += inv;
        if (j == d.pi1) g += den_grad;
        if (d.pi4 < 0) {
          if (j == d.pi3) g -= den_grad;
        } else {
          if (j == d.pi3) g -= 0.5 * den_grad;
          if (j == d.pi4) g -= 0.5 * den_grad;
        }
      }
      row[j] = accumulate ? row[j] + static_cast<T>(g) : static_cast<T>(g);
    }
  }
}

template <typename T>
__global__ void margin_forward_kernel(i64 n, i64 k, const T* z, const std::int32_t* y, T* values) {
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    values[i] = static_cast<T>(margin_value(z + i * k, k, y[i]));
  }
}

std::string shape_text(i64 n, i64 k) {
  std::ostringstream os;
  os << "logits (" << n << ", " << k << ")";
  return os.str();
}

}  // namespace

template <typename T>
void dlr_forward(CudaHandles* h, i64 n, i64 k, const T* z, const std::int32_t* y,
                 const std::int32_t* t, T* values) {
  if (n == 0) return;
  dlr_forward_kernel<T><<<grid_for(n), kBlock, 0, h->stream>>>(n, k, z, y, t, values);
  check_launch(h, "dlr_forward", shape_text(n, k));
}

template <typename T>
void dlr_backward(CudaHandles* h, i64 n, i64 k, const T* z, const std::int32_t* y,
                  const std::int32_t* t, const T* upstream, T* dz, GradMode mode) {
  if (n == 0) return;
  dlr_backward_kernel<T><<<grid_for(n), kBlock, 0, h->stream>>>(n, k, z, y, t, upstream, dz,
                                                                mode == GradMode::Accumulate);
  check_launch(h, "dlr_backward", shape_text(n, k));
}

template <typename T>
void margin_forward(CudaHandles* h, i64 n, i64 k, const T* z, const std::int32_t* y, T* values) {
  if (n == 0) return;
  margin_forward_kernel<T><<<grid_for(n), kBlock, 0, h->stream>>>(n, k, z, y, values);
  check_launch(h, "margin_forward", shape_text(n, k));
}

#define RP_INSTANTIATE(T)                                                              \
  template void dlr_forward<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*,  \
                               const std::int32_t*, T*);                               \
  template void dlr_backward<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*, \
                                const std::int32_t*, const T*, T*, GradMode);          \
  template void margin_forward<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
