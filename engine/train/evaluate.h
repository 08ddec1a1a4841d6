// Clean evaluation: loss and accuracy of a network on a dataset, BN in eval mode.
#pragma once

#include <cstdint>

#include "engine/core/context.h"
#include "engine/data/loader.h"
#include "engine/nn/network.h"

namespace rp {

struct EvalResult {
  double loss = 0;      // mean cross-entropy
  double accuracy = 0;  // fraction correct
  std::int64_t examples = 0;
};

// The network must be prepared for the loader's batch size.
EvalResult evaluate(Context& ctx, Network& net, BatchLoader& loader);

}  // namespace rp
