// The linear layer's three products on any context, checked against long-double references
// within their error bound (gemm_reference.h): used by the CPU test and by the GPU test, so
// both backends are held to the same exact maths rather than to each other.
#pragma once

#include <cstdint>

#include "engine/core/context.h"
#include "kernels/cpu/linear.h"

namespace rp::test {

// Forward (with and without bias), backward-data and backward-weight (both GradModes) for
// shape s in dtype dt on ctx's device; inputs fresh from `seed`, outputs poisoned first.
void check_linear_products(Context& ctx, const cpu::LinearShape& s, DType dt, std::uint64_t seed);

}  // namespace rp::test
