// FAB's ops on the CPU: the projections onto a hyperplane inside the box [0, 1] against their
// closed forms where the box is not active, and against a random search of the feasible set
// everywhere (the point lies on the hyperplane and in the box, and no feasible point found is
// closer); the box corner where the hyperplane misses the box; the step's convex combination and
// the tracking against their formulas; the logit gap and its upstream; bad arguments refused.
// On a GPU, the CUDA twins match the CPU reference.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "engine/core/error.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/fab.h"
#include "tests/support/test_support.h"

namespace rp {
namespace {

enum class Norm { Linf, L2 };

double norm_of(const std::vector<double>& v, Norm nm) {
  double acc = 0;
  for (double a : v) acc = nm == Norm::L2 ? acc + a * a : std::max(acc, std::abs(a));
  return nm == Norm::L2 ? std::sqrt(acc) : acc;
}

void project(Context& ctx, Norm nm, const Tensor& p, const Tensor& w, const Tensor& b,
             const Tensor& d) {
  if (nm == Norm::L2) {
    fab_project_l2(ctx, p, w, b, d);
  } else {
    fab_project_linf(ctx, p, w, b, d);
  }
}

struct Instance {
  Tensor p, w, b;  // (n, d), (n, d), (n) in double
  Tensor q;        // (n, d): a point of the box on each hyperplane
};

// Points in [0, 1] (a few exactly on a face), weights with a few zeros, and b = w.q for another
// point q of the box, so the hyperplane meets the box.
Instance feasible_instance(std::int64_t n, std::int64_t d, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> unit(0, 1);
  std::normal_distribution<double> normal(0, 1);
  Instance in{Tensor::empty(Shape{n, d}, DType::F64), Tensor::empty(Shape{n, d}, DType::F64),
              Tensor::empty(Shape{n}, DType::F64), Tensor::empty(Shape{n, d}, DType::F64)};
  for (std::int64_t i = 0; i < n; ++i) {
    double b = 0;
    for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
      const double r = unit(gen);
      const double p = r < 0.1 ? 0.0 : r > 0.9 ? 1.0 : unit(gen);
      const double w = unit(gen) < 0.1 ? 0.0 : normal(gen);
      in.p.data<double>()[j] = p;
      in.w.data<double>()[j] = w;
      in.q.data<double>()[j] = unit(gen);
      b += w * in.q.data<double>()[j];
    }
    in.b.data<double>()[i] = b;
  }
  return in;
}

TEST(FabProject, ClosedFormsWhereTheBoxIsInactive) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 5, d = 40;
  const Tensor p = test::random_tensor(Shape{n, d}, DType::F64, 3, 0.4, 0.6);
  const Tensor w = test::random_tensor_avoiding(Shape{n, d}, DType::F64, 4, -1, 1, {0.0}, 0.05);
  Tensor b = Tensor::empty(Shape{n}, DType::F64);
  const std::vector<double> c = {0.05, -0.08, 0.01, -0.002, 0.1};
  for (std::int64_t i = 0; i < n; ++i) {
    double wp = 0;
    for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
      wp += p.data<double>()[j] * w.data<double>()[j];
    }
    b.data<double>()[i] = wp + c[static_cast<std::size_t>(i)];
  }
  for (Norm nm : {Norm::Linf, Norm::L2}) {
    Tensor out = test::poisoned(Shape{n, d}, DType::F64);
    project(ctx, nm, p, w, b, out);
    for (std::int64_t i = 0; i < n; ++i) {
      double ww = 0, w1 = 0;
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        ww += w.data<double>()[j] * w.data<double>()[j];
        w1 += std::abs(w.data<double>()[j]);
      }
      const double ci = c[static_cast<std::size_t>(i)];
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        const double wj = w.data<double>()[j];
        // L2: c w / ||w||^2. Linf: c sign(w) / ||w||_1 (every coordinate moves by the same t).
        const double expected = nm == Norm::L2 ? ci * wj / ww : ci * (wj > 0 ? 1 : -1) / w1;
        ASSERT_LT(std::abs(expected), 0.1) << "the instance keeps the box inactive";
        EXPECT_NEAR(out.data<double>()[j], expected, 1e-12) << (nm == Norm::L2 ? "L2" : "Linf");
      }
    }
  }
}

