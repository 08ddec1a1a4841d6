// 2-D convolution on cuDNN's graph API: the GPU twin of kernels/cpu/conv2d.h (same maths, same
// = / += semantics), built on NVIDIA's cudnn-frontend v1 (graph::Graph). This header exposes
// none of the frontend's types nor cuDNN's: only conv2d.cpp includes the frontend, and g++ alone
// compiles it (nvcc cannot digest it).
//
//   forward          y  = conv(x, w)              x (N, C_in, H, W)   w (C_out, C_in, kH, kW)
//   backward_data    dx (=|+=) conv_dgrad(dy, w)  dy (N, C_out, H_out, W_out)
//   backward_filter  dw (=|+=) conv_wgrad(x, dy)
//
// One cuDNN graph and execution plan per Conv2dPlanKey, built on first use and cached in the
// context's CudaHandles (conv_plans), so a loop that repeats shapes never builds one. Engines
// are chosen by cuDNN's heuristics (mode A, then FALLBACK) among those whose numerical notes
// allow exact fp32 (or fp64) arithmetic and determinism: TF32 tensor-core engines only when
// the key's tf32 says so (Context::tf32()), non-deterministic engines never.
//
// cuDNN's convolution operations write their output (beta = 0; the frontend offers no other).
// Accumulate (+=) runs the same plan into scratch at the start of the workspace, then adds the
// scratch to the output (cuBLAS axpy with alpha = 1, an exactly rounded add) on the same
// stream: one extra pass over the output, and every engine stays available, where a fused
// dgrad/wgrad + add graph would need runtime-fusion engines that fp32 NCHW rarely has.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/core/dtype.h"
#include "engine/core/grad_mode.h"
#include "engine/core/tensor.h"
#include "kernels/conv2d_geometry.h"

namespace rp {
struct CudaHandles;
}

namespace rp::cudnn {

enum class Conv2dDirection : std::uint8_t { Forward, BackwardData, BackwardFilter };

// Everything a cuDNN graph (hence a plan) depends on. The grad mode is not part of it: both
// modes run the same graph (see above); only the workspace differs.
struct Conv2dPlanKey {
  Conv2dDirection direction = Conv2dDirection::Forward;
  Conv2dGeometry g;
  std::int64_t dilation_h = 1, dilation_w = 1;  // the models use none; cuDNN takes it anyway
  DType dtype = DType::F32;
  Layout layout = Layout::NCHW;
  bool tf32 = false;  // allow TF32 tensor-core engines (F32 only)
  // Bytes every operand's address is a multiple of (4, 8 or 16): cuDNN chooses engines by it.
  // Activations and workspaces are 16-aligned; a parameter packed after an odd-sized one in
  // the parameter block may not be, and gets its own plan.
  std::int64_t alignment = 16;

  bool operator==(const Conv2dPlanKey& o) const;
  bool operator!=(const Conv2dPlanKey& o) const { return !(*this == o); }
};

struct Conv2dPlanKeyHash {
  std::size_t operator()(const Conv2dPlanKey& k) const noexcept;
};

Conv2dPlanKey conv2d_plan_key(Conv2dDirection direction, const Conv2dGeometry& g, DType dtype,
                              bool tf32, std::int64_t alignment = 16);
// The largest of 16, 8, 4 bytes that divides all three addresses (a key's alignment).
std::int64_t conv2d_alignment(const void* a, const void* b, const void* out);

// The public op a direction implements ("conv2d_forward", ...), for messages.
const char* conv2d_op_name(Conv2dDirection direction);
// "f32 NCHW x[8,64,32,32] w[128,64,3,3] -> y[8,128,16,16] stride (2,2) pad (1,1) dilation
// (1,1) fp32 math"
std::string conv2d_describe(const Conv2dPlanKey& key);

// Throws rp::Error naming the op when no cuDNN graph of ours can express the key (dtype, layout,
// empty or non-fitting shapes, a TF32 request on F64). No GPU needed.
void conv2d_check_supported(const Conv2dPlanKey& key);

// Builds the key's graph and runs the frontend's validate(), which needs no cuDNN handle and
// no GPU: the graph is well formed (shapes, strides, attributes). Throws rp::Error otherwise.
void conv2d_validate_graph(const Conv2dPlanKey& key);

// Bytes of workspace a call with this key and mode needs: the plan's own plus, for Accumulate,
// a scratch copy of the output. Builds and caches the plan on first use; when it is not cached
// and `may_build` is false (allocations frozen), throws rp::Error saying to prepare first.
std::size_t conv2d_workspace_size(CudaHandles* h, const Conv2dPlanKey& key, GradMode mode,
                                  bool may_build);

// Runs the cached plan of `key` (conv2d_workspace_size first) on the handles' stream. The
// operands per direction, all dense in key.layout with key.dtype elements:
//   Forward         a = x,   b = w,   out = y        (out is assigned; mode must be Assign)
//   BackwardData    a = dy,  b = w,   out = dx
//   BackwardFilter  a = x,   b = dy,  out = dw
// `workspace` holds at least conv2d_workspace_size(key, mode) bytes.
void conv2d_execute(CudaHandles* h, const Conv2dPlanKey& key, GradMode mode, const void* a,
                    const void* b, void* out, void* workspace, std::size_t workspace_bytes);

// Plans cached in these handles (tests check that repeated shapes reuse them).
std::size_t conv2d_cached_plans(CudaHandles* h);

}  // namespace rp::cudnn
