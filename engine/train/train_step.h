// One SGD step on a batch, as the trainer takes it (and the benchmarks time it): forward in
// train mode, per-example cross-entropy and its mean, the correct count, backward to the
// parameters from the mean loss, then one SGD step over the contiguous parameter buffer.
// Buffers are planned for batches of up to max_batch; a step allocates nothing and never
// synchronizes with the host: the mean loss and the correct count land in a device-side
// stats row, read whenever the caller chooses.
#pragma once

#include <cstdint>

#include "engine/core/context.h"
#include "engine/nn/network.h"
#include "engine/ops/sgd.h"

namespace rp {

class TrainStep {
 public:
  TrainStep(Network& net, Device device, std::int64_t max_batch);

  // x (n, C, H, W) in [0, 1], y (n) i32; stats (2): mean loss, correct count (the network's
  // dtype). momentum: the optimizer's buffer, shaped like the parameters.
  void run(Context& ctx, const Tensor& x, const Tensor& y, const SgdParams& sgd,
           const Tensor& momentum, const Tensor& stats);

 private:
  Network& net_;
  std::int64_t max_batch_;
  Tensor losses_, dlosses_, dlogits_;  // (max_batch), (max_batch), (max_batch, classes)
};

}  // namespace rp
