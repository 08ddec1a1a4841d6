#include <nvtx3/nvToolsExt.h>

#include "engine/core/cuda_ranges.h"

namespace rp {

void cuda_range_push(const char* name) {
  nvtxRangePushA(name);
}

void cuda_range_pop() {
  nvtxRangePop();
}

}  // namespace rp
