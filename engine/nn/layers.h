// The layers ResNets are built from: each a small struct of parameter ids and saved-state
// handles, with forward and backward. Activations are passed in (an ActivationArena's views);
// layers never allocate.
//
// Backward conventions: dx is written under `dx_mode` when defined (undefined: not wanted);
// parameter gradients are written under BackwardOptions::param_mode when param_grads is set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/grad_mode.h"
#include "engine/nn/activations.h"
#include "engine/nn/parameters.h"
#include "engine/ops/batchnorm.h"
#include "engine/ops/conv2d.h"
#include "engine/ops/pool.h"

namespace rp {

enum class BnMode { Train, Eval };

struct BackwardOptions {
  bool param_grads = true;                 // write parameter gradients (training)
  GradMode param_mode = GradMode::Assign;  // = or += into the gradient buffer
  bool input_grad = false;                 // compute dL/dx of the network input (attacks)
};

// Convolution without bias; weight (C_out, C_in, k, k), PyTorch's default initialization.
// The input's shape is fixed when the model is built, so that prepare() can plan the layer's
// convolutions (cuDNN plans, workspace) before any loop runs.
struct Conv2dLayer {
  ParameterStore::Id weight = 0;
  Conv2dParams params;
  std::int64_t c_in = 0, c_out = 0, kernel = 0;
  Shape in_shape;  // (C_in, H, W) per example

  static Conv2dLayer create(ParameterStore& store, const std::string& name, const Shape& in_shape,
                            std::int64_t c_out, std::int64_t kernel, std::int64_t stride,
                            std::int64_t pad);
  Shape output_shape() const;  // (C_out, H', W') per example
  // Everything forward and backward need for batches of up to max_batch (conv2d_prepare).
  void prepare(Context& ctx, std::int64_t max_batch, DType dtype) const;
  void forward(Context& ctx, const ParameterStore& store, const Tensor& x, const Tensor& y) const;
  void backward(Context& ctx, const ParameterStore& store, const Tensor& x, const Tensor& dy,
                const Tensor& dx, GradMode dx_mode, const BackwardOptions& opt) const;
};

// BatchNorm2d with PyTorch's defaults (momentum 0.1, eps 1e-5; gamma 1, beta 0, running
// mean 0, running var 1). Saves the batch statistics of a train-mode forward for backward.
// The forward can end a block: y = relu(bn(x) + residual) with an epilogue, and the backward
// then takes relu_out (that y) to go back through the ReLU first - one pass on the CPU, the
// separate add, ReLU and relu_backward ops elsewhere (which overwrite dy with its masked copy).
struct BatchNormLayer {
  ParameterStore::Id gamma = 0, beta = 0, running_mean = 0, running_var = 0;
  ActivationArena::Handle save_mean = 0, save_invstd = 0;
  double momentum = 0.1, eps = 1e-5;

  static BatchNormLayer create(ParameterStore& store, ActivationArena& acts,
                               const std::string& name, std::int64_t channels, DType dtype);
  void forward(Context& ctx, const ParameterStore& store, const ActivationArena& acts,
               const Tensor& x, const Tensor& y, BnMode mode,
               const BnEpilogue& epilogue = {}) const;
  // dx is always assigned (it may be dy itself).
  void backward(Context& ctx, const ParameterStore& store, const ActivationArena& acts,
                const Tensor& x, const Tensor& dy, const Tensor& dx, BnMode mode,
                const BackwardOptions& opt, const Tensor& relu_out = Tensor()) const;
};

// MaxPool2d (torchvision's stem: kernel 3, stride 2, pad 1). The forward keeps each output's
// argmax in an arena buffer (int32, the output's shape) for the backward's scatter.
struct MaxPoolLayer {
  MaxPool2dParams params;
  Shape in_shape;  // (C, H, W) per example
  ActivationArena::Handle argmax = 0;

  static MaxPoolLayer create(ActivationArena& acts, const std::string& name, const Shape& in_shape,
                             std::int64_t kernel, std::int64_t stride, std::int64_t pad);
  Shape output_shape() const;  // (C, H', W') per example
  void forward(Context& ctx, const ActivationArena& acts, const Tensor& x, const Tensor& y) const;
  // From the last forward's argmax; dx under dx_mode.
  void backward(Context& ctx, const ActivationArena& acts, const Tensor& dy, const Tensor& dx,
                GradMode dx_mode) const;
};

// Fully connected with bias; PyTorch's default initialization.
struct LinearLayer {
  ParameterStore::Id weight = 0, bias = 0;

  static LinearLayer create(ParameterStore& store, const std::string& name, std::int64_t in,
                            std::int64_t out);
  void forward(Context& ctx, const ParameterStore& store, const Tensor& x, const Tensor& y) const;
  void backward(Context& ctx, const ParameterStore& store, const Tensor& x, const Tensor& dy,
                const Tensor& dx, const BackwardOptions& opt) const;
};

// The model's first op: clamp to [0, 1], then (x - mean) / std per channel. mean and std are
// buffers named like the robustness library's normalizer (normalizer.new_mean/new_std).
struct InputNormalizer {
  ParameterStore::Id mean = 0, std = 0;

  static InputNormalizer create(ParameterStore& store, const std::vector<double>& mean,
                                const std::vector<double>& std);
  void forward(Context& ctx, const ParameterStore& store, const Tensor& x, const Tensor& y) const;
  void backward(Context& ctx, const ParameterStore& store, const Tensor& x, const Tensor& dy,
                const Tensor& dx) const;
};

}  // namespace rp
