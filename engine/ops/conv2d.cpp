#include "engine/ops/conv2d.h"

#include <algorithm>
#include <cstddef>

#include "engine/core/error.h"
#include "engine/ops/op_args.h"
#include "kernels/conv2d_geometry.h"
#include "kernels/cpu/conv2d.h"
// Plain C++ declarations; their definitions exist in builds with the CUDA kernels only, which
// is where run_on_cudnn calls them.
#include "kernels/cudnn/conv2d.h"

namespace rp {
namespace {

constexpr const char* kXDims = "(N, C_in, H, W)";
constexpr const char* kWDims = "(C_out, C_in, kH, kW)";
constexpr const char* kYDims = "(N, C_out, H_out, W_out)";

Conv2dGeometry geometry(const char* op, const Shape& x, const Shape& w, const Conv2dParams& p) {
  RP_CHECK(x.rank() == 4 && w.rank() == 4, op,
           "expected 4-D x " << kXDims << " and w " << kWDims << ", found x" << x << " and w" << w);
  RP_CHECK(p.stride_h >= 1 && p.stride_w >= 1, op,
           "stride must be >= 1, found (" << p.stride_h << ", " << p.stride_w << ")");
  RP_CHECK(p.pad_h >= 0 && p.pad_w >= 0, op,
           "padding must be >= 0, found (" << p.pad_h << ", " << p.pad_w << ")");
  RP_CHECK(x[1] == w[1], op,
           "x has " << x[1] << " channels " << x << " but w expects C_in = " << w[1] << " " << w);
  RP_CHECK(w[0] > 0 && w[2] > 0 && w[3] > 0, op, "w has an empty dimension " << w);
  RP_CHECK(x[2] + 2 * p.pad_h >= w[2] && x[3] + 2 * p.pad_w >= w[3], op,
           "the " << w[2] << "x" << w[3] << " kernel does not fit the padded " << x[2] << "x"
                  << x[3] << " input (padding " << p.pad_h << ", " << p.pad_w << ")");
  Conv2dGeometry g;
  g.n = x[0];
  g.c_in = x[1];
  g.h = x[2];
  g.w = x[3];
  g.c_out = w[0];
  g.kh = w[2];
  g.kw = w[3];
  g.stride_h = p.stride_h;
  g.stride_w = p.stride_w;
  g.pad_h = p.pad_h;
  g.pad_w = p.pad_w;
  return g;
}

Shape output_shape(const Conv2dGeometry& g) {
  return Shape{g.n, g.c_out, g.h_out(), g.w_out()};
}

template <typename T>
T* workspace_for(Context& ctx, const Conv2dGeometry& g) {
  return static_cast<T*>(
      ctx.workspace(cpu::conv2d_workspace_size<T>(g, ctx.threads()) * sizeof(T)));
}

// On a CUDA context: runs the convolution on cuDNN (its plan is built on first use, which a
// frozen context refuses) and returns true. On the CPU: returns false, nothing run.
bool run_on_cudnn(Context& ctx, cudnn::Conv2dDirection direction, const Conv2dGeometry& g,
                  DType dtype, GradMode mode, const void* a, const void* b, void* out) {
#if RP_CUDA_KERNELS
  if (!ctx.device().is_cuda()) return false;
  CudaHandles* h = &ctx.cuda();
  const cudnn::Conv2dPlanKey key =
      cudnn::conv2d_plan_key(direction, g, dtype, ctx.tf32(), cudnn::conv2d_alignment(a, b, out));
  const std::size_t bytes = cudnn::conv2d_workspace_size(h, key, mode, !ctx.allocations_frozen());
  void* workspace = ctx.workspace(bytes);
  cudnn::conv2d_execute(h, key, mode, a, b, out, workspace, bytes);
  return true;
#else
  (void)ctx, (void)direction, (void)g, (void)dtype, (void)mode, (void)a, (void)b, (void)out;
  return false;
#endif
}

// The workspace bytes of every plan a layer uses, each built now (CUDA contexts only), for
// 16-byte aligned operands: what activations and workspaces always are, and parameters are
// when the channel counts are multiples of 4. Other alignments get their plans on first use.
std::size_t prepare_cudnn(Context& ctx, const Conv2dGeometry& g, DType dtype, bool backward) {
#if RP_CUDA_KERNELS
  using cudnn::Conv2dDirection;
  CudaHandles* h = &ctx.cuda();
  const bool may_build = !ctx.allocations_frozen();
  auto bytes = [&](Conv2dDirection d, GradMode mode) {
    return cudnn::conv2d_workspace_size(h, cudnn::conv2d_plan_key(d, g, dtype, ctx.tf32()), mode,
                                        may_build);
  };
  std::size_t most = bytes(Conv2dDirection::Forward, GradMode::Assign);
  if (backward) {
    // Accumulate runs the Assign plan into scratch: its size bounds both modes.
    most = std::max({most, bytes(Conv2dDirection::BackwardData, GradMode::Accumulate),
                     bytes(Conv2dDirection::BackwardFilter, GradMode::Accumulate)});
  }
  return most;
#else
  (void)ctx, (void)g, (void)dtype, (void)backward;
  return 0;
#endif
}

}  // namespace

Shape conv2d_output_shape(const Shape& x, const Shape& w, const Conv2dParams& p) {
  return output_shape(geometry("conv2d_output_shape", x, w, p));
}

void conv2d_prepare(Context& ctx, const Shape& x, const Shape& w, const Conv2dParams& p,
                    DType dtype, bool backward) {
  const char* op = "conv2d_prepare";
  const Conv2dGeometry g = geometry(op, x, w, p);
  RP_CHECK(g.n >= 1, op, "x " << x << " holds no example");
  RP_CHECK(dtype == DType::F32 || dtype == DType::F64, op,
           "expected a floating dtype (f32 or f64), found " << dtype_name(dtype));
  if (ctx.device().is_cuda()) {
    ctx.reserve_workspace(prepare_cudnn(ctx, g, dtype, backward));
  } else if (dtype == DType::F64) {
    workspace_for<double>(ctx, g);
  } else {
    workspace_for<float>(ctx, g);
  }
}

void conv2d_forward(Context& ctx, const Tensor& x, const Tensor& w, const Tensor& y,
                    const Conv2dParams& p) {
  detail::OpArgs a("conv2d_forward", ctx);
  a.batch("x", x, 4, kXDims).floating("w", w, 4, kWDims);
  const Conv2dGeometry g = geometry(a.op(), x.shape(), w.shape(), p);
  a.floating("y", y, output_shape(g), kYDims).distinct("y", y, "x", x).distinct("y", y, "w", w);
  a.cpu_or_cuda_backend();
  if (run_on_cudnn(ctx, cudnn::Conv2dDirection::Forward, g, a.dtype(), GradMode::Assign,
                   x.raw_data(), w.raw_data(), y.raw_data())) {
    return;
  }
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    cpu::conv2d_forward<T>(g, x.data<T>(), w.data<T>(), y.data<T>(), workspace_for<T>(ctx, g),
                           ctx.threads());
  });
}

