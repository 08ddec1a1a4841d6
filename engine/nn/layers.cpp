#include "engine/nn/layers.h"

#include <cmath>

#include "engine/core/error.h"
#include "engine/ops/activation.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/linear.h"
#include "engine/ops/normalize.h"

namespace rp {

Conv2dLayer Conv2dLayer::create(ParameterStore& store, const std::string& name,
                                const Shape& in_shape, std::int64_t c_out, std::int64_t kernel,
                                std::int64_t stride, std::int64_t pad) {
  RP_CHECK(in_shape.rank() == 3, name, "expected a (C, H, W) input shape, found " << in_shape);
  Conv2dLayer l;
  l.c_in = in_shape[0];
  const double fan_in = static_cast<double>(l.c_in * kernel * kernel);
  l.weight = store.add(name + ".weight", Shape{c_out, l.c_in, kernel, kernel}, ParamKind::Parameter,
                       ParamInit::uniform(1.0 / std::sqrt(fan_in)));
  l.params = Conv2dParams::square(stride, pad);
  l.c_out = c_out;
  l.kernel = kernel;
  l.in_shape = in_shape;
  return l;
}

Shape Conv2dLayer::output_shape() const {
  const Shape out = conv2d_output_shape(Shape{1, in_shape[0], in_shape[1], in_shape[2]},
                                        Shape{c_out, c_in, kernel, kernel}, params);
  return Shape{out[1], out[2], out[3]};
}

void Conv2dLayer::prepare(Context& ctx, std::int64_t max_batch, DType dtype) const {
  conv2d_prepare(ctx, Shape{max_batch, in_shape[0], in_shape[1], in_shape[2]},
                 Shape{c_out, c_in, kernel, kernel}, params, dtype, /*backward=*/true);
}

void Conv2dLayer::forward(Context& ctx, const ParameterStore& store, const Tensor& x,
                          const Tensor& y) const {
  conv2d_forward(ctx, x, store.value(weight), y, params);
}

void Conv2dLayer::backward(Context& ctx, const ParameterStore& store, const Tensor& x,
                           const Tensor& dy, const Tensor& dx, GradMode dx_mode,
                           const BackwardOptions& opt) const {
  if (opt.param_grads) {
    conv2d_backward_filter(ctx, x, dy, store.grad(weight), params, opt.param_mode);
  }
  if (dx.defined()) conv2d_backward_data(ctx, dy, store.value(weight), dx, params, dx_mode);
}

BatchNormLayer BatchNormLayer::create(ParameterStore& store, ActivationArena& acts,
                                      const std::string& name, std::int64_t channels, DType dtype) {
  BatchNormLayer l;
  const Shape c{channels};
  l.gamma = store.add(name + ".weight", c, ParamKind::Parameter, ParamInit::constant(1));
  l.beta = store.add(name + ".bias", c, ParamKind::Parameter, ParamInit::constant(0));
  l.running_mean = store.add(name + ".running_mean", c, ParamKind::Buffer, ParamInit::constant(0));
  l.running_var = store.add(name + ".running_var", c, ParamKind::Buffer, ParamInit::constant(1));
  l.save_mean = acts.fixed(c, dtype);
  l.save_invstd = acts.fixed(c, dtype);
  return l;
}

void BatchNormLayer::forward(Context& ctx, const ParameterStore& store, const ActivationArena& acts,
                             const Tensor& x, const Tensor& y, BnMode mode,
                             const BnEpilogue& epilogue) const {
  // The fused ops are CPU-only so far; elsewhere the add and ReLU run as their own passes.
  const bool fuse = ctx.device().is_cpu();
  const BnEpilogue in_op = fuse ? epilogue : BnEpilogue{};
  if (mode == BnMode::Train) {
    batchnorm2d_forward_train(ctx, x, store.value(gamma), store.value(beta),
                              store.value(running_mean), store.value(running_var), y,
                              acts[save_mean], acts[save_invstd], BatchNormParams{momentum, eps},
                              in_op);
  } else {
    batchnorm2d_forward_eval(ctx, x, store.value(gamma), store.value(beta),
                             store.value(running_mean), store.value(running_var), y, eps, in_op);
  }
  if (fuse) return;
  if (epilogue.residual.defined()) add_forward(ctx, y, epilogue.residual, y);
  if (epilogue.relu) relu_forward(ctx, y, y);
}

void BatchNormLayer::backward(Context& ctx, const ParameterStore& store,
                              const ActivationArena& acts, const Tensor& x, const Tensor& dy,
                              const Tensor& dx, BnMode mode, const BackwardOptions& opt,
                              const Tensor& relu_out) const {
  const bool fuse = ctx.device().is_cpu();
  if (relu_out.defined() && !fuse) relu_backward(ctx, relu_out, dy, dy, GradMode::Assign);
  const Tensor mask = fuse ? relu_out : Tensor();
  auto call = [&](const Tensor& dx_out, const Tensor& dgamma, const Tensor& dbeta, GradMode m) {
    if (mode == BnMode::Train) {
      batchnorm2d_backward_train(ctx, dy, x, store.value(gamma), acts[save_mean], acts[save_invstd],
                                 dx_out, dgamma, dbeta, m, mask);
    } else {
      batchnorm2d_backward_eval(ctx, dy, x, store.value(gamma), store.value(running_mean),
                                store.value(running_var), eps, dx_out, dgamma, dbeta, m, mask);
    }
  };
  const Tensor dgamma = opt.param_grads ? store.grad(gamma) : Tensor();
  const Tensor dbeta = opt.param_grads ? store.grad(beta) : Tensor();
  if (opt.param_grads && opt.param_mode == GradMode::Accumulate) {
    // The op writes all its outputs under one mode, and dx is always assigned.
    call(Tensor(), dgamma, dbeta, GradMode::Accumulate);
    if (dx.defined()) call(dx, Tensor(), Tensor(), GradMode::Assign);
  } else if (dx.defined() || opt.param_grads) {
    call(dx, dgamma, dbeta, GradMode::Assign);
  }
}

MaxPoolLayer MaxPoolLayer::create(ActivationArena& acts, const std::string& name,
                                  const Shape& in_shape, std::int64_t kernel, std::int64_t stride,
                                  std::int64_t pad) {
  RP_CHECK(in_shape.rank() == 3, name, "expected a (C, H, W) input shape, found " << in_shape);
  MaxPoolLayer l;
  l.params = MaxPool2dParams::square(kernel, stride, pad);
  l.in_shape = in_shape;
  l.argmax = acts.batched(l.output_shape(), DType::I32);
  return l;
}

Shape MaxPoolLayer::output_shape() const {
  const Shape out =
      max_pool2d_output_shape(Shape{1, in_shape[0], in_shape[1], in_shape[2]}, params);
  return Shape{out[1], out[2], out[3]};
}

void MaxPoolLayer::forward(Context& ctx, const ActivationArena& acts, const Tensor& x,
                           const Tensor& y) const {
  max_pool2d_forward(ctx, x, y, acts[argmax], params);
}

void MaxPoolLayer::backward(Context& ctx, const ActivationArena& acts, const Tensor& dy,
                            const Tensor& dx, GradMode dx_mode) const {
  max_pool2d_backward(ctx, dy, acts[argmax], dx, params, dx_mode);
}

LinearLayer LinearLayer::create(ParameterStore& store, const std::string& name, std::int64_t in,
                                std::int64_t out) {
  LinearLayer l;
  const double bound = 1.0 / std::sqrt(static_cast<double>(in));
  l.weight =
      store.add(name + ".weight", Shape{out, in}, ParamKind::Parameter, ParamInit::uniform(bound));
  l.bias = store.add(name + ".bias", Shape{out}, ParamKind::Parameter, ParamInit::uniform(bound));
  return l;
}

void LinearLayer::forward(Context& ctx, const ParameterStore& store, const Tensor& x,
                          const Tensor& y) const {
  linear_forward(ctx, x, store.value(weight), store.value(bias), y);
}

void LinearLayer::backward(Context& ctx, const ParameterStore& store, const Tensor& x,
                           const Tensor& dy, const Tensor& dx, const BackwardOptions& opt) const {
  if (opt.param_grads) {
    linear_backward_weight(ctx, x, dy, store.grad(weight), store.grad(bias), opt.param_mode);
  }
  if (dx.defined()) linear_backward_data(ctx, dy, store.value(weight), dx, GradMode::Assign);
}

InputNormalizer InputNormalizer::create(ParameterStore& store, const std::vector<double>& mean,
                                        const std::vector<double>& std) {
  RP_CHECK(!mean.empty() && mean.size() == std.size(), "InputNormalizer",
           "mean has " << mean.size() << " channels and std " << std.size());
  for (double s : std) {
    RP_CHECK(std::isfinite(s) && s > 0, "InputNormalizer", "std must be positive, found " << s);
  }
  InputNormalizer n;
  const Shape c{static_cast<std::int64_t>(mean.size())};
  n.mean = store.add("normalizer.new_mean", c, ParamKind::Buffer, ParamInit::given(mean));
  n.std = store.add("normalizer.new_std", c, ParamKind::Buffer, ParamInit::given(std));
  return n;
}

void InputNormalizer::forward(Context& ctx, const ParameterStore& store, const Tensor& x,
                              const Tensor& y) const {
  normalize_forward(ctx, x, store.value(mean), store.value(std), y);
}

void InputNormalizer::backward(Context& ctx, const ParameterStore& store, const Tensor& x,
                               const Tensor& dy, const Tensor& dx) const {
  normalize_backward(ctx, x, dy, store.value(std), dx, GradMode::Assign);
}

}  // namespace rp
