// Checkpoints: a network's parameters and BN buffers under PyTorch's names (with each BN's
// num_batches_tracked, as PyTorch's state_dict holds it), optionally the SGD momentum buffer
// ("optimizer.momentum", flat), and metadata - architecture, width, classes, normalization,
// epoch, seed and the full training config - in one safetensors file, written atomically.
//
// Loading validates before it touches a network: the format tag, every metadata field, the
// architecture and class count, every tensor's presence, dtype and shape; unknown tensors are
// refused (a checkpoint of another architecture). Errors name the file and the field or tensor.
//
// A PyTorch checkpoint (torch.save: the robustness library's, torchvision's, RobustBench's, ...)
// opens the same way: torch_import.h maps it to the engine's names and metadata, and the
// Checkpoint holds the result as the safetensors image `convert` writes, so both sources load
// through one path.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "engine/nn/network.h"
#include "weights/safetensors.h"

namespace rp {

struct TorchImport;
struct TorchImportOptions;

struct CheckpointInfo {
  NetworkSpec spec;  // architecture, width, classes, image shape, normalization
  std::string dataset;
  std::vector<std::string> class_names;
  std::int64_t epoch = 0;  // epochs completed
  std::int64_t steps = 0;
  double best_test_accuracy = -1;
  std::uint64_t seed = 0;
  std::int64_t threads = 0;  // CPU threads of the run (results are bit-exact for a given count)
  nlohmann::json config = nlohmann::json::object();  // the run's settings
};

// momentum: undefined when there is none to save (an exported model).
void save_checkpoint(const std::string& path, const Network& net, const Tensor& momentum,
                     const CheckpointInfo& info);

// A PyTorch checkpoint's import (torch_import.h) as a robustprior checkpoint, written
// atomically; its metadata also names the source file, format and state dict.
void save_imported_checkpoint(const std::string& path, const TorchImport& imp);

class Checkpoint {
 public:
  // A robustprior checkpoint, or a torch.save file (detected by its first bytes) imported with
  // the default options.
  static Checkpoint open(const std::string& path);
  static Checkpoint open_torch(const std::string& path, const TorchImportOptions& opt);
  static Checkpoint from_import(const TorchImport& imp);

  // "safetensors", or the torch file's serialization ("zip", "legacy").
  const std::string& source_format() const { return source_format_; }

  const CheckpointInfo& info() const { return info_; }
  const std::string& path() const { return file_.path(); }

  // A network of the checkpoint's architecture holding its weights, on `device`.
  std::unique_ptr<Network> load_network(Device device) const;
  // Into an existing network of the same architecture, width and class count.
  void load_into(Network& net) const;
  bool has_momentum() const { return file_.has(kMomentum); }
  void load_momentum(const Tensor& momentum) const;

  static constexpr const char* kMomentum = "optimizer.momentum";

 private:
  static Checkpoint from_file(SafetensorsFile file);
  // Copies every tensor into `net`, whose entries check_holds has accepted.
  void copy_into(Network& net) const;

  SafetensorsFile file_;
  CheckpointInfo info_;
  std::string source_format_ = "safetensors";
};

}  // namespace rp
