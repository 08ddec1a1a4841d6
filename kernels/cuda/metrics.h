// Classification metrics on the GPU: the CUDA twins of kernels/cpu/metrics.h. A warp per row
// finds the argmax with the CPU's tie and NaN rules (the first maximum wins; a NaN at k = 0
// makes 0 the argmax, a NaN elsewhere is passed over), so the flags and the count are exact.
//   correct_flags   correct (n) = [argmax == label], a warp per row.
//   count_correct   correct (1) = the number of such rows: one launch of a single block whose
//                   warps share the rows and reduce their counts in shared memory - the scalar
//                   is written (=), never accumulated, so no zeroing launch and no atomics.
// A label outside [0, k) is simply never equal to the argmax (as on the CPU).
#pragma once

#include <cstdint>

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

template <typename T>
void correct_flags(CudaHandles* h, std::int64_t n, std::int64_t k, const T* logits,
                   const std::int32_t* labels, T* correct);
template <typename T>
void count_correct(CudaHandles* h, std::int64_t n, std::int64_t k, const T* logits,
                   const std::int32_t* labels, T* correct);

}  // namespace rp::cuda
