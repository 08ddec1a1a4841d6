// What the four representation experiments share: images in and out of the device, seeds,
// representations, and per-example measurements. Images cross to the host only outside the
// optimization loops (to start and to report).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "engine/adv/pgd.h"
#include "engine/core/context.h"
#include "engine/data/dataset.h"
#include "engine/nn/network.h"
#include "engine/train/progress.h"

namespace rp {

// Host images (n, C, H, W) as floats in [0, 1].
struct HostImages {
  std::int64_t n = 0, channels = 3, height = 32, width = 32;
  std::vector<float> pixels;

  std::int64_t size() const { return channels * height * width; }  // per image
  std::vector<float> image(std::int64_t i) const;
  static HostImages from_dataset(const Dataset& d, const std::vector<std::int64_t>& indices);
  static HostImages from_tensor(const Tensor& t);
  Tensor to_tensor(Device device, DType dtype) const;
};

// Seeds: N(mean, std^2) per pixel, clamped to [0, 1] (the notebooks' noise seeds), or a constant.
HostImages noise_seeds(std::int64_t n, const NetworkSpec& spec, double mean, double std,
                       RngStream rng);
HostImages constant_seeds(std::int64_t n, const NetworkSpec& spec, double value);

// R(x) (n, F) of a batch, a copy on the device.
Tensor representations(Context& ctx, Network& net, const Tensor& x);
// The predicted class of each image.
std::vector<std::int32_t> predict(Context& ctx, Network& net, const Tensor& x);
std::vector<double> host_doubles(const Tensor& t);

// ||a_i - b_i||_2 per image.
std::vector<double> pixel_l2(const HostImages& a, const HostImages& b);
double mean(const std::vector<double>& v);

// An attack configured by its parameters, with the experiment's objective. The network is
// prepared for the batch; returns the images found and the objective's final values. A
// progress, when given, hears of every iteration (it prints only now and then).
struct Optimized {
  HostImages images;
  std::vector<double> values;
};
Optimized optimize(Context& ctx, Network& net, const HostImages& seeds, Objective& objective,
                   const AttackParams& p, RngStream rng, Progress* progress = nullptr);

}  // namespace rp
