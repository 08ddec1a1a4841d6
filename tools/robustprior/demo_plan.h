// What `robustprior demo` runs, by size: the two training runs (standard and L2-robust) and
// the experiments' batches and iteration counts. The authors' step sizes and radii are kept;
// iteration counts shrink with the size so that the whole demo fits its time (`cpu`: about ten
// minutes on two CPU cores), and the manifests record every value used.
#pragma once

#include <cstdint>
#include <string>

#include "engine/experiments/report.h"
#include "engine/train/config.h"

namespace rp::cli {

struct DemoData {
  std::string kind = "synthetic";  // synthetic, cifar10, folder
  std::string dir;
};
// "synthetic", "cifar10:DIR" or "folder:DIR".
DemoData parse_demo_data(const std::string& text);

struct DemoPlan {
  std::string size;  // tiny (tests), cpu, gpu
  TrainConfig standard, robust;
  std::int64_t inversion_targets = 10, interpolation_pairs = 3, visualization_images = 2,
               visualization_noise = 2, visualization_coordinates = 5, maximizing_coordinates = 2,
               manipulation_images = 10, feature_sources = 20, robust_eval_images = 500;
  InversionParams inversion;
  InterpolationParams interpolation;
  VisualizationParams visualization;
  MaximizingInputsParams maximizing;
  ManipulationParams manipulation;
};

// size: tiny, cpu or gpu. Training runs write under out_dir/models/<role>.
DemoPlan demo_plan(const std::string& size, const DemoData& data, const std::string& out_dir,
                   std::uint64_t seed, const std::string& device, std::int64_t threads);
// Caps every experiment's iterations at `most` (a quick preview of a size's layout and
// batches; the manifests record the counts used). Throws rp::Error when most < 1.
void cap_iterations(DemoPlan& plan, std::int64_t most);

}  // namespace rp::cli
