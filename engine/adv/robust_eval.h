// Robust evaluation: clean and adversarial loss and accuracy of a network over a dataset,
// each batch attacked with an untargeted cross-entropy PGD (BN in eval mode throughout).
#pragma once

#include <cstdint>

#include "engine/adv/pgd.h"
#include "engine/data/loader.h"

namespace rp {

struct RobustResult {
  double clean_loss = 0, clean_accuracy = 0;
  double robust_loss = 0, robust_accuracy = 0;
  std::int64_t examples = 0;
};

// The attack must be built for the loader's batch size. Batch b draws its random starts at
// offset b * batch * image size of `rng`.
RobustResult evaluate_robust(Context& ctx, Network& net, PgdAttack& attack, BatchLoader& loader,
                             const AttackParams& params, RngStream rng);

}  // namespace rp
