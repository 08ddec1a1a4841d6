// Writing one gradient element under a GradMode: = for Assign, += for Accumulate.
#pragma once

#include "engine/core/grad_mode.h"

namespace rp::cpu {

template <typename T>
inline void write_grad(T& out, T value, GradMode mode) {
  if (mode == GradMode::Assign) {
    out = value;
  } else {
    out += value;
  }
}

}  // namespace rp::cpu
