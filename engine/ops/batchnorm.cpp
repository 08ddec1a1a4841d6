#include "engine/ops/batchnorm.h"

#include <initializer_list>
#include <limits>
#include <utility>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/batchnorm.h"
#endif
#include "kernels/cpu/batchnorm.h"

namespace rp {
namespace {

constexpr const char* kXDims = "(N, C, H, W)";
constexpr const char* kCDims = "(C)";
constexpr double kInf = std::numeric_limits<double>::infinity();

cpu::BatchNormShape shape_of(const Tensor& x) {
  return {x.size(0), x.size(1), x.size(2) * x.size(3)};
}

using Named = std::pair<const char*, const Tensor*>;

// x is a non-empty (N, C, H, W) batch and every named tensor holds one value per channel.
detail::OpArgs& check_channels(detail::OpArgs& a, const Tensor& x,
                               std::initializer_list<Named> per_channel) {
  a.batch("x", x, 4, kXDims);
  for (const auto& [name, t] : per_channel) a.floating(name, *t, Shape{x.size(1)}, kCDims);
  return a;
}

// No output shares memory with another output or with an input - compared by position, since
// a caller may pass one tensor object for two arguments - except the in-place pair allowed
// (y = x forward, dx = dy backward): outputs[0] may be inputs[0] itself.
void check_no_aliasing(detail::OpArgs& a, std::initializer_list<Named> outputs,
                       std::initializer_list<Named> inputs) {
  const Named* out = outputs.begin();
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    for (std::size_t j = i + 1; j < outputs.size(); ++j) {
      a.distinct(out[i].first, *out[i].second, out[j].first, *out[j].second);
    }
    const Named* in = inputs.begin();
    for (std::size_t j = 0; j < inputs.size(); ++j) {
      if (i == 0 && j == 0) {
        a.in_place_or_distinct(out[i].first, *out[i].second, in[j].first, *in[j].second);
      } else {
        a.distinct(out[i].first, *out[i].second, in[j].first, *in[j].second);
      }
    }
  }
}

// The optional gradient outputs of a backward call: dx like x (it may be dy itself), dgamma
// and dbeta per channel.
detail::OpArgs& check_gradients(detail::OpArgs& a, const Tensor& x, const Tensor& dy,
                                const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta) {
  a.floating("dy", dy, x.shape(), kXDims).optional("dx", dx, x.shape(), kXDims);
  a.optional("dgamma", dgamma, Shape{x.size(1)}, kCDims);
  return a.optional("dbeta", dbeta, Shape{x.size(1)}, kCDims);
}

// The fused forms run on the CPU only so far.
void check_fusable(detail::OpArgs& a, Context& ctx, bool fused) {
  RP_CHECK(!fused || ctx.device().is_cpu(), a.op(),
           "the fused BN-add-ReLU form (residual, relu or relu_out) has no CUDA kernel yet; on "
               << ctx.device().str() << " call the op plain, with add_forward, relu_forward or "
               << "relu_backward beside it");
}

// A fused form's extra input (residual or relu_out, when defined): shaped like x and disjoint
// from the output it feeds.
void check_fused_input(detail::OpArgs& a, const Tensor& x, const char* name, const Tensor& t,
                       const char* out_name, const Tensor& out) {
  if (t.defined()) a.floating(name, t, x.shape(), kXDims).distinct(out_name, out, name, t);
}

}  // namespace

void batchnorm2d_forward_train(Context& ctx, const Tensor& x, const Tensor& gamma,
                               const Tensor& beta, const Tensor& running_mean,
                               const Tensor& running_var, const Tensor& y, const Tensor& save_mean,
                               const Tensor& save_invstd, const BatchNormParams& p,
                               const BnEpilogue& epilogue) {
  detail::OpArgs a("batchnorm2d_forward_train", ctx);
  check_channels(a, x,
                 {{"gamma", &gamma},
                  {"beta", &beta},
                  {"running_mean", &running_mean},
                  {"running_var", &running_var},
                  {"save_mean", &save_mean},
                  {"save_invstd", &save_invstd}});
  a.floating("y", y, x.shape(), kXDims);
  // The kernel reads the batch statistics back while it updates the running ones.
  check_no_aliasing(a,
                    {{"y", &y},
                     {"running_mean", &running_mean},
                     {"running_var", &running_var},
                     {"save_mean", &save_mean},
                     {"save_invstd", &save_invstd}},
                    {{"x", &x}, {"gamma", &gamma}, {"beta", &beta}});
  check_fusable(a, ctx, epilogue.fused());
  check_fused_input(a, x, "residual", epilogue.residual, "y", y);
  a.scalar("momentum", p.momentum, 0.0, 1.0).scalar("eps", p.eps, 0.0, kInf);
  RP_CHECK(x.size(0) * x.size(2) * x.size(3) > 1, a.op(),
           "training mode needs more than one value per channel to estimate a variance, found x "
               << x.str());
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
#if RP_CUDA_KERNELS
    if (ctx.device().is_cuda()) {
      cuda::batchnorm2d_forward_train<T>(&ctx.cuda(), shape_of(x), x.data<T>(), gamma.data<T>(),
                                         beta.data<T>(), running_mean.data<T>(),
                                         running_var.data<T>(), y.data<T>(), save_mean.data<T>(),
                                         save_invstd.data<T>(), p.momentum, p.eps);
      return;
    }
#endif
    cpu::batchnorm2d_forward_train<T>(
        shape_of(x), x.data<T>(), gamma.data<T>(), beta.data<T>(), running_mean.data<T>(),
        running_var.data<T>(), y.data<T>(), save_mean.data<T>(), save_invstd.data<T>(), p.momentum,
        p.eps, detail::data_or_null<T>(epilogue.residual), epilogue.relu, ctx.threads());
  });
}

