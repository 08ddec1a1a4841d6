// Network: what every model offers the trainer, the attacker and the experiments, so those
// layers never depend on a particular architecture (models/ implements it).
//
//   forward(x)                x (n, C, H, W) in pixel space [0, 1]; n <= max_batch()
//   logits()                  (n, classes) of the last forward
//   representation()          R(x) (n, F): the flattened, post-ReLU, globally average-pooled
//                             output of the last stage - the input of the final linear layer
//   backward_from_logits      from dL/dlogits, or
//   backward_from_representation  from dL/dR (the linear layer is skipped)
//   input_grad()              dL/dx (n, C, H, W) after a backward with input_grad set
//
// Parameter gradients land in parameters().flat_grads(). BN runs in the mode of the last
// forward; backward uses that mode and the fake-ReLU choice of the last forward. Outputs are
// views into the network's activation memory, valid until the next forward.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/core/context.h"
#include "engine/core/tensor.h"
#include "engine/nn/layers.h"
#include "engine/nn/parameters.h"

namespace rp {

struct NetworkSpec {
  std::string arch;    // one of architectures() (models/registry.h)
  double width = 1.0;  // channel multiplier (64 128 256 512 times width; a WideResNet's
                       // 160 320 640)
  std::int64_t num_classes = 10;
  std::int64_t channels = 3, image_h = 32, image_w = 32;
  std::vector<double> mean{0.4914, 0.4822, 0.4465};  // input normalization
  std::vector<double> std{0.2023, 0.1994, 0.2010};
  DType dtype = DType::F32;  // f64 for gradient checks on the CPU
};

struct ForwardOptions {
  BnMode bn_mode = BnMode::Eval;
  bool fake_relu = false;  // the last ReLU passes gradients through (feature visualization)
  bool logits = true;      // false: stop at R(x)
  bool no_relu = false;    // skip the last ReLU: R(x) pools the pre-activation (the robustness
                           // library's no_relu); not together with fake_relu
};

// What the network's last ReLU (the final block's; PreActResNet: after its final BN) does.
enum class LastRelu {
  Real,     // ReLU forward and backward
  Fake,     // ReLU forward, identity backward
  Skipped,  // identity both ways (no_relu)
};

class Network {
 public:
  virtual ~Network() = default;

  virtual const NetworkSpec& spec() const = 0;
  virtual ParameterStore& parameters() = 0;
  virtual const ParameterStore& parameters() const = 0;
  virtual std::int64_t representation_size() const = 0;

  // Sizes activation memory for batches of up to max_batch on ctx's device (again to resize).
  virtual void prepare(Context& ctx, std::int64_t max_batch) = 0;
  virtual std::int64_t max_batch() const = 0;
  virtual std::size_t activation_bytes() const = 0;

  virtual void forward(Context& ctx, const Tensor& x, const ForwardOptions& opt) = 0;
  virtual const Tensor& logits() const = 0;
  virtual const Tensor& representation() const = 0;

  virtual void backward_from_logits(Context& ctx, const Tensor& dlogits,
                                    const BackwardOptions& opt) = 0;
  virtual void backward_from_representation(Context& ctx, const Tensor& drep,
                                            const BackwardOptions& opt) = 0;
  virtual const Tensor& input_grad() const = 0;
};

}  // namespace rp
