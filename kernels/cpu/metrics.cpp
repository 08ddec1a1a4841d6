#include "kernels/cpu/metrics.h"

namespace rp::cpu {

namespace {

// The first maximum, as torch.argmax on the CPU.
template <typename T>
std::int64_t argmax(const T* row, std::int64_t k) {
  std::int64_t best = 0;
  for (std::int64_t j = 1; j < k; ++j) {
    if (row[j] > row[best]) best = j;
  }
  return best;
}

}  // namespace

template <typename T>
void correct_flags(std::int64_t n, std::int64_t k, const T* logits, const std::int32_t* labels,
                   T* correct, int /*threads*/) {
  for (std::int64_t i = 0; i < n; ++i)
    correct[i] = argmax(logits + i * k, k) == labels[i] ? T(1) : T(0);
}

template <typename T>
void count_correct(std::int64_t n, std::int64_t k, const T* logits, const std::int32_t* labels,
                   T* correct, int /*threads*/) {
  std::int64_t count = 0;
  for (std::int64_t i = 0; i < n; ++i) count += argmax(logits + i * k, k) == labels[i];
  *correct = static_cast<T>(count);
}

template void correct_flags<float>(std::int64_t, std::int64_t, const float*, const std::int32_t*,
                                   float*, int);
template void correct_flags<double>(std::int64_t, std::int64_t, const double*, const std::int32_t*,
                                    double*, int);
template void count_correct<float>(std::int64_t, std::int64_t, const float*, const std::int32_t*,
                                   float*, int);
template void count_correct<double>(std::int64_t, std::int64_t, const double*, const std::int32_t*,
                                    double*, int);

}  // namespace rp::cpu
