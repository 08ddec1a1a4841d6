#include "engine/experiments/experiments.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "engine/adv/objective.h"
#include "engine/core/error.h"
#include "engine/ops/objectives.h"

namespace rp {
namespace {

void check_iterations(const AttackParams& p, const char* what) {
  RP_CHECK(p.steps >= 1, what, "needs at least one iteration, found " << p.steps);
  validate(p);
}

// R(x)_k per image of a batch.
std::vector<double> coordinate_values(Context& ctx, Network& net, const HostImages& x,
                                      const std::vector<std::int32_t>& k) {
  const Tensor reps = representations(ctx, net, x.to_tensor(ctx.device(), net.spec().dtype));
  const std::vector<double> r = host_doubles(reps);
  const std::int64_t f = net.representation_size();
  std::vector<double> out;
  for (std::int64_t i = 0; i < x.n; ++i)
    out.push_back(r[static_cast<std::size_t>(i * f + k[static_cast<std::size_t>(i)])]);
  return out;
}

// The distance objective divides by ||r|| per row: an all-zero target (a post-ReLU R(x) can be)
// has no direction to match.
void check_goals_nonzero(const std::vector<double>& goals, std::int64_t f, const char* what) {
  for (std::size_t row = 0; row * static_cast<std::size_t>(f) < goals.size(); ++row) {
    double sq = 0;
    for (std::int64_t k = 0; k < f; ++k) {
      const double v = goals[row * static_cast<std::size_t>(f) + static_cast<std::size_t>(k)];
      sq += v * v;
    }
    RP_CHECK(sq > 0, what,
             "target " << row << " has an all-zero representation R(x): nothing to match");
  }
}

void check_coordinates(const Network& net, const std::vector<std::int32_t>& k, const char* what) {
  for (std::int32_t c : k) {
    RP_CHECK(c >= 0 && c < net.representation_size(), what,
             "coordinate " << c << " is outside R(x)'s " << net.representation_size()
                           << " coordinates (0 to " << net.representation_size() - 1 << ")");
  }
}

}  // namespace

InversionResult invert(Context& ctx, Network& net, const HostImages& targets,
                       const std::vector<std::int32_t>& target_labels, const HostImages& seeds,
                       const InversionParams& p, RngStream rng, Progress* progress) {
  check_iterations(p.attack, "invert");
  RP_CHECK(
      targets.n == seeds.n && targets.n == static_cast<std::int64_t>(target_labels.size()) &&
          targets.n >= 1,
      "invert",
      targets.n << " targets, " << seeds.n << " seeds and " << target_labels.size() << " labels");
  const DType dt = net.spec().dtype;
  const Tensor goal = representations(ctx, net, targets.to_tensor(ctx.device(), dt));
  check_goals_nonzero(host_doubles(goal), net.representation_size(), "invert");
  RepresentationDistance objective(goal);
  InversionResult r;
  {
    // The starting distance, for the record.
    const Tensor seed_reps = representations(ctx, net, seeds.to_tensor(ctx.device(), dt));
    Tensor d = Tensor::empty(Shape{seeds.n}, dt, ctx.device());
    representation_distance_forward(ctx, seed_reps, goal, d);
    r.start_distance = host_doubles(d);
  }
  Optimized o = optimize(ctx, net, seeds, objective, p.attack, rng, progress);
  r.results = std::move(o.images);
  r.representation_distance = std::move(o.values);
  r.pixel_distance = pixel_l2(r.results, targets);
  r.predicted = predict(ctx, net, r.results.to_tensor(ctx.device(), dt));
  for (std::int64_t i = 0; i < targets.n; ++i) {
    r.classified_as_target.push_back(r.predicted[static_cast<std::size_t>(i)] ==
                                     target_labels[static_cast<std::size_t>(i)]);
  }
  return r;
}

InterpolationResult interpolate(Context& ctx, Network& net, const HostImages& left,
                                const HostImages& right, const InterpolationParams& p,
                                RngStream rng, Progress* progress) {
  check_iterations(p.attack, "interpolate");
  RP_CHECK(left.n == right.n && left.n >= 1 && left.size() == right.size(), "interpolate",
           left.n << " left and " << right.n << " right images");
  RP_CHECK(p.frames >= 2, "interpolate", "needs at least 2 frames, found " << p.frames);
  const DType dt = net.spec().dtype;
  const std::vector<double> rl =
      host_doubles(representations(ctx, net, left.to_tensor(ctx.device(), dt)));
  const std::vector<double> rr =
      host_doubles(representations(ctx, net, right.to_tensor(ctx.device(), dt)));
  const std::int64_t f = net.representation_size(), n = left.n * p.frames, d = left.size();
  InterpolationResult r;
  r.pairs = left.n;
  r.frames = p.frames;
  r.blends = left;
  r.blends.n = n;
  r.blends.pixels.resize(static_cast<std::size_t>(n * d));
  std::vector<double> goals(static_cast<std::size_t>(n * f));
  for (std::int64_t pair = 0; pair < left.n; ++pair) {
    for (std::int64_t j = 0; j < p.frames; ++j) {
      const double lambda = static_cast<double>(j) / static_cast<double>(p.frames - 1);
      const std::int64_t row = pair * p.frames + j;
      for (std::int64_t k = 0; k < d; ++k) {
        const auto src = static_cast<std::size_t>(pair * d + k);
        r.blends.pixels[static_cast<std::size_t>(row * d + k)] =
            static_cast<float>((1 - lambda) * static_cast<double>(left.pixels[src]) +
                               lambda * static_cast<double>(right.pixels[src]));
      }
      for (std::int64_t k = 0; k < f; ++k) {
        const auto src = static_cast<std::size_t>(pair * f + k);
        goals[static_cast<std::size_t>(row * f + k)] = (1 - lambda) * rl[src] + lambda * rr[src];
      }
    }
  }
  check_goals_nonzero(goals, f, "interpolate");
  Tensor goal = dt == DType::F64
                    ? Tensor::from_vector(goals, Shape{n, f}, ctx.device())
                    : Tensor::from_vector(std::vector<float>(goals.begin(), goals.end()),
                                          Shape{n, f}, ctx.device());
  RepresentationDistance objective(goal);
  Optimized o = optimize(ctx, net, r.blends, objective, p.attack, rng, progress);
  r.results = std::move(o.images);
  r.representation_distance = std::move(o.values);
  // Smoothness: the mean step between consecutive frames, against the blend's.
  for (std::int64_t pair = 0; pair < left.n; ++pair) {
    double path = 0, blend = 0;
    for (std::int64_t j = 0; j + 1 < p.frames; ++j) {
      const std::int64_t a = pair * p.frames + j;
      double sa = 0, sb = 0;
      for (std::int64_t k = 0; k < d; ++k) {
        const auto u = static_cast<std::size_t>(a * d + k),
                   v = static_cast<std::size_t>((a + 1) * d + k);
        const double da =
            static_cast<double>(r.results.pixels[v]) - static_cast<double>(r.results.pixels[u]);
        const double db =
            static_cast<double>(r.blends.pixels[v]) - static_cast<double>(r.blends.pixels[u]);
        sa += da * da;
        sb += db * db;
      }
      path += std::sqrt(sa);
      blend += std::sqrt(sb);
    }
    r.path_step.push_back(path / static_cast<double>(p.frames - 1));
    r.blend_step.push_back(blend / static_cast<double>(p.frames - 1));
  }
  return r;
}

FeatureResult visualize(Context& ctx, Network& net, const HostImages& seeds,
                        const std::vector<std::int32_t>& coordinates, const VisualizationParams& p,
                        RngStream rng, Progress* progress) {
  check_iterations(p.attack, "visualize");
  RP_CHECK(seeds.n == static_cast<std::int64_t>(coordinates.size()) && seeds.n >= 1, "visualize",
           seeds.n << " seeds for " << coordinates.size() << " coordinates");
  check_coordinates(net, coordinates, "visualize");
  FeatureResult r;
  r.value_before = coordinate_values(ctx, net, seeds, coordinates);
  const Tensor k = Tensor::from_vector(coordinates, Shape{seeds.n}, ctx.device());
  CoordinateObjective objective(k, std::nullopt);
  Optimized o = optimize(ctx, net, seeds, objective, p.attack, rng, progress);
  r.results = std::move(o.images);
  r.value_after = std::move(o.values);
  r.pixel_moved = pixel_l2(r.results, seeds);
  return r;
}

std::vector<double> dataset_representations(Context& ctx, Network& net, const Dataset& data,
                                            std::int64_t batch) {
  std::vector<double> out;
  for (std::int64_t begin = 0; begin < data.size(); begin += batch) {
    std::vector<std::int64_t> idx(static_cast<std::size_t>(std::min(batch, data.size() - begin)));
    std::iota(idx.begin(), idx.end(), begin);
    const HostImages x = HostImages::from_dataset(data, idx);
    const std::vector<double> r =
        host_doubles(representations(ctx, net, x.to_tensor(ctx.device(), net.spec().dtype)));
    out.insert(out.end(), r.begin(), r.end());
  }
  return out;
}

MaximizingInputsResult maximizing_inputs(Context& ctx, Network& net, const Dataset& data,
                                         const std::vector<std::int32_t>& coordinates,
                                         const MaximizingInputsParams& p, RngStream rng,
                                         Progress* progress) {
  check_iterations(p.attack, "maximizing inputs");
  check_coordinates(net, coordinates, "maximizing inputs");
  RP_CHECK(p.top >= 1 && p.top <= data.size(), "maximizing inputs",
           "top must be in [1, " << data.size() << "], found " << p.top);
  const auto n = static_cast<std::int64_t>(coordinates.size());
  MaximizingInputsResult r;
  const HostImages seeds = constant_seeds(n, net.spec(), p.gray);
  r.optimized.value_before = coordinate_values(ctx, net, seeds, coordinates);
  const Tensor k = Tensor::from_vector(coordinates, Shape{n}, ctx.device());
  CoordinateObjective objective(k, std::nullopt);
  Optimized o = optimize(ctx, net, seeds, objective, p.attack, rng, progress);
  r.optimized.results = std::move(o.images);
  r.optimized.value_after = std::move(o.values);
  r.optimized.pixel_moved = pixel_l2(r.optimized.results, seeds);
  // Rank the dataset by each coordinate.
  const std::vector<double> reps = dataset_representations(ctx, net, data);
  const std::int64_t f = net.representation_size();
  for (std::int32_t c : coordinates) {
    std::vector<std::int64_t> order(static_cast<std::size_t>(data.size()));
    std::iota(order.begin(), order.end(), 0);
    const auto value = [&](std::int64_t i) { return reps[static_cast<std::size_t>(i * f + c)]; };
    std::stable_sort(order.begin(), order.end(),
                     [&](std::int64_t a, std::int64_t b) { return value(a) > value(b); });
    std::vector<std::int64_t> top(order.begin(), order.begin() + p.top),
        bottom(order.end() - p.top, order.end());
    std::reverse(bottom.begin(), bottom.end());  // the very lowest first
    std::vector<double> tv, bv;
    for (std::int64_t i : top) tv.push_back(value(i));
    for (std::int64_t i : bottom) bv.push_back(value(i));
    r.top.push_back(top);
    r.bottom.push_back(bottom);
    r.top_values.push_back(tv);
    r.bottom_values.push_back(bv);
  }
  return r;
}

FeatureResult add_feature(Context& ctx, Network& net, const HostImages& images,
                          std::int32_t coordinate, const ManipulationParams& p, RngStream rng,
                          Progress* progress) {
  check_iterations(p.attack, "add feature");
  RP_CHECK(images.n >= 1, "add feature", "no images");
  RP_CHECK(std::isfinite(p.tau), "add feature", "tau must be finite, found " << p.tau);
  const std::vector<std::int32_t> k(static_cast<std::size_t>(images.n), coordinate);
  check_coordinates(net, k, "add feature");
  FeatureResult r;
  r.value_before = coordinate_values(ctx, net, images, k);
  CoordinateObjective objective(Tensor::from_vector(k, Shape{images.n}, ctx.device()), p.tau);
  Optimized o = optimize(ctx, net, images, objective, p.attack, rng, progress);
  r.results = std::move(o.images);
  r.value_after = coordinate_values(ctx, net, r.results, k);
  r.pixel_moved = pixel_l2(r.results, images);
  return r;
}

std::int32_t most_activated_coordinate(Context& ctx, Network& net, const HostImages& sources,
                                       const Dataset& data) {
  RP_CHECK(sources.n >= 1 && data.size() >= 2, "most activated coordinate",
           "needs feature sources and a dataset");
  const std::int64_t f = net.representation_size();
  const std::vector<double> src =
      host_doubles(representations(ctx, net, sources.to_tensor(ctx.device(), net.spec().dtype)));
  const std::vector<double> all = dataset_representations(ctx, net, data);
  std::int32_t best = 0;
  double best_score = -INFINITY;
  for (std::int64_t k = 0; k < f; ++k) {
    double s = 0, m = 0, sq = 0;
    for (std::int64_t i = 0; i < sources.n; ++i) s += src[static_cast<std::size_t>(i * f + k)];
    for (std::int64_t i = 0; i < data.size(); ++i) {
      const double v = all[static_cast<std::size_t>(i * f + k)];
      m += v;
      sq += v * v;
    }
    s /= static_cast<double>(sources.n);
    m /= static_cast<double>(data.size());
    const double sd =
        std::sqrt(std::max(sq / static_cast<double>(data.size()) - m * m, 0.0)) + 1e-8;
    const double score = (s - m) / sd;
    if (score > best_score) {
      best_score = score;
      best = static_cast<std::int32_t>(k);
    }
  }
  return best;
}

}  // namespace rp
