// How a backward op writes a gradient output: Assign overwrites it (=), Accumulate adds to it
// (+=). Every gradient output of every op takes one, mapping directly onto cuDNN's and
// cuBLAS's beta = 0 / beta = 1. Accumulate serves residual branches and gradient
// accumulation across micro-batches; Assign saves the memset.
#pragma once

namespace rp {

enum class GradMode { Assign, Accumulate };

}  // namespace rp