TEST(FabProject, OnTheHyperplaneInTheBoxAndNoFeasiblePointCloser) {
  Context& ctx = test::cpu_context();
  for (std::int64_t d : {1, 2, 7, 64}) {
    const std::int64_t n = 6;
    const Instance in = feasible_instance(n, d, 100 + static_cast<std::uint64_t>(d));
    for (Norm nm : {Norm::Linf, Norm::L2}) {
      Tensor out = test::poisoned(Shape{n, d}, DType::F64);
      project(ctx, nm, in.p, in.w, in.b, out);
      test::expect_all_finite(out, "projection (fully written)");
      std::mt19937_64 gen(7 + static_cast<std::uint64_t>(d));
      std::normal_distribution<double> normal(0, 1);
      std::uniform_real_distribution<double> unit(0, 1);
      for (std::int64_t i = 0; i < n; ++i) {
        const auto at = [&](const Tensor& t, std::int64_t j) {
          return t.data<double>()[i * d + j];
        };
        std::vector<double> delta(static_cast<std::size_t>(d)), w(static_cast<std::size_t>(d));
        double on = 0, ww = 0, scale = std::abs(in.b.data<double>()[i]);
        for (std::int64_t j = 0; j < d; ++j) {
          const double z = at(in.p, j) + at(out, j);
          EXPECT_GE(z, -1e-15);
          EXPECT_LE(z, 1 + 1e-15);
          delta[static_cast<std::size_t>(j)] = at(out, j);
          w[static_cast<std::size_t>(j)] = at(in.w, j);
          on += at(in.w, j) * z;
          ww += at(in.w, j) * at(in.w, j);
          scale += std::abs(at(in.w, j));
        }
        if (ww == 0) continue;  // every weight zero: the hyperplane is all or nothing
        EXPECT_NEAR(on, in.b.data<double>()[i], 1e-12 * scale) << "d " << d << " example " << i;
        const double best = norm_of(delta, nm);
        // The point that defined b is feasible.
        std::vector<double> to_q(static_cast<std::size_t>(d));
        for (std::int64_t j = 0; j < d; ++j) {
          to_q[static_cast<std::size_t>(j)] = at(in.q, j) - at(in.p, j);
        }
        EXPECT_GE(norm_of(to_q, nm), best - 1e-12);
        // Random feasible points near the found one: coordinates on a face of the box move
        // inwards (or stay), the others anywhere, then the free ones cancel the move's
        // component along w, so the point stays on the hyperplane; kept where inside the box.
        std::vector<bool> on_face(static_cast<std::size_t>(d));
        double free_ww = 0;
        for (std::int64_t j = 0; j < d; ++j) {
          const double z = at(in.p, j) + at(out, j);
          on_face[static_cast<std::size_t>(j)] = z <= 0 || z >= 1;
          if (!on_face[static_cast<std::size_t>(j)]) free_ww += at(in.w, j) * at(in.w, j);
        }
        int tried = 0;
        for (int trial = 0; trial < 4000; ++trial) {
          std::vector<double> v(static_cast<std::size_t>(d));
          double wv = 0;
          for (std::int64_t j = 0; j < d; ++j) {
            double& vj = v[static_cast<std::size_t>(j)];
            vj = normal(gen);
            if (on_face[static_cast<std::size_t>(j)]) {
              const double z = at(in.p, j) + at(out, j);
              vj = unit(gen) < 0.5 ? 0.0 : (z <= 0 ? std::abs(vj) : -std::abs(vj));
            }
            wv += vj * at(in.w, j);
          }
          if (free_ww == 0 && wv != 0) continue;
          const double s = std::pow(10.0, -1 - 5 * unit(gen));
          std::vector<double> cand(v.size());
          bool inside = true;
          for (std::int64_t j = 0; j < d; ++j) {
            const std::size_t jj = static_cast<std::size_t>(j);
            const double fix = on_face[jj] || free_ww == 0 ? 0.0 : wv / free_ww * at(in.w, j);
            cand[jj] = delta[jj] + s * (v[jj] - fix);
            const double z = at(in.p, j) + cand[jj];
            inside = inside && z >= 0 && z <= 1;
          }
          if (!inside) continue;
          ++tried;
          EXPECT_GE(norm_of(cand, nm), best - 1e-12) << "d " << d << " example " << i;
        }
        if (d > 2) {
          EXPECT_GT(tried, 0) << "the search found feasible points";
        }
      }
    }
  }
}

