// Static work splitting for the CPU reference.
//
// parallel_for splits [0, n) into `threads` contiguous chunks, one per thread, so which thread
// computes what - and therefore every floating-point result - depends only on (n, threads),
// never on timing. Reductions are written so each output is summed by one thread in a fixed
// order; where partial sums per thread are unavoidable they are combined in thread order.
// Eigen's own threading is disabled (EIGEN_DONT_PARALLELIZE): all parallelism is here.
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

namespace rp::cpu {

// Chunks parallel_for splits n items into: the number of per-chunk scratch slots needed.
// Fewer than `threads` when the work is too small to pay for threads (< `grain` items each).
inline int parallel_chunks(int threads, std::int64_t n, std::int64_t grain) {
  if (n <= 0) return 1;
  const std::int64_t useful = std::max<std::int64_t>(1, n / std::max<std::int64_t>(grain, 1));
  return static_cast<int>(std::min<std::int64_t>(std::max(threads, 1), useful));
}

// body(begin, end, chunk) for each of parallel_chunks(threads, n, grain) contiguous chunks.
// The partition is fixed even if OpenMP grants fewer threads (nesting, limits): a thread then
// runs several chunks.
template <typename Body>
void parallel_for(int threads, std::int64_t n, std::int64_t grain, Body&& body) {
  if (n <= 0) return;
  const int chunks = parallel_chunks(threads, n, grain);
  if (chunks == 1) {
    body(std::int64_t{0}, n, 0);
    return;
  }
#pragma omp parallel num_threads(chunks)
  {
    for (int c = omp_get_thread_num(); c < chunks; c += omp_get_num_threads()) {
      const std::int64_t begin = n * c / chunks;
      const std::int64_t end = n * (c + 1) / chunks;
      if (begin < end) body(begin, end, c);
    }
  }
}

}  // namespace rp::cpu
