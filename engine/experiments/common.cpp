#include "engine/experiments/common.h"

#include <algorithm>
#include <cmath>

#include "engine/core/error.h"

namespace rp {

std::vector<float> HostImages::image(std::int64_t i) const {
  RP_CHECK(i >= 0 && i < n, "HostImages", "image " << i << " of " << n);
  return std::vector<float>(pixels.begin() + i * size(), pixels.begin() + (i + 1) * size());
}

HostImages HostImages::from_dataset(const Dataset& d, const std::vector<std::int64_t>& indices) {
  HostImages h;
  h.n = static_cast<std::int64_t>(indices.size());
  h.channels = d.channels;
  h.height = d.height;
  h.width = d.width;
  for (std::int64_t i : indices) {
    RP_CHECK(i >= 0 && i < d.size(), "experiment",
             "image " << i << " is outside the dataset's " << d.size() << " images");
    const std::uint8_t* src = d.images.data() + i * d.image_elements();
    for (std::int64_t k = 0; k < d.image_elements(); ++k)
      h.pixels.push_back(static_cast<float>(src[k]) / 255.f);
  }
  return h;
}

HostImages HostImages::from_tensor(const Tensor& t) {
  HostImages h;
  h.n = t.size(0);
  h.channels = t.size(1);
  h.height = t.size(2);
  h.width = t.size(3);
  if (t.dtype() == DType::F32) {
    h.pixels = t.to_vector<float>();
  } else {
    const std::vector<double> d = t.to_vector<double>();
    h.pixels.assign(d.begin(), d.end());
  }
  return h;
}

Tensor HostImages::to_tensor(Device device, DType dtype) const {
  const Shape shape{n, channels, height, width};
  if (dtype == DType::F64) {
    return Tensor::from_vector(std::vector<double>(pixels.begin(), pixels.end()), shape, device);
  }
  return Tensor::from_vector(pixels, shape, device);
}

HostImages noise_seeds(std::int64_t n, const NetworkSpec& spec, double mean, double std,
                       RngStream rng) {
  HostImages h;
  h.n = n;
  h.channels = spec.channels;
  h.height = spec.image_h;
  h.width = spec.image_w;
  h.pixels.resize(static_cast<std::size_t>(n * h.size()));
  for (std::size_t k = 0; k < h.pixels.size(); ++k) {
    const double v = mean + std * static_cast<double>(rng_normal(rng, k));
    h.pixels[k] = static_cast<float>(std::clamp(v, 0.0, 1.0));
  }
  return h;
}

HostImages constant_seeds(std::int64_t n, const NetworkSpec& spec, double value) {
  HostImages h;
  h.n = n;
  h.channels = spec.channels;
  h.height = spec.image_h;
  h.width = spec.image_w;
  h.pixels.assign(static_cast<std::size_t>(n * h.size()), static_cast<float>(value));
  return h;
}

Tensor representations(Context& ctx, Network& net, const Tensor& x) {
  net.prepare(ctx, std::max(net.max_batch(), x.size(0)));
  net.forward(ctx, x, ForwardOptions{BnMode::Eval, false, false});
  return net.representation().to(ctx.device());
}

std::vector<std::int32_t> predict(Context& ctx, Network& net, const Tensor& x) {
  net.prepare(ctx, std::max(net.max_batch(), x.size(0)));
  net.forward(ctx, x, ForwardOptions{});
  const std::vector<double> z = host_doubles(net.logits());
  const std::int64_t k = net.spec().num_classes;
  std::vector<std::int32_t> out;
  for (std::int64_t i = 0; i < x.size(0); ++i) {
    const auto* row = z.data() + i * k;
    out.push_back(static_cast<std::int32_t>(std::max_element(row, row + k) - row));
  }
  return out;
}

std::vector<double> host_doubles(const Tensor& t) {
  if (t.dtype() == DType::F64) return t.to_vector<double>();
  const std::vector<float> f = t.to_vector<float>();
  return std::vector<double>(f.begin(), f.end());
}

std::vector<double> pixel_l2(const HostImages& a, const HostImages& b) {
  RP_CHECK(a.n == b.n && a.size() == b.size(), "pixel_l2", "different batches");
  std::vector<double> out;
  for (std::int64_t i = 0; i < a.n; ++i) {
    double sq = 0;
    for (std::int64_t k = i * a.size(); k < (i + 1) * a.size(); ++k) {
      const double d = static_cast<double>(a.pixels[static_cast<std::size_t>(k)]) -
                       static_cast<double>(b.pixels[static_cast<std::size_t>(k)]);
      sq += d * d;
    }
    out.push_back(std::sqrt(sq));
  }
  return out;
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0.0 : s / static_cast<double>(v.size());
}

Optimized optimize(Context& ctx, Network& net, const HostImages& seeds, Objective& objective,
                   const AttackParams& p, RngStream rng, Progress* progress) {
  net.prepare(ctx, std::max(net.max_batch(), seeds.n));
  PgdAttack attack(net, ctx.device(), seeds.n);
  // The observer is a host call inside the loop: fine on the CPU, where the loop runs on the
  // host anyway; on a GPU it would report how fast work is queued and keep the loop from being
  // captured as a CUDA graph, so there progress waits for chunked runs.
  if (progress != nullptr && ctx.device().is_cpu()) {
    const std::int64_t total = p.steps * p.restarts;
    attack.set_observer([progress, total, &p, &seeds](std::int64_t restart, std::int64_t it,
                                                      const Tensor&, const Tensor&) {
      const std::int64_t done = restart * p.steps + it;
      if (done > 0 && done < total) progress->update(done, done * seeds.n, "");
    });
  }
  const Tensor x0 = seeds.to_tensor(ctx.device(), net.spec().dtype);
  const Tensor& found = attack.run(ctx, x0, objective, p, rng);
  Optimized out{HostImages::from_tensor(found), {}};
  if (p.use_best || p.restarts > 1) {
    out.values = host_doubles(attack.result_values());
  } else {
    // The attack skips its final evaluation without use_best: evaluate the result here.
    const bool rep = objective.reads_representation();
    net.forward(ctx, found, ForwardOptions{BnMode::Eval, objective.fake_relu(), !rep});
    Tensor values = Tensor::empty(Shape{seeds.n}, net.spec().dtype, ctx.device());
    objective.values(ctx, rep ? net.representation() : net.logits(), values);
    out.values = host_doubles(values);
  }
  return out;
}

}  // namespace rp