TEST(FabProject, TheBoxCornerWhereTheHyperplaneMissesTheBox) {
  Context& ctx = test::cpu_context();
  const std::int64_t d = 9;
  const Tensor p = test::random_tensor(Shape{2, d}, DType::F64, 21, 0, 1);
  const Tensor w = test::random_tensor_avoiding(Shape{2, d}, DType::F64, 22, -1, 1, {0.0}, 0.05);
  // b beyond the largest (row 0) and below the smallest (row 1) value of w.z over the box.
  Tensor b = Tensor::empty(Shape{2}, DType::F64);
  b.data<double>()[0] = 1e3;
  b.data<double>()[1] = -1e3;
  for (Norm nm : {Norm::Linf, Norm::L2}) {
    Tensor out = test::poisoned(Shape{2, d}, DType::F64);
    project(ctx, nm, p, w, b, out);
    for (std::int64_t j = 0; j < 2 * d; ++j) {
      const bool up = (w.data<double>()[j] > 0) == (j < d);
      EXPECT_EQ(p.data<double>()[j] + out.data<double>()[j], up ? 1.0 : 0.0) << j;
    }
  }
}

TEST(FabStep, CombinesTheProjectionsOfXAndX0) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 4, d = 30;
  const double eta = 1.05, alpha_max = 0.1;
  const Tensor x0 = test::random_tensor(Shape{n, d}, DType::F64, 31, 0.2, 0.8);
  const Tensor x = test::random_tensor(Shape{n, d}, DType::F64, 32, 0.2, 0.8);
  const Tensor g = test::random_tensor(Shape{n, d}, DType::F64, 33, -1, 1);
  const Tensor f = test::random_tensor(Shape{n}, DType::F64, 34, -2, -0.5);
  for (Norm nm : {Norm::Linf, Norm::L2}) {
    // The expectation from the projection ops themselves.
    Tensor b = Tensor::empty(Shape{n}, DType::F64);
    for (std::int64_t i = 0; i < n; ++i) {
      double gx = 0;
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        gx += g.data<double>()[j] * x.data<double>()[j];
      }
      b.data<double>()[i] = gx - f.data<double>()[i];
    }
    Tensor d1 = Tensor::empty(Shape{n, d}, DType::F64), d2 = Tensor::empty(Shape{n, d}, DType::F64);
    project(ctx, nm, x, g, b, d1);
    project(ctx, nm, x0, g, b, d2);
    Tensor stepped = test::clone(x);
    Tensor s1 = test::poisoned(Shape{n, d}, DType::F64),
           s2 = test::poisoned(Shape{n, d}, DType::F64);
    if (nm == Norm::L2) {
      fab_step_l2(ctx, x0, g, f, eta, alpha_max, stepped, s1, s2);
    } else {
      fab_step_linf(ctx, x0, g, f, eta, alpha_max, stepped, s1, s2);
    }
    // The same projections (the kernel's b = g.x - f in another rounding: 1e-12).
    test::expect_close(s1, d1, 1e-12, 1e-14, "d1");
    test::expect_close(s2, d2, 1e-12, 1e-14, "d2");
    for (std::int64_t i = 0; i < n; ++i) {
      std::vector<double> r1, r2;
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        r1.push_back(d1.data<double>()[j]);
        r2.push_back(d2.data<double>()[j]);
      }
      const double a1 = std::max(norm_of(r1, nm), 1e-8), a2 = std::max(norm_of(r2, nm), 1e-8);
      const double alpha = std::min(a1 / (a1 + a2), alpha_max);
      for (std::int64_t j = i * d; j < (i + 1) * d; ++j) {
        const double expected =
            std::clamp((x.data<double>()[j] + eta * d1.data<double>()[j]) * (1 - alpha) +
                           (x0.data<double>()[j] + eta * d2.data<double>()[j]) * alpha,
                       0.0, 1.0);
        EXPECT_NEAR(stepped.data<double>()[j], expected, 1e-12);
      }
    }
  }
}

