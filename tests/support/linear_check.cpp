#include "tests/support/linear_check.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engine/ops/linear.h"
#include "tests/support/gemm_reference.h"
#include "tests/support/test_support.h"

namespace rp::test {
namespace {

// Row-major (rows, cols) host values as a matrix entry.
MatrixEntry entry(const std::vector<double>& v, std::int64_t cols) {
  return [&v, cols](std::int64_t r, std::int64_t c) {
    return v[static_cast<std::size_t>(r * cols + c)];
  };
}

// A host copy: t may be empty (a zero-sized dimension), which poisoned() cannot make.
Tensor host_copy(const Tensor& t) {
  return t.device().is_cpu() ? t : t.to(Device::cpu());
}

Tensor poisoned_on(const Shape& s, DType dt, Device device) {
  return poisoned(s, dt).to(device);
}

}  // namespace

void check_linear_products(Context& ctx, const cpu::LinearShape& s, DType dt, std::uint64_t seed) {
  const Device dev = ctx.device();
  const std::string where = " (n " + std::to_string(s.n) + ", in " + std::to_string(s.in) +
                            ", out " + std::to_string(s.out) + ", " + dtype_name(dt) + " on " +
                            dev.str() + ")";
  const auto make = [&](const Shape& shape) {
    return shape.numel() > 0 ? random_tensor(shape, dt, ++seed) : Tensor::empty(shape, dt);
  };
  const Tensor x = make(Shape{s.n, s.in}), w = make(Shape{s.out, s.in}), b = make(Shape{s.out});
  const Tensor dy = make(Shape{s.n, s.out});
  const std::vector<double> xv = values(x), wv = values(w), bv = values(b), dyv = values(dy);

  for (bool bias : {true, false}) {
    const Tensor y = poisoned_on(Shape{s.n, s.out}, dt, dev);
    linear_forward(ctx, x.to(dev), w.to(dev), bias ? b.to(dev) : Tensor(), y);
    // y (n, out) = x (n, in) w^T + b
    const ProductReference ref = product_reference(
        s.n, s.out, s.in, entry(xv, s.in),
        [&](std::int64_t t, std::int64_t c) { return wv[static_cast<std::size_t>(c * s.in + t)]; },
        bias ? MatrixEntry(
                   [&](std::int64_t, std::int64_t c) { return bv[static_cast<std::size_t>(c)]; })
             : MatrixEntry());
    expect_within_product_bound(host_copy(y), ref,
                                std::string("linear_forward") + (bias ? " with bias" : "") + where);
  }
  for (GradMode mode : {GradMode::Assign, GradMode::Accumulate}) {
    const bool acc = mode == GradMode::Accumulate;
    const std::string m = acc ? " (+=)" : " (=)";
    // dx (n, in) (+)= dy (n, out) w (out, in)
    const Tensor dx0 = make(Shape{s.n, s.in});
    const std::vector<double> dx0v = values(dx0);
    const Tensor dx = acc ? dx0.to(dev) : poisoned_on(Shape{s.n, s.in}, dt, dev);
    linear_backward_data(ctx, dy.to(dev), w.to(dev), dx, mode);
    expect_within_product_bound(
        host_copy(dx),
        product_reference(s.n, s.in, s.out, entry(dyv, s.out), entry(wv, s.in),
                          acc ? entry(dx0v, s.in) : MatrixEntry()),
        "linear_backward_data" + m + where);
    // dw (out, in) (+)= dy^T (out, n) x (n, in); db (out) (+)= column sums of dy
    const Tensor dw0 = make(Shape{s.out, s.in}), db0 = make(Shape{s.out});
    const std::vector<double> dw0v = values(dw0), db0v = values(db0);
    const Tensor dw = acc ? dw0.to(dev) : poisoned_on(Shape{s.out, s.in}, dt, dev);
    const Tensor db = acc ? db0.to(dev) : poisoned_on(Shape{s.out}, dt, dev);
    linear_backward_weight(ctx, x.to(dev), dy.to(dev), dw, db, mode);
    expect_within_product_bound(host_copy(dw),
                                product_reference(
                                    s.out, s.in, s.n,
                                    [&](std::int64_t r, std::int64_t t) {
                                      return dyv[static_cast<std::size_t>(t * s.out + r)];
                                    },
                                    entry(xv, s.in), acc ? entry(dw0v, s.in) : MatrixEntry()),
                                "linear dw" + m + where);
    expect_within_product_bound(host_copy(db).reshape(Shape{s.out, 1}),
                                product_reference(
                                    s.out, 1, s.n,
                                    [&](std::int64_t r, std::int64_t t) {
                                      return dyv[static_cast<std::size_t>(t * s.out + r)];
                                    },
                                    [](std::int64_t, std::int64_t) { return 1.0; },
                                    acc ? MatrixEntry([&](std::int64_t r, std::int64_t) {
                                      return db0v[static_cast<std::size_t>(r)];
                                    })
                                        : MatrixEntry()),
                                "linear db" + m + where);
  }
}

}  // namespace rp::test
