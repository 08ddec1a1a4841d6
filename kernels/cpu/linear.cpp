#include "kernels/cpu/linear.h"

#include <algorithm>

#include "kernels/cpu/eigen_maps.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

namespace {
// Rows per thread so that each thread gets at least ~64k multiply-adds.
i64 row_grain(i64 work_per_row) {
  return std::max<i64>(1, 65536 / std::max<i64>(1, work_per_row));
}
}  // namespace

template <typename T>
void linear_forward(const LinearShape& s, const T* x, const T* w, const T* b, T* y, int threads) {
  const auto W = matrix(w, s.out, s.in);
  parallel_for(threads, s.n, row_grain(s.in * s.out), [&](i64 begin, i64 end, int) {
    auto Y = matrix(y + begin * s.out, end - begin, s.out);
    Y.noalias() = matrix(x + begin * s.in, end - begin, s.in) * W.transpose();
    if (b != nullptr) {
      Y.rowwise() += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(
          b, static_cast<Eigen::Index>(s.out));
    }
  });
}

template <typename T>
void linear_backward_data(const LinearShape& s, const T* dy, const T* w, T* dx, GradMode mode,
                          int threads) {
  const auto W = matrix(w, s.out, s.in);
  parallel_for(threads, s.n, row_grain(s.in * s.out), [&](i64 begin, i64 end, int) {
    auto DX = matrix(dx + begin * s.in, end - begin, s.in);
    const auto DY = matrix(dy + begin * s.out, end - begin, s.out);
    if (mode == GradMode::Assign) {
      DX.noalias() = DY * W;
    } else {
      DX.noalias() += DY * W;
    }
  });
}

template <typename T>
void linear_backward_weight(const LinearShape& s, const T* x, const T* dy, T* dw, T* db,
                            GradMode mode, int threads) {
  const auto X = matrix(x, s.n, s.in);
  const auto DY = matrix(dy, s.n, s.out);
  // Split the output features: thread t owns rows [begin, end) of dw and entries of db.
  parallel_for(threads, s.out, row_grain(s.n * s.in), [&](i64 begin, i64 end, int) {
    auto DW = matrix(dw + begin * s.in, end - begin, s.in);
    const auto DY_cols =
        DY.middleCols(static_cast<Eigen::Index>(begin), static_cast<Eigen::Index>(end - begin));
    if (mode == GradMode::Assign) {
      DW.noalias() = DY_cols.transpose() * X;
    } else {
      DW.noalias() += DY_cols.transpose() * X;
    }
    if (db == nullptr) return;
    for (i64 o = begin; o < end; ++o) {
      double sum = 0;
      for (i64 r = 0; r < s.n; ++r) sum += static_cast<double>(dy[r * s.out + o]);
      write_grad(db[o], static_cast<T>(sum), mode);
    }
  });
}

#define RP_INSTANTIATE(T)                                                                     \
  template void linear_forward<T>(const LinearShape&, const T*, const T*, const T*, T*, int); \
  template void linear_backward_data<T>(const LinearShape&, const T*, const T*, T*, GradMode, \
                                        int);                                                 \
  template void linear_backward_weight<T>(const LinearShape&, const T*, const T*, T*, T*,     \
                                          GradMode, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
