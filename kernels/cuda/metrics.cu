// Classification metrics (metrics.h).
#include <sstream>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/metrics.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

constexpr int kWarpsPerBlock = kBlock / 32;
constexpr int kCountBlock = 1024;  // count_correct is one block: as many warps as allowed

// The CPU's argmax (best = 0; best = j whenever row[j] > row[best]) is the first index of the
// largest non-NaN logit, unless row[0] is NaN: then nothing compares greater and it stays 0.
// Each lane scans its columns in order keeping its first largest non-NaN logit; the warp then
// takes the largest value, the smallest index among equal ones (+0 and -0 are equal, as to the
// CPU's >). Known to every lane.
template <typename T>
__device__ i64 warp_argmax(const T* row, i64 k, int lane) {
  if (k == 0) return 0;  // the CPU's loop does not run: 0, nothing read
  T best = T(0);
  long long at = -1;  // -1: no non-NaN logit seen
  for (i64 j = lane; j < k; j += 32) {
    const T v = row[j];
    if (v == v && (at < 0 || v > best)) {
      best = v;
      at = j;
    }
  }
  for (int o = 16; o > 0; o >>= 1) {
    const T other = __shfl_xor_sync(0xffffffffu, best, o);
    const long long other_at = __shfl_xor_sync(0xffffffffu, at, o);
    const bool wins = other_at >= 0 && (at < 0 || other > best || (other == best && other_at < at));
    if (wins) {
      best = other;
      at = other_at;
    }
  }
  const T first = row[0];
  return first != first ? 0 : static_cast<i64>(at);
}

template <typename T>
__global__ void correct_flags_kernel(i64 n, i64 k, const T* logits, const std::int32_t* labels,
                                     T* correct) {
  const int lane = threadIdx.x & 31;
  const i64 warps = static_cast<i64>(gridDim.x) * (blockDim.x >> 5);
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x >> 5) + (threadIdx.x >> 5); i < n;
       i += warps) {
    const i64 best = warp_argmax(logits + i * k, k, lane);
    if (lane == 0) correct[i] = best == labels[i] ? T(1) : T(0);
  }
}

template <typename T>
__global__ void count_correct_kernel(i64 n, i64 k, const T* logits, const std::int32_t* labels,
                                     T* correct) {
  __shared__ long long partial[kCountBlock / 32];
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const int warps = static_cast<int>(blockDim.x >> 5);
  long long count = 0;
  for (i64 i = warp; i < n; i += warps) count += warp_argmax(logits + i * k, k, lane) == labels[i];
  if (lane == 0) partial[warp] = count;
  __syncthreads();
  if (threadIdx.x == 0) {
    long long total = 0;
    for (int w = 0; w < warps; ++w) total += partial[w];
    *correct = static_cast<T>(total);
  }
}

std::string shape_text(i64 n, i64 k) {
  std::ostringstream os;
  os << "logits (" << n << ", " << k << ")";
  return os.str();
}

}  // namespace

template <typename T>
void correct_flags(CudaHandles* h, i64 n, i64 k, const T* logits, const std::int32_t* labels,
                   T* correct) {
  if (n == 0) return;
  correct_flags_kernel<T>
      <<<grid_for(n, kWarpsPerBlock), kBlock, 0, h->stream>>>(n, k, logits, labels, correct);
  check_launch(h, "correct_flags", shape_text(n, k));
}

template <typename T>
void count_correct(CudaHandles* h, i64 n, i64 k, const T* logits, const std::int32_t* labels,
                   T* correct) {
  // A warp per row up to the block's limit (more would idle). n = 0 still writes the count, 0.
  const int block = static_cast<int>(std::min<i64>(kCountBlock, std::max<i64>(1, n) * 32));
  count_correct_kernel<T><<<1, block, 0, h->stream>>>(n, k, logits, labels, correct);
  check_launch(h, "count_correct", shape_text(n, k));
}

#define RP_INSTANTIATE(T)                                                                    \
  template void correct_flags<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*, T*); \
  template void count_correct<T>(CudaHandles*, i64, i64, const T*, const std::int32_t*, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
