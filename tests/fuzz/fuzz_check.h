// What the fuzz harnesses do with a file the reader accepted: name every tensor and scalar,
// read the tensors that are readable (up to a size, so a fuzzed shape cannot ask for more
// memory than the sanitizers allow) and serialize the scalars. rp::Error is a documented
// refusal; any other exception, a crash or a sanitizer report is a finding.
#pragma once

#include <cstdint>
#include <string>

#include "weights/torch_file.h"

namespace rp::fuzz {

inline void exercise(const TorchFile& file) {
  for (const auto& [name, tensor] : file.tensors()) {
    if (!tensor.problem.empty()) continue;
    std::int64_t numel = 1;
    for (const std::int64_t n : tensor.shape) numel *= n;  // parse() bounded the product
    if (numel <= (std::int64_t{1} << 20)) {
      (void)file.read_f64(name);
      (void)file.read_f32(name);
    }
  }
  (void)file.scalars().dump();
  (void)std::string(file.format());
}

}  // namespace rp::fuzz
