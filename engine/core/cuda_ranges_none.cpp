#include "engine/core/cuda_ranges.h"

namespace rp {

void cuda_range_push(const char*) {}
void cuda_range_pop() {}

}  // namespace rp
