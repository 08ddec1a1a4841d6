// Where a network's parameters go when it is built.
#pragma once

#include <cstdint>

#include "engine/core/device.h"

namespace rp {

// Allocated on `device` and initialized from `seed`; or, with plan_only, only registered (names
// and shapes, no memory): what lets a checkpoint be checked against every tensor a network would
// hold before the network is allocated.
struct BuildTarget {
  Device device = Device::cpu();
  std::uint64_t seed = 0;
  bool plan_only = false;
};

}  // namespace rp
