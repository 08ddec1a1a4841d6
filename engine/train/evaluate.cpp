#include "engine/train/evaluate.h"

#include <vector>

#include "engine/core/error.h"
#include "engine/ops/cross_entropy.h"
#include "engine/ops/metrics.h"

namespace rp {

EvalResult evaluate(Context& ctx, Network& net, BatchLoader& loader) {
  const NetworkSpec& spec = net.spec();
  const std::int64_t b = loader.batch_size(), batches = loader.batches();
  RP_CHECK(net.max_batch() >= b, "evaluate",
           "network prepared for " << net.max_batch() << " examples, batches of " << b);
  const Shape image{b, spec.channels, spec.image_h, spec.image_w};
  Tensor x = Tensor::empty(image, spec.dtype, ctx.device());
  Tensor y = Tensor::empty(Shape{b}, DType::I32, ctx.device());
  Tensor losses = Tensor::empty(Shape{b}, spec.dtype, ctx.device());
  // Per-batch mean loss and correct count stay on the device until the end.
  Tensor stats = Tensor::empty(Shape{batches, 2}, spec.dtype, ctx.device());
  std::vector<std::int64_t> sizes;
  loader.start_epoch(0);
  for (std::int64_t i = 0; i < batches; ++i) {
    const std::int64_t n = loader.load(ctx, i, x, y);
    sizes.push_back(n);
    const Tensor xs = x.slice(0, n), ys = y.slice(0, n);
    net.forward(ctx, xs, ForwardOptions{BnMode::Eval, false, true});
    const Tensor row = stats.slice(i, i + 1).reshape(Shape{2});
    cross_entropy_forward(ctx, net.logits(), ys, losses.slice(0, n), row.slice(0, 1));
    count_correct(ctx, net.logits(), ys, row.slice(1, 2));
  }
  const std::vector<double> host = [&] {
    if (spec.dtype == DType::F64) return stats.to_vector<double>();
    const std::vector<float> f = stats.to_vector<float>();
    return std::vector<double>(f.begin(), f.end());
  }();
  EvalResult r;
  double loss_sum = 0, correct = 0;
  for (std::int64_t i = 0; i < batches; ++i) {
    loss_sum += host[static_cast<std::size_t>(2 * i)] *
                static_cast<double>(sizes[static_cast<std::size_t>(i)]);
    correct += host[static_cast<std::size_t>(2 * i + 1)];
    r.examples += sizes[static_cast<std::size_t>(i)];
  }
  r.loss = loss_sum / static_cast<double>(r.examples);
  r.accuracy = correct / static_cast<double>(r.examples);
  return r;
}

}  // namespace rp
