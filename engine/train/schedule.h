// Learning-rate schedules, as functions of training progress t = epoch + i / iterations (the
// epoch counted from 0, i the iteration within it, 1-based as fast_adversarial steps it).
//
//   step      lr * gamma^floor(epoch / k)         per epoch (the robustness library's StepLR)
//   onecycle  piecewise linear 0 -> lr at 2/5 of the epochs -> 0, per iteration
//             (fast_adversarial's np.interp([t], [0, 2E/5, E], [0, lr, 0]))
//   cosine    lr (1 + cos(pi t / E)) / 2, per iteration
#pragma once

#include <cstdint>
#include <string>

namespace rp {

struct LrSchedule {
  std::string kind = "step";
  double lr = 0.1;
  std::int64_t epochs = 1;
  std::int64_t step = 50;
  double gamma = 0.1;

  // lr for iteration `iteration` (0-based) of `iterations` in epoch `epoch` (0-based).
  double at(std::int64_t epoch, std::int64_t iteration, std::int64_t iterations) const;
};

}  // namespace rp