TEST(FabTrack, KeepsTheClosestMisclassifiedPointAndStepsBack) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 3, d = 5;
  const Tensor x0 = test::random_tensor(Shape{n, d}, DType::F64, 41, 0.3, 0.7);
  const Tensor x = test::random_tensor(Shape{n, d}, DType::F64, 42, 0, 1);
  // Example 0 correct (untouched), 1 misclassified and closer than its kept point, 2
  // misclassified but farther.
  const Tensor correct = Tensor::from_vector(std::vector<double>{1, 0, 0}, Shape{n});
  const Tensor best0 = test::random_tensor(Shape{n, d}, DType::F64, 43, 0, 1);
  Tensor best = test::clone(best0);
  Tensor best_norm = Tensor::from_vector(std::vector<double>{0.5, 10, 1e-6}, Shape{n});
  Tensor moved = test::clone(x);
  fab_track_l2(ctx, x0, correct, 0.9, moved, best, best_norm);
  for (std::int64_t j = 0; j < d; ++j) {
    EXPECT_EQ(moved.data<double>()[j], x.data<double>()[j]);
    EXPECT_EQ(best.data<double>()[j], best0.data<double>()[j]);
    EXPECT_EQ(best.data<double>()[d + j], x.data<double>()[d + j]);
    EXPECT_EQ(best.data<double>()[2 * d + j], best0.data<double>()[2 * d + j]);
    for (std::int64_t i : {1, 2}) {
      const std::int64_t e = i * d + j;
      EXPECT_NEAR(moved.data<double>()[e],
                  x0.data<double>()[e] + 0.9 * (x.data<double>()[e] - x0.data<double>()[e]), 1e-15);
    }
  }
  double dist = 0;
  for (std::int64_t j = d; j < 2 * d; ++j) {
    dist += std::pow(x.data<double>()[j] - x0.data<double>()[j], 2);
  }
  EXPECT_NEAR(best_norm.data<double>()[1], std::sqrt(dist), 1e-15);
  EXPECT_EQ(best_norm.data<double>()[0], 0.5);
  EXPECT_EQ(best_norm.data<double>()[2], 1e-6);
  // Acceptance within eps, only for examples still standing.
  Tensor still = Tensor::from_vector(std::vector<double>{1, 1, 0}, Shape{n});
  Tensor adv = test::clone(x0);
  Tensor adv_norm = Tensor::from_vector(std::vector<double>{7, 7, 7}, Shape{n});
  fab_accept(ctx, 1.0, best, best_norm, still, adv, adv_norm);
  EXPECT_EQ(test::values(still), (std::vector<double>{0, std::sqrt(dist) <= 1.0 ? 0.0 : 1.0, 0}));
  EXPECT_EQ(adv_norm.data<double>()[0], 0.5);
  EXPECT_EQ(adv_norm.data<double>()[2], 7);
  for (std::int64_t j = 0; j < d; ++j) {
    EXPECT_EQ(adv.data<double>()[j], best.data<double>()[j]);
    EXPECT_EQ(adv.data<double>()[2 * d + j], x0.data<double>()[2 * d + j]);
  }
}

TEST(FabLogitGap, TargetMinusTrueAndItsUpstream) {
  Context& ctx = test::cpu_context();
  const std::int64_t n = 4, k = 6;
  const Tensor z = test::random_tensor(Shape{n, k}, DType::F32, 51, -3, 3);
  const Tensor y = Tensor::from_vector(std::vector<std::int32_t>{0, 5, 2, 3}, Shape{n});
  const Tensor t = Tensor::from_vector(std::vector<std::int32_t>{1, 0, 4, 3}, Shape{n});
  Tensor f = test::poisoned(Shape{n}, DType::F32), dz = test::poisoned(Shape{n, k}, DType::F32);
  fab_logit_gap(ctx, z, y, t, f, dz);
  for (std::int64_t i = 0; i < n; ++i) {
    const std::int32_t yi = y.data<std::int32_t>()[i], ti = t.data<std::int32_t>()[i];
    EXPECT_EQ(f.data<float>()[i], z.data<float>()[i * k + ti] - z.data<float>()[i * k + yi]);
    for (std::int64_t j = 0; j < k; ++j) {
      const float expected = (j == ti ? 1.f : 0.f) - (j == yi ? 1.f : 0.f);
      EXPECT_EQ(dz.data<float>()[i * k + j], expected) << i << "," << j;
    }
  }
  const Tensor bad = Tensor::from_vector(std::vector<std::int32_t>{0, 6, 2, 3}, Shape{n});
  EXPECT_THROW(fab_logit_gap(ctx, z, y, bad, f, dz), Error);
}

