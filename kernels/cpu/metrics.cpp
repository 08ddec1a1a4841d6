#include "kernels/cpu/metrics.h"

namespace rp::cpu {

template <typename T>
void count_correct(std::int64_t n, std::int64_t k, const T* logits, const std::int32_t* labels,
                   T* correct) {
  std::int64_t count = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const T* row = logits + i * k;
    std::int64_t best = 0;
    for (std::int64_t j = 1; j < k; ++j) {
      if (row[j] > row[best]) best = j;
    }
    count += best == labels[i];
  }
  *correct = static_cast<T>(count);
}

template void count_correct<float>(std::int64_t, std::int64_t, const float*, const std::int32_t*,
                                   float*);
template void count_correct<double>(std::int64_t, std::int64_t, const double*, const std::int32_t*,
                                    double*);

}  // namespace rp::cpu
