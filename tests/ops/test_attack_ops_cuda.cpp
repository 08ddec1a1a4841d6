// The CUDA twins of the AutoAttack ops against the CPU reference: the DLR loss (both kinds),
// its gradient (both GradModes) and the margin bit for bit; APGD's Linf update, tracking and
// checkpoints bit for bit, its L2 update to 1e-6 (double sums in another order); at several
// batch sizes and row lengths, outputs poisoned first. Skipped, with the reason, without a GPU.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "engine/ops/apgd.h"
#include "engine/ops/dlr.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/square.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

Tensor on_gpu(const Tensor& t) {
  return t.to(Device::cuda(0));
}

void expect_same(const Tensor& gpu_result, const Tensor& cpu_result, const std::string& what) {
  const Tensor back = gpu_result.to(Device::cpu());
  test::expect_all_finite(back, what + " (fully written)");
  test::expect_equal_exact(back, cpu_result, what);
}

TEST(DlrCuda, ForwardBackwardAndMarginMatchTheCpu) {
  RP_SKIP_WITHOUT_GPU();
  Context& cpu = test::cpu_context();
  Context& gpu = test::gpu_context();
  for (DType dt : {DType::F32, DType::F64}) {
    for (auto [n, k] : {std::pair<std::int64_t, std::int64_t>{1, 4}, {37, 10}, {300, 100}}) {
      Tensor z = test::random_tensor(Shape{n, k}, dt, 61 + k, -3, 3);
      Tensor y = test::random_labels(n, k, 62), t = test::random_labels(n, k, 63);
      Tensor up = test::random_tensor(Shape{n}, dt, 64);
      for (bool targeted : {false, true}) {
        const Tensor targets = targeted ? t : Tensor();
        const Tensor targets_gpu = targeted ? on_gpu(t) : Tensor();
        Tensor v = test::poisoned(Shape{n}, dt), vg = on_gpu(test::poisoned(Shape{n}, dt));
        dlr_forward(cpu, z, y, targets, v);
        dlr_forward(gpu, on_gpu(z), on_gpu(y), targets_gpu, vg);
        expect_same(vg, v, "dlr_forward");
        for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
          Tensor start = test::random_tensor(Shape{n, k}, dt, 65);
          Tensor dz = test::clone(start), dzg = on_gpu(start);
          dlr_backward(cpu, z, y, targets, up, dz, mode);
          dlr_backward(gpu, on_gpu(z), on_gpu(y), targets_gpu, on_gpu(up), dzg, mode);
          expect_same(dzg, dz, "dlr_backward");
        }
      }
      Tensor m = test::poisoned(Shape{n}, dt), mg = on_gpu(test::poisoned(Shape{n}, dt));
      margin_forward(cpu, z, y, m);
      margin_forward(gpu, on_gpu(z), on_gpu(y), mg);
      expect_same(mg, m, "margin_forward");
    }
  }
}

TEST(ApgdCuda, UpdatesTrackingAndCheckpointsMatchTheCpu) {
  RP_SKIP_WITHOUT_GPU();
  Context& cpu = test::cpu_context();
  Context& gpu = test::gpu_context();
  for (DType dt : {DType::F32, DType::F64}) {
    for (auto [n, d] : {std::pair<std::int64_t, std::int64_t>{1, 3}, {5, 768}, {17, 3073}}) {
      const Shape shape{n, d};
      Tensor x0 = test::random_tensor(shape, dt, 71, 0, 1);
      Tensor g = test::random_tensor(shape, dt, 72);
      Tensor x = test::random_tensor(shape, dt, 73, 0, 1),
             xp = test::random_tensor(shape, dt, 74, 0, 1);
      Tensor step = test::random_tensor(Shape{n}, dt, 75, 0.01, 0.5);
      for (bool l2 : {false, true}) {
        Tensor xc = test::clone(x), xpc = test::clone(xp), xg = on_gpu(x), xpg = on_gpu(xp);
        if (l2) {
          apgd_update_l2(cpu, g, x0, step, 0.75, 0.5, xc, xpc);
          apgd_update_l2(gpu, on_gpu(g), on_gpu(x0), on_gpu(step), 0.75, 0.5, xg, xpg);
          test::expect_close(xg.to(Device::cpu()), xc, 1e-6, 1e-6, "apgd_update_l2");
        } else {
          apgd_update_linf(cpu, g, x0, step, 0.75, 8.0 / 255, xc, xpc);
          apgd_update_linf(gpu, on_gpu(g), on_gpu(x0), on_gpu(step), 0.75, 8.0 / 255, xg, xpg);
          expect_same(xg, xc, "apgd_update_linf");
        }
        expect_same(xpg, xpc, "apgd update x_prev");
      }
      // Tracking and a checkpoint from the same random state on both devices.
      ApgdState s, sg;
      const auto vec = [&](std::uint64_t seed) { return test::random_tensor(Shape{n}, dt, seed); };
      s.prev_loss = vec(81);
      s.increases = test::random_tensor(Shape{n}, dt, 82, 0, 4);
      s.best_loss = vec(83);
      s.best_last = vec(84);
      s.halved_last = test::random_tensor(Shape{n}, dt, 85, 0, 2);
      s.step = vec(86);
      s.best_x = test::random_tensor(shape, dt, 87);
      s.best_g = test::random_tensor(shape, dt, 88);
      for (std::int64_t i = 0; i < n; ++i) {
        test::set_value(s.increases, i, std::floor(test::value_at(s.increases, i)));
        test::set_value(s.halved_last, i, std::floor(test::value_at(s.halved_last, i)));
      }
      for (Tensor ApgdState::*m :
           {&ApgdState::prev_loss, &ApgdState::increases, &ApgdState::best_loss,
            &ApgdState::best_last, &ApgdState::halved_last, &ApgdState::step, &ApgdState::best_x,
            &ApgdState::best_g}) {
        sg.*m = on_gpu(s.*m);
      }
      Tensor loss = vec(89), xc = test::clone(x), gc = test::clone(g);
      Tensor xg = on_gpu(x), gg = on_gpu(g);
      apgd_track(cpu, loss, xc, gc, s);
      apgd_track(gpu, on_gpu(loss), xg, gg, sg);
      apgd_checkpoint(cpu, 3, 0.75, s, xc, gc);
      apgd_checkpoint(gpu, 3, 0.75, sg, xg, gg);
      for (Tensor ApgdState::*m :
           {&ApgdState::prev_loss, &ApgdState::increases, &ApgdState::best_loss,
            &ApgdState::best_last, &ApgdState::halved_last, &ApgdState::step, &ApgdState::best_x,
            &ApgdState::best_g}) {
        expect_same(sg.*m, s.*m, "APGD state");
      }
      expect_same(xg, xc, "apgd_checkpoint x");
      expect_same(gg, gc, "apgd_checkpoint g");
    }
  }
}