void conv2d_backward_data(Context& ctx, const Tensor& dy, const Tensor& w, const Tensor& dx,
                          const Conv2dParams& p, GradMode mode) {
  detail::OpArgs a("conv2d_backward_data", ctx);
  a.batch("dx", dx, 4, kXDims).floating("w", w, 4, kWDims);
  const Conv2dGeometry g = geometry(a.op(), dx.shape(), w.shape(), p);
  a.floating("dy", dy, output_shape(g), kYDims)
      .distinct("dx", dx, "dy", dy)
      .distinct("dx", dx, "w", w);
  a.cpu_or_cuda_backend();
  if (run_on_cudnn(ctx, cudnn::Conv2dDirection::BackwardData, g, a.dtype(), mode, dy.raw_data(),
                   w.raw_data(), dx.raw_data())) {
    return;
  }
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    cpu::conv2d_backward_data<T>(g, dy.data<T>(), w.data<T>(), dx.data<T>(), mode,
                                 workspace_for<T>(ctx, g), ctx.threads());
  });
}

void conv2d_backward_filter(Context& ctx, const Tensor& x, const Tensor& dy, const Tensor& dw,
                            const Conv2dParams& p, GradMode mode) {
  detail::OpArgs a("conv2d_backward_filter", ctx);
  a.batch("x", x, 4, kXDims).floating("dw", dw, 4, kWDims);
  const Conv2dGeometry g = geometry(a.op(), x.shape(), dw.shape(), p);
  a.floating("dy", dy, output_shape(g), kYDims)
      .distinct("dw", dw, "x", x)
      .distinct("dw", dw, "dy", dy);
  a.cpu_or_cuda_backend();
  if (run_on_cudnn(ctx, cudnn::Conv2dDirection::BackwardFilter, g, a.dtype(), mode, x.raw_data(),
                   dy.raw_data(), dw.raw_data())) {
    return;
  }
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    cpu::conv2d_backward_filter<T>(g, x.data<T>(), dy.data<T>(), dw.data<T>(), mode,
                                   workspace_for<T>(ctx, g), ctx.threads());
  });
}

}  // namespace rp
