// Max pooling on the GPU: the CUDA twin of kernels/cpu/pool.h's max_pool2d, on the context's
// stream, bit-identical to the CPU reference.
//   forward:  a thread per output element scans its window in the CPU's order (rows, then
//             columns; greater or NaN replaces), so y and argmax are the CPU's.
//   backward: a thread per input pixel gathers, in output raster order, the dy of every window
//             whose argmax is that pixel - the CPU scatter's sums in the CPU's order, with no
//             atomics (deterministic).
#pragma once

#include <cstdint>

#include "engine/core/grad_mode.h"
#include "kernels/pool_geometry.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cuda {

template <typename T>
void max_pool2d_forward(CudaHandles* h, const MaxPool2dGeometry& g, const T* x, T* y,
                        std::int32_t* argmax);
template <typename T>
void max_pool2d_backward(CudaHandles* h, const MaxPool2dGeometry& g, const T* dy,
                         const std::int32_t* argmax, T* dx, GradMode mode);

}  // namespace rp::cuda
