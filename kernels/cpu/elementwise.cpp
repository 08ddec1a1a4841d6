#include "kernels/cpu/elementwise.h"

#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

template <typename T>
void add_forward(i64 n, const T* a, const T* b, T* y, int threads) {
  parallel_for(threads, n, kElementwiseGrain, [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) y[i] = a[i] + b[i];
  });
}

template <typename T>
void pass_gradient(i64 n, const T* dy, T* dx, GradMode mode, int threads) {
  parallel_for(threads, n, kElementwiseGrain, [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) write_grad(dx[i], dy[i], mode);
  });
}

template <typename T>
void add_backward(i64 n, const T* dy, T* da, T* db, GradMode mode, int threads) {
  if (da != nullptr) pass_gradient(n, dy, da, mode, threads);
  if (db != nullptr) pass_gradient(n, dy, db, mode, threads);
}

template <typename T>
void fill(i64 n, T* x, T value, int threads) {
  parallel_for(threads, n, kElementwiseGrain, [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) x[i] = value;
  });
}

#define RP_INSTANTIATE(T)                                              \
  template void add_forward<T>(i64, const T*, const T*, T*, int);      \
  template void add_backward<T>(i64, const T*, T*, T*, GradMode, int); \
  template void pass_gradient<T>(i64, const T*, T*, GradMode, int);    \
  template void fill<T>(i64, T*, T, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
RP_INSTANTIATE(std::int32_t)
RP_INSTANTIATE(std::uint8_t)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
