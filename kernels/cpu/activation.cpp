#include "kernels/cpu/activation.h"

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

template <typename T>
void relu_forward(i64 n, const T* x, T* y, int threads) {
  parallel_for(threads, n, kElementwiseGrain, [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];
  });
}

namespace {

// dx (=|+=) dy where y > 0, else 0, over [begin, end). Both loads are unconditional and the
// pointers are locals, so the select compiles to vector compares and blends; a branch on the
// sign of y, taken at random, made this the slowest elementwise pass of a training step.
template <typename T>
void relu_grad_range(i64 begin, i64 end, const T* y, const T* dy, T* dx, GradMode mode) {
  if (mode == GradMode::Assign) {
    for (i64 i = begin; i < end; ++i) {
      const T g = dy[i];
      dx[i] = y[i] > T(0) ? g : T(0);
    }
  } else {
    for (i64 i = begin; i < end; ++i) {
      const T g = dy[i];
      dx[i] += y[i] > T(0) ? g : T(0);
    }
  }
}

}  // namespace

template <typename T>
void relu_backward(i64 n, const T* y, const T* dy, T* dx, GradMode mode, int threads) {
  parallel_for(threads, n, kElementwiseGrain,
               [&](i64 begin, i64 end, int) { relu_grad_range(begin, end, y, dy, dx, mode); });
}

#define RP_INSTANTIATE(T)                                \
  template void relu_forward<T>(i64, const T*, T*, int); \
  template void relu_backward<T>(i64, const T*, const T*, T*, GradMode, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
