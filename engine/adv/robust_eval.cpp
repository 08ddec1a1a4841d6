#include "engine/adv/robust_eval.h"

#include <vector>

#include "engine/ops/cross_entropy.h"
#include "engine/ops/metrics.h"

namespace rp {
namespace {

std::vector<double> host_values(const Tensor& t) {
  if (t.dtype() == DType::F64) return t.to_vector<double>();
  const std::vector<float> f = t.to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

}  // namespace

RobustResult evaluate_robust(Context& ctx, Network& net, PgdAttack& attack, BatchLoader& loader,
                             const AttackParams& params, RngStream rng) {
  const NetworkSpec& s = net.spec();
  const std::int64_t b = loader.batch_size(), batches = loader.batches();
  const std::int64_t image = s.channels * s.image_h * s.image_w;
  Tensor x = Tensor::empty(Shape{b, s.channels, s.image_h, s.image_w}, s.dtype, ctx.device());
  Tensor y = Tensor::empty(Shape{b}, DType::I32, ctx.device());
  Tensor losses = Tensor::empty(Shape{b}, s.dtype, ctx.device());
  // Per batch: clean mean loss, clean correct, robust mean loss, robust correct.
  Tensor stats = Tensor::empty(Shape{batches, 4}, s.dtype, ctx.device());
  std::vector<std::int64_t> sizes;
  loader.start_epoch(0);
  for (std::int64_t i = 0; i < batches; ++i) {
    const std::int64_t n = loader.load(ctx, i, x, y);
    sizes.push_back(n);
    const Tensor xs = x.slice(0, n), ys = y.slice(0, n),
                 row = stats.slice(i, i + 1).reshape(Shape{4});
    net.forward(ctx, xs, ForwardOptions{BnMode::Eval, false, true});
    cross_entropy_forward(ctx, net.logits(), ys, losses.slice(0, n), row.slice(0, 1));
    count_correct(ctx, net.logits(), ys, row.slice(1, 2));
    CrossEntropyObjective objective(ys, false);
    const RngStream draw{rng.seed, rng.stream,
                         rng.offset + static_cast<std::uint64_t>(i * b * image)};
    const Tensor& adv = attack.run(ctx, xs, objective, params, draw);
    net.forward(ctx, adv, ForwardOptions{BnMode::Eval, false, true});
    cross_entropy_forward(ctx, net.logits(), ys, losses.slice(0, n), row.slice(2, 3));
    count_correct(ctx, net.logits(), ys, row.slice(3, 4));
  }
  const std::vector<double> h = host_values(stats);
  RobustResult r;
  for (std::int64_t i = 0; i < batches; ++i) {
    const double n = static_cast<double>(sizes[static_cast<std::size_t>(i)]);
    const auto at = [&](int k) { return h[static_cast<std::size_t>(4 * i + k)]; };
    r.clean_loss += at(0) * n;
    r.clean_accuracy += at(1);
    r.robust_loss += at(2) * n;
    r.robust_accuracy += at(3);
    r.examples += sizes[static_cast<std::size_t>(i)];
  }
  const double total = static_cast<double>(r.examples);
  r.clean_loss /= total;
  r.clean_accuracy /= total;
  r.robust_loss /= total;
  r.robust_accuracy /= total;
  return r;
}

}  // namespace rp
