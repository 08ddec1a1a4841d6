#include "kernels/cpu/activation.h"

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

template <typename T>
void relu_forward(i64 n, const T* x, T* y, int threads) {
  parallel_for(threads, n, kElementwiseGrain, [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) y[i] = x[i] < T(0) ? T(0) : x[i];
  });
}

template <typename T>
void relu_backward(i64 n, const T* y, const T* dy, T* dx, GradMode mode, int threads) {
  parallel_for(threads, n, kElementwiseGrain, [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) write_grad(dx[i], y[i] > T(0) ? dy[i] : T(0), mode);
  });
}

#define RP_INSTANTIATE(T)                                \
  template void relu_forward<T>(i64, const T*, T*, int); \
  template void relu_backward<T>(i64, const T*, const T*, T*, GradMode, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
