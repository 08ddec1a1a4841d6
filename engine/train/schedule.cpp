#include "engine/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace rp {

double LrSchedule::at(std::int64_t epoch, std::int64_t iteration, std::int64_t iterations) const {
  const double e = static_cast<double>(epochs);
  const double t = static_cast<double>(epoch) +
                   static_cast<double>(iteration + 1) / static_cast<double>(iterations);
  if (kind == "step") return lr * std::pow(gamma, static_cast<double>(epoch / step));
  if (kind == "onecycle") {
    // np.interp with integer breakpoints, epochs * 2 // 5 as fast_adversarial writes it.
    const double peak = static_cast<double>(epochs * 2 / 5);
    if (t <= peak) return peak > 0 ? lr * t / peak : lr;
    return std::max(0.0, lr * (e - t) / (e - peak));
  }
  if (kind == "cosine")
    return lr * 0.5 * (1 + std::cos(3.14159265358979323846 * std::min(t, e) / e));
  RP_FAIL("LrSchedule", "unknown schedule '" << kind << "' (step, onecycle, cosine)");
}

}  // namespace rp
