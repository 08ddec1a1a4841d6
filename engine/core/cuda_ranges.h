// NVTX ranges (the CUDA toolkit's header-only nvtx3), so Nsight Systems timelines read by
// layer, op and phase. No-ops in builds without CUDA, and cheap without a profiler attached.
#pragma once

namespace rp {

void cuda_range_push(const char* name);
void cuda_range_pop();

}  // namespace rp