TEST(FabOps, BadArgumentsAreRefused) {
  Context& ctx = test::cpu_context();
  const Tensor p = test::random_tensor(Shape{2, 3, 4, 4}, DType::F32, 61, 0, 1);
  const Tensor w = test::random_tensor(Shape{2, 3, 4, 4}, DType::F32, 62);
  const Tensor b = test::random_tensor(Shape{2}, DType::F32, 63);
  Tensor d = test::poisoned(Shape{2, 3, 4, 4}, DType::F32);
  EXPECT_THROW(fab_project_l2(ctx, p, w, test::random_tensor(Shape{3}, DType::F32, 1), d), Error);
  EXPECT_THROW(fab_project_linf(ctx, p, w, b, test::poisoned(Shape{2, 3, 4, 5}, DType::F32)),
               Error);
  EXPECT_THROW(fab_project_linf(ctx, p, w, b, p), Error);  // d aliases p
  EXPECT_THROW(fab_project_l2(ctx, p, test::to_dtype(w, DType::F64), b, d), Error);
  Tensor x = test::clone(p), s1 = test::clone(d), s2 = test::clone(d);
  EXPECT_THROW(fab_step_linf(ctx, p, w, b, 0.9, 0.1, x, s1, s2), Error);  // eta < 1
  EXPECT_THROW(fab_step_l2(ctx, p, w, b, 1.05, 1.5, x, s1, s2), Error);   // alpha_max > 1
  Tensor best = test::clone(p), norms = test::clone(b);
  EXPECT_THROW(fab_track_l2(ctx, p, b, 1.1, x, best, norms), Error);  // beta > 1
  EXPECT_THROW(fab_accept(ctx, -1, best, norms, test::clone(b), x, test::clone(b)), Error);
  test::expect_equal_exact(x, p, "x untouched by refused calls");
}

