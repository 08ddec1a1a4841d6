#include "engine/ops/fab.h"

#include <limits>
#include <utility>

#include "engine/core/error.h"
#include "engine/ops/backend.h"
#include "engine/ops/op_args.h"
#include "kernels/cpu/fab.h"
#if RP_CUDA_KERNELS
#include "kernels/cuda/fab.h"
#endif

namespace rp {
namespace {

constexpr const char* kDims = "(like x)";
constexpr double kMax = std::numeric_limits<double>::max();

cpu::PerturbShape shape_of(const Tensor& x) {
  return {x.size(0), x.shape().inner_numel()};
}

void check_rows(detail::OpArgs& a, const char* x_name, const Tensor& x,
                std::initializer_list<std::pair<const char*, const Tensor*>> like_x,
                std::initializer_list<std::pair<const char*, const Tensor*>> per_example) {
  a.examples(x_name, x);
  for (const auto& [name, t] : like_x) a.floating(name, *t, x.shape(), kDims);
  for (const auto& [name, t] : per_example) a.floating(name, *t, Shape{x.size(0)}, "(N)");
}

template <bool L2>
void project(const char* op, Context& ctx, const Tensor& p, const Tensor& w, const Tensor& b,
             const Tensor& d) {
  detail::OpArgs a(op, ctx);
  check_rows(a, "p", p, {{"w", &w}, {"d", &d}}, {{"b", &b}});
  a.distinct("d", d, {{"p", &p}, {"w", &w}, {"b", &b}}).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (L2) {
      RP_ON_DEVICE(ctx, fab_project_l2<T>, shape_of(p), p.data<T>(), w.data<T>(), b.data<T>(),
                   d.data<T>());
    } else {
      RP_ON_DEVICE(ctx, fab_project_linf<T>, shape_of(p), p.data<T>(), w.data<T>(), b.data<T>(),
                   d.data<T>());
    }
  });
}

template <bool L2>
void step(const char* op, Context& ctx, const Tensor& x0, const Tensor& g, const Tensor& f,
          double eta, double alpha_max, const Tensor& x, const Tensor& d1, const Tensor& d2) {
  detail::OpArgs a(op, ctx);
  check_rows(a, "x", x, {{"x0", &x0}, {"g", &g}, {"d1", &d1}, {"d2", &d2}}, {{"f", &f}});
  a.distinct("x", x, {{"x0", &x0}, {"g", &g}, {"f", &f}, {"d1", &d1}, {"d2", &d2}});
  a.distinct("d1", d1, {{"x0", &x0}, {"g", &g}, {"f", &f}, {"d2", &d2}});
  a.distinct("d2", d2, {{"x0", &x0}, {"g", &g}, {"f", &f}});
  a.scalar("eta", eta, 1.0, kMax).scalar("alpha_max", alpha_max, 0.0, 1.0).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (L2) {
      RP_ON_DEVICE(ctx, fab_step_l2<T>, shape_of(x), x0.data<T>(), g.data<T>(), f.data<T>(), eta,
                   alpha_max, x.data<T>(), d1.data<T>(), d2.data<T>());
    } else {
      RP_ON_DEVICE(ctx, fab_step_linf<T>, shape_of(x), x0.data<T>(), g.data<T>(), f.data<T>(), eta,
                   alpha_max, x.data<T>(), d1.data<T>(), d2.data<T>());
    }
  });
}

template <bool L2>
void track(const char* op, Context& ctx, const Tensor& x0, const Tensor& correct, double beta,
           const Tensor& x, const Tensor& best, const Tensor& best_norm) {
  detail::OpArgs a(op, ctx);
  check_rows(a, "x", x, {{"x0", &x0}, {"best", &best}},
             {{"correct", &correct}, {"best_norm", &best_norm}});
  a.distinct("x", x,
             {{"x0", &x0}, {"correct", &correct}, {"best", &best}, {"best_norm", &best_norm}});
  a.distinct("best", best, {{"x0", &x0}, {"correct", &correct}, {"best_norm", &best_norm}});
  a.distinct("best_norm", best_norm, {{"x0", &x0}, {"correct", &correct}});
  a.scalar("beta", beta, 0.0, 1.0).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (L2) {
      RP_ON_DEVICE(ctx, fab_track_l2<T>, shape_of(x), x0.data<T>(), correct.data<T>(), beta,
                   x.data<T>(), best.data<T>(), best_norm.data<T>());
    } else {
      RP_ON_DEVICE(ctx, fab_track_linf<T>, shape_of(x), x0.data<T>(), correct.data<T>(), beta,
                   x.data<T>(), best.data<T>(), best_norm.data<T>());
    }
  });
}

}  // namespace

