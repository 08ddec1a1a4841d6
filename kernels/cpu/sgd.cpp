#include "kernels/cpu/sgd.h"

#include "kernels/cpu/elementwise.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {

using i64 = std::int64_t;

template <typename T>
void sgd_step(i64 n, T* param, const T* grad, T* momentum_buf, const SgdHyper& h, int threads) {
  const T lr = static_cast<T>(h.lr), mu = static_cast<T>(h.momentum);
  const T wd = static_cast<T>(h.weight_decay);
  const bool use_momentum = h.momentum != 0.0;
  parallel_for(threads, n, kElementwiseGrain, [&](i64 begin, i64 end, int) {
    for (i64 i = begin; i < end; ++i) {
      // As PyTorch: no decay term at all when weight_decay is 0 (0 * inf would be NaN).
      T d = h.weight_decay != 0.0 ? grad[i] + wd * param[i] : grad[i];
      if (use_momentum) {
        const T buf = mu * momentum_buf[i] + d;
        momentum_buf[i] = buf;
        d = h.nesterov ? d + mu * buf : buf;
      }
      param[i] = param[i] - lr * d;
    }
  });
}

template void sgd_step<float>(i64, float*, const float*, float*, const SgdHyper&, int);
template void sgd_step<double>(i64, double*, const double*, double*, const SgdHyper&, int);

}  // namespace rp::cpu
