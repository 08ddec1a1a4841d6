// The four representation experiments of "Adversarial Robustness as a Prior for Learned
// Representations", as the authors' notebooks run them (defaults below; see the table in
// the README), each solving its whole batch as one batch on the device. R(x) is read with
// fake-ReLU on the last ReLU (RepresentationDistance and CoordinateObjective do that).
//
//   invert             from seeds (N(0.5, 0.05^2) noise, or source images), minimize
//                      ||R(x) - R(x2)|| / ||R(x2)|| for targets x2: L2 eps 1000, step 1,
//                      10,000 iterations
//   interpolate        for pairs (xL, xR), frames j = 0..9, lambda = j/9: from the pixel blend
//                      (1-lambda) xL + lambda xR, minimize the distance to (1-lambda) R(xL) +
//                      lambda R(xR): step 0.1 (32x32 data), 10,000 iterations, use_best
//   visualize          maximize R(x)_k from seeds: eps 1000, step 1, 200 iterations
//   maximizing_inputs  maximize R(x)_k from gray 0.5: eps 500, step 0.5, 1,500 iterations,
//                      use_best; with the top and bottom test images ranked by R(x)_k
//   add_feature        maximize min(R(x)_k - tau, 0) from images: tau 1, eps 1000, step 0.1,
//                      800 iterations, use_best
// All use the L2 threat model and no random start. The network runs with BN in eval mode. A
// progress, when given, follows the optimization's iterations.
#pragma once

#include <cstdint>
#include <vector>

#include "engine/adv/pgd.h"
#include "engine/data/dataset.h"
#include "engine/experiments/common.h"

namespace rp {

struct InversionParams {
  AttackParams attack{ThreatModel::L2, 1000, 1.0, 10000, false, 1, false};
  double noise_mean = 0.5, noise_std = 0.05;
};
struct InversionResult {
  HostImages results;
  std::vector<double> representation_distance;  // ||R(x) - R(x2)|| / ||R(x2)|| reached
  std::vector<double> start_distance;           // the same from the seed
  std::vector<double> pixel_distance;           // ||x - x2||
  std::vector<std::int32_t> predicted;          // the result's class
  std::vector<bool> classified_as_target;       // predicted == the target's label
};
InversionResult invert(Context& ctx, Network& net, const HostImages& targets,
                       const std::vector<std::int32_t>& target_labels, const HostImages& seeds,
                       const InversionParams& p, RngStream rng, Progress* progress = nullptr);

struct InterpolationParams {
  AttackParams attack{ThreatModel::L2, 1000, 0.1, 10000, false, 1, true};
  std::int64_t frames = 10;
};
struct InterpolationResult {
  std::int64_t pairs = 0, frames = 0;
  HostImages blends, results;                   // (pairs * frames), pair-major
  std::vector<double> representation_distance;  // per frame, reached
  std::vector<double> path_step, blend_step;    // per pair: mean ||frame_j+1 - frame_j||
};
InterpolationResult interpolate(Context& ctx, Network& net, const HostImages& left,
                                const HostImages& right, const InterpolationParams& p,
                                RngStream rng, Progress* progress = nullptr);

struct VisualizationParams {
  AttackParams attack{ThreatModel::L2, 1000, 1.0, 200, false, 1, false};
};
struct FeatureResult {
  HostImages results;
  std::vector<double> value_before, value_after;  // R(x)_k at the seed and at the result
  std::vector<double> pixel_moved;                // ||x - seed||
};
FeatureResult visualize(Context& ctx, Network& net, const HostImages& seeds,
                        const std::vector<std::int32_t>& coordinates, const VisualizationParams& p,
                        RngStream rng, Progress* progress = nullptr);

struct MaximizingInputsParams {
  AttackParams attack{ThreatModel::L2, 500, 0.5, 1500, false, 1, true};
  double gray = 0.5;
  std::int64_t top = 5;
};
struct MaximizingInputsResult {
  FeatureResult optimized;                             // one image per coordinate
  std::vector<std::vector<std::int64_t>> top, bottom;  // per coordinate: dataset indices
  std::vector<std::vector<double>> top_values, bottom_values;
};
MaximizingInputsResult maximizing_inputs(Context& ctx, Network& net, const Dataset& data,
                                         const std::vector<std::int32_t>& coordinates,
                                         const MaximizingInputsParams& p, RngStream rng,
                                         Progress* progress = nullptr);

struct ManipulationParams {
  AttackParams attack{ThreatModel::L2, 1000, 0.1, 800, false, 1, true};
  double tau = 1.0;
};
FeatureResult add_feature(Context& ctx, Network& net, const HostImages& images,
                          std::int32_t coordinate, const ManipulationParams& p, RngStream rng,
                          Progress* progress = nullptr);

// R(x) of a whole dataset (batched), host copy (n, F).
std::vector<double> dataset_representations(Context& ctx, Network& net, const Dataset& data,
                                            std::int64_t batch = 256);
// The coordinate the source images activate most relative to the dataset: the largest
// (mean over sources - mean over data) / std over data.
std::int32_t most_activated_coordinate(Context& ctx, Network& net, const HostImages& sources,
                                       const Dataset& data);

}  // namespace rp