void batchnorm2d_forward_eval(Context& ctx, const Tensor& x, const Tensor& gamma,
                              const Tensor& beta, const Tensor& running_mean,
                              const Tensor& running_var, const Tensor& y, double eps,
                              const BnEpilogue& epilogue) {
  detail::OpArgs a("batchnorm2d_forward_eval", ctx);
  check_channels(a, x,
                 {{"gamma", &gamma},
                  {"beta", &beta},
                  {"running_mean", &running_mean},
                  {"running_var", &running_var}});
  a.floating("y", y, x.shape(), kXDims);
  check_no_aliasing(a, {{"y", &y}},
                    {{"x", &x},
                     {"gamma", &gamma},
                     {"beta", &beta},
                     {"running_mean", &running_mean},
                     {"running_var", &running_var}});
  check_fusable(a, ctx, epilogue.fused());
  check_fused_input(a, x, "residual", epilogue.residual, "y", y);
  a.scalar("eps", eps, 0.0, kInf);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
#if RP_CUDA_KERNELS
    if (ctx.device().is_cuda()) {
      cuda::batchnorm2d_forward_eval<T>(&ctx.cuda(), shape_of(x), x.data<T>(), gamma.data<T>(),
                                        beta.data<T>(), running_mean.data<T>(),
                                        running_var.data<T>(), y.data<T>(), eps);
      return;
    }
#endif
    cpu::batchnorm2d_forward_eval<T>(shape_of(x), x.data<T>(), gamma.data<T>(), beta.data<T>(),
                                     running_mean.data<T>(), running_var.data<T>(), y.data<T>(),
                                     eps, detail::data_or_null<T>(epilogue.residual), epilogue.relu,
                                     ctx.threads());
  });
}

void batchnorm2d_backward_train(Context& ctx, const Tensor& dy, const Tensor& x,
                                const Tensor& gamma, const Tensor& save_mean,
                                const Tensor& save_invstd, const Tensor& dx, const Tensor& dgamma,
                                const Tensor& dbeta, GradMode mode, const Tensor& relu_out) {
  detail::OpArgs a("batchnorm2d_backward_train", ctx);
  check_channels(a, x,
                 {{"gamma", &gamma}, {"save_mean", &save_mean}, {"save_invstd", &save_invstd}});
  check_gradients(a, x, dy, dx, dgamma, dbeta);
  check_no_aliasing(a, {{"dx", &dx}, {"dgamma", &dgamma}, {"dbeta", &dbeta}},
                    {{"dy", &dy},
                     {"x", &x},
                     {"gamma", &gamma},
                     {"save_mean", &save_mean},
                     {"save_invstd", &save_invstd}});
  check_fusable(a, ctx, relu_out.defined());
  check_fused_input(a, x, "relu_out", relu_out, "dx", dx);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
#if RP_CUDA_KERNELS
    if (ctx.device().is_cuda()) {
      cuda::batchnorm2d_backward_train<T>(
          &ctx.cuda(), shape_of(x), dy.data<T>(), x.data<T>(), gamma.data<T>(), save_mean.data<T>(),
          save_invstd.data<T>(), detail::data_or_null<T>(dx), detail::data_or_null<T>(dgamma),
          detail::data_or_null<T>(dbeta), mode);
      return;
    }
#endif
    cpu::batchnorm2d_backward_train<T>(
        shape_of(x), dy.data<T>(), x.data<T>(), gamma.data<T>(), save_mean.data<T>(),
        save_invstd.data<T>(), detail::data_or_null<T>(dx), detail::data_or_null<T>(dgamma),
        detail::data_or_null<T>(dbeta), mode, detail::data_or_null<T>(relu_out), ctx.threads());
  });
}

void batchnorm2d_backward_eval(Context& ctx, const Tensor& dy, const Tensor& x, const Tensor& gamma,
                               const Tensor& running_mean, const Tensor& running_var, double eps,
                               const Tensor& dx, const Tensor& dgamma, const Tensor& dbeta,
                               GradMode mode, const Tensor& relu_out) {
  detail::OpArgs a("batchnorm2d_backward_eval", ctx);
  check_channels(
      a, x, {{"gamma", &gamma}, {"running_mean", &running_mean}, {"running_var", &running_var}});
  check_gradients(a, x, dy, dx, dgamma, dbeta);
  check_no_aliasing(a, {{"dx", &dx}, {"dgamma", &dgamma}, {"dbeta", &dbeta}},
                    {{"dy", &dy},
                     {"x", &x},
                     {"gamma", &gamma},
                     {"running_mean", &running_mean},
                     {"running_var", &running_var}});
  check_fusable(a, ctx, relu_out.defined());
  check_fused_input(a, x, "relu_out", relu_out, "dx", dx);
  a.scalar("eps", eps, 0.0, kInf);
  a.cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
#if RP_CUDA_KERNELS
    if (ctx.device().is_cuda()) {
      cuda::batchnorm2d_backward_eval<T>(
          &ctx.cuda(), shape_of(x), dy.data<T>(), x.data<T>(), gamma.data<T>(),
          running_mean.data<T>(), running_var.data<T>(), eps, detail::data_or_null<T>(dx),
          detail::data_or_null<T>(dgamma), detail::data_or_null<T>(dbeta), mode);
      return;
    }
#endif
    cpu::batchnorm2d_backward_eval<T>(
        shape_of(x), dy.data<T>(), x.data<T>(), gamma.data<T>(), running_mean.data<T>(),
        running_var.data<T>(), eps, detail::data_or_null<T>(dx), detail::data_or_null<T>(dgamma),
        detail::data_or_null<T>(dbeta), mode, detail::data_or_null<T>(relu_out), ctx.threads());
  });
}

}  // namespace rp