TEST(SquareCuda, StripesAndProposalsMatchTheCpu) {
  RP_SKIP_WITHOUT_GPU();
  Context& cpu = test::cpu_context();
  Context& gpu = test::gpu_context();
  for (DType dt : {DType::F32, DType::F64}) {
    for (const Shape& shape : {Shape{1, 1, 1, 1}, Shape{3, 3, 8, 8}, Shape{17, 3, 32, 32}}) {
      Tensor x0 = test::random_tensor(shape, dt, 95, 0, 1);
      Tensor s = test::poisoned(shape, dt), sg = on_gpu(test::poisoned(shape, dt));
      square_init_linf(cpu, x0, 8.0 / 255, RngStream{1, 2, 3}, s);
      square_init_linf(gpu, on_gpu(x0), 8.0 / 255, RngStream{1, 2, 3}, sg);
      expect_same(sg, s, "square_init_linf");
      const SquareWindow win{std::max<std::int64_t>(1, shape[2] / 2), 0,
                             shape[3] - std::max<std::int64_t>(1, shape[2] / 2)};
      Tensor o = test::poisoned(shape, dt), og = on_gpu(test::poisoned(shape, dt));
      square_propose_linf(cpu, x0, s, 8.0 / 255, win, RngStream{4, 5, 6}, o);
      square_propose_linf(gpu, on_gpu(x0), sg, 8.0 / 255, win, RngStream{4, 5, 6}, og);
      expect_same(og, o, "square_propose_linf");
      if (shape[2] < 5) continue;
      const std::int64_t side = shape[2] / 2 + 1;
      const std::vector<double> e0 = square_eta(shape[2] / 5), e1 = square_eta(side);
      Tensor eta0 =
          test::to_dtype(Tensor::from_vector(e0, Shape{static_cast<std::int64_t>(e0.size())}), dt);
      Tensor eta1 = test::to_dtype(Tensor::from_vector(e1, Shape{side * side}), dt);
      square_init_l2(cpu, x0, 0.5, eta0, RngStream{1, 2, 3}, s);
      square_init_l2(gpu, on_gpu(x0), 0.5, on_gpu(eta0), RngStream{1, 2, 3}, sg);
      test::expect_close(sg.to(Device::cpu()), s, 1e-6, 1e-6, "square_init_l2");
      SquareL2Window w2;
      w2.side = side;
      w2.top = 1;
      w2.left = 0;
      w2.top2 = shape[2] - side;
      w2.left2 = shape[3] - side;
      w2.transpose = true;
      square_propose_l2(cpu, x0, s, 0.5, w2, eta1, RngStream{4, 5, 6}, o);
      square_propose_l2(gpu, on_gpu(x0), sg, 0.5, w2, on_gpu(eta1), RngStream{4, 5, 6}, og);
      test::expect_close(og.to(Device::cpu()), o, 1e-6, 1e-6, "square_propose_l2");
    }
  }
}

}  // namespace
}  // namespace rp
