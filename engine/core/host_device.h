// RP_HOST_DEVICE marks functions that compile for both the CPU and the GPU, so that the CPU
// reference and the CUDA kernels share one definition (the RNG, small numeric helpers).
#pragma once

#if defined(__CUDACC__)
#define RP_HOST_DEVICE __host__ __device__
#else
#define RP_HOST_DEVICE
#endif