// The CUDA twins against the CPU reference, outputs poisoned first: the projections (on
// instances that reach the box's faces, and ones the hyperplane misses), the step, the
// tracking and the acceptance to the rounding of their double sums (and the bisection's last
// bits), the logit gap bit for bit with NaN rows for a bad class.
TEST(FabOpsCuda, MatchTheCpu) {
  RP_SKIP_WITHOUT_GPU();
  Context& cpu = test::cpu_context();
  Context& gpu = test::gpu_context();
  const auto on_gpu = [](const Tensor& t) { return t.to(Device::cuda(0)); };
  const auto back = [](const Tensor& t, const std::string& what) {
    const Tensor h = t.to(Device::cpu());
    test::expect_all_finite(h, what + " (fully written)");
    return h;
  };
  for (DType dt : {DType::F32, DType::F64}) {
    const double rtol = dt == DType::F32 ? 1e-5 : 1e-10, atol = dt == DType::F32 ? 1e-6 : 1e-12;
    for (auto [n, d] : {std::pair<std::int64_t, std::int64_t>{1, 1}, {3, 7}, {5, 300}, {4, 3072}}) {
      const Instance in = feasible_instance(n, d, 80 + static_cast<std::uint64_t>(d));
      const Tensor p = test::to_dtype(in.p, dt), w = test::to_dtype(in.w, dt);
      Tensor b = test::to_dtype(in.b, dt);
      if (n > 1) test::set_value(b, n - 1, 1e4);  // the hyperplane misses the box
      for (bool l2 : {false, true}) {
        const std::string what =
            std::string(l2 ? "L2 " : "Linf ") + dtype_name(dt) + " d " + std::to_string(d);
        Tensor out = test::poisoned(Shape{n, d}, dt), outg = on_gpu(out);
        (l2 ? fab_project_l2 : fab_project_linf)(cpu, p, w, b, out);
        (l2 ? fab_project_l2 : fab_project_linf)(gpu, on_gpu(p), on_gpu(w), on_gpu(b), outg);
        test::expect_close(back(outg, "projection " + what), out, rtol, atol, "projection " + what);

        const Tensor x0 = test::random_tensor(Shape{n, d}, dt, 71, 0, 1);
        const Tensor g = test::random_tensor(Shape{n, d}, dt, 73);
        const Tensor f = test::random_tensor(Shape{n}, dt, 74, -2, 2);
        Tensor x = test::clone(p), xg = on_gpu(p);
        Tensor d1 = test::poisoned(Shape{n, d}, dt), d2 = test::poisoned(Shape{n, d}, dt);
        Tensor d1g = on_gpu(d1), d2g = on_gpu(d2);
        (l2 ? fab_step_l2 : fab_step_linf)(cpu, x0, g, f, 1.05, 0.1, x, d1, d2);
        (l2 ? fab_step_l2 : fab_step_linf)(gpu, on_gpu(x0), on_gpu(g), on_gpu(f), 1.05, 0.1, xg,
                                           d1g, d2g);
        test::expect_close(back(xg, "step " + what), x, rtol, atol, "step " + what);
        test::expect_close(back(d1g, "d1 " + what), d1, rtol, atol, "d1 " + what);

        std::vector<double> flags(static_cast<std::size_t>(n));
        for (std::size_t i = 0; i < flags.size(); ++i) flags[i] = i % 2 == 0 ? 0.0 : 1.0;
        const Tensor correct = test::to_dtype(Tensor::from_vector(flags, Shape{n}), dt);
        // Kept norms far from the distances: half the examples improve.
        Tensor best = test::clone(x0), norms = Tensor::empty(Shape{n}, dt);
        for (std::int64_t i = 0; i < n; ++i) test::set_value(norms, i, i % 4 == 0 ? 1e3 : 1e-9);
        Tensor bestg = on_gpu(best), normsg = on_gpu(norms);
        (l2 ? fab_track_l2 : fab_track_linf)(cpu, x0, correct, 0.9, x, best, norms);
        (l2 ? fab_track_l2 : fab_track_linf)(gpu, on_gpu(x0), on_gpu(correct), 0.9, xg, bestg,
                                             normsg);
        test::expect_close(back(xg, "track x " + what), x, rtol, atol, "track x " + what);
        test::expect_close(back(bestg, "track best " + what), best, rtol, atol,
                           "track best " + what);
        test::expect_close(back(normsg, "track norms " + what), norms, rtol, atol,
                           "track norms " + what);

        Tensor still = test::to_dtype(
            Tensor::from_vector(std::vector<double>(static_cast<std::size_t>(n), 1.0), Shape{n}),
            dt);
        Tensor adv = test::clone(x0), adv_norm = test::clone(f);
        Tensor stillg = on_gpu(still), advg = on_gpu(adv), adv_normg = on_gpu(adv_norm);
        fab_accept(cpu, 1.0, best, norms, still, adv, adv_norm);
        fab_accept(gpu, 1.0, bestg, normsg, stillg, advg, adv_normg);
        test::expect_equal_exact(back(stillg, "still"), still, "accept still " + what);
        test::expect_close(back(advg, "adv"), adv, rtol, atol, "accept adv " + what);
        test::expect_close(back(adv_normg, "adv norm"), adv_norm, rtol, atol,
                           "accept norms " + what);
      }
    }
    const std::int64_t n = 37, k = 10;
    const Tensor z = test::random_tensor(Shape{n, k}, dt, 91, -3, 3);
    const Tensor y = test::random_labels(n, k, 92), t = test::random_labels(n, k, 93);
    Tensor f = test::poisoned(Shape{n}, dt), dz = test::poisoned(Shape{n, k}, dt);
    Tensor fg = on_gpu(f), dzg = on_gpu(dz);
    fab_logit_gap(cpu, z, y, t, f, dz);
    fab_logit_gap(gpu, on_gpu(z), on_gpu(y), on_gpu(t), fg, dzg);
    test::expect_equal_exact(back(fg, "logit gap"), f, "fab_logit_gap values");
    test::expect_equal_exact(back(dzg, "logit gap upstream"), dz, "fab_logit_gap upstream");
    Tensor bad = test::clone(t);
    bad.data<std::int32_t>()[3] = static_cast<std::int32_t>(k);
    fab_logit_gap(gpu, on_gpu(z), on_gpu(y), on_gpu(bad), fg, dzg);
    EXPECT_TRUE(std::isnan(test::value_at(fg.to(Device::cpu()), 3)));
  }
}

}  // namespace
}  // namespace rp