void fab_logit_gap(Context& ctx, const Tensor& logits, const Tensor& labels, const Tensor& targets,
                   const Tensor& f, const Tensor& dlogits) {
  detail::OpArgs a("fab_logit_gap", ctx);
  a.batch("logits", logits, 2, "(N, K)");
  const std::int64_t n = logits.size(0);
  a.typed("labels", labels, DType::I32, Shape{n}, "(N)");
  a.typed("targets", targets, DType::I32, Shape{n}, "(N)");
  a.floating("f", f, Shape{n}, "(N)").floating("dlogits", dlogits, logits.shape(), "(N, K)");
  a.distinct("f", f, {{"logits", &logits}, {"dlogits", &dlogits}});
  a.distinct("dlogits", dlogits, "logits", logits).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, fab_logit_gap<T>, n, logits.size(1), logits.data<T>(),
                 labels.data<std::int32_t>(), targets.data<std::int32_t>(), f.data<T>(),
                 dlogits.data<T>());
  });
}

void fab_project_linf(Context& ctx, const Tensor& p, const Tensor& w, const Tensor& b,
                      const Tensor& d) {
  project<false>("fab_project_linf", ctx, p, w, b, d);
}
void fab_project_l2(Context& ctx, const Tensor& p, const Tensor& w, const Tensor& b,
                    const Tensor& d) {
  project<true>("fab_project_l2", ctx, p, w, b, d);
}

void fab_step_linf(Context& ctx, const Tensor& x0, const Tensor& g, const Tensor& f, double eta,
                   double alpha_max, const Tensor& x, const Tensor& d1, const Tensor& d2) {
  step<false>("fab_step_linf", ctx, x0, g, f, eta, alpha_max, x, d1, d2);
}
void fab_step_l2(Context& ctx, const Tensor& x0, const Tensor& g, const Tensor& f, double eta,
                 double alpha_max, const Tensor& x, const Tensor& d1, const Tensor& d2) {
  step<true>("fab_step_l2", ctx, x0, g, f, eta, alpha_max, x, d1, d2);
}

void fab_track_linf(Context& ctx, const Tensor& x0, const Tensor& correct, double beta,
                    const Tensor& x, const Tensor& best, const Tensor& best_norm) {
  track<false>("fab_track_linf", ctx, x0, correct, beta, x, best, best_norm);
}
void fab_track_l2(Context& ctx, const Tensor& x0, const Tensor& correct, double beta,
                  const Tensor& x, const Tensor& best, const Tensor& best_norm) {
  track<true>("fab_track_l2", ctx, x0, correct, beta, x, best, best_norm);
}

void fab_accept(Context& ctx, double eps, const Tensor& best, const Tensor& best_norm,
                const Tensor& still, const Tensor& adv, const Tensor& adv_norm) {
  detail::OpArgs a("fab_accept", ctx);
  check_rows(a, "best", best, {{"adv", &adv}},
             {{"best_norm", &best_norm}, {"still", &still}, {"adv_norm", &adv_norm}});
  a.distinct(
      "adv", adv,
      {{"best", &best}, {"best_norm", &best_norm}, {"still", &still}, {"adv_norm", &adv_norm}});
  a.distinct("still", still, {{"best", &best}, {"best_norm", &best_norm}, {"adv_norm", &adv_norm}});
  a.distinct("adv_norm", adv_norm, {{"best", &best}, {"best_norm", &best_norm}});
  a.scalar("eps", eps, 0.0, kMax).cpu_or_cuda_backend();
  detail::dispatch_floating(a, [&](auto tag) {
    using T = decltype(tag);
    RP_ON_DEVICE(ctx, fab_accept<T>, shape_of(best), eps, best.data<T>(), best_norm.data<T>(),
                 still.data<T>(), adv.data<T>(), adv_norm.data<T>());
  });
}

}  // namespace rp
