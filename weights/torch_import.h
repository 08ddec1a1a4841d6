// PyTorch checkpoints as robustprior models: from a TorchFile (torch_file.h) to a NetworkSpec,
// the checkpoint's metadata and the network's tensors under the engine's parameter names.
//
// Where the network's state dict lies: the tensor named conv1.weight (every supported
// architecture's stem) under a chain of known wrappers - {'model': ..}, {'state_dict': ..},
// {'net': ..}, {'model_state_dict': ..}, DataParallel's "module.", the robustness library's
// AttackerModel "module.model." - or at the top (a plain state dict). Everything else in the
// file (optimizer, schedule, an opaque pickled object) is ignored. In a robustness-library
// checkpoint "module.attacker.model.*" duplicates the network (checked equal, refused if it
// differs), "module.normalizer.new_mean/new_std" (3,1,1) is the input normalization.
//
// The architecture from the keys and shapes:
//   fc + block1.layer.0.bn1            RobustBench WideResNet: 4 blocks a group -> WRN-28-10,
//                                      5 -> WRN-34-10; width = block1's channels / 160
//   fc + 7x7 conv1                     torchvision ResNet: Bottleneck (conv3) [3,4,6,3] ->
//                                      imagenet_resnet50, BasicBlock [2,2,2,2] -> imagenet_resnet18
//   linear + bn (final BN)             fast_adversarial's PreActResNet-18
//   linear + 3x3 conv1                 robustness-library CIFAR ResNet: Bottleneck -> resnet50,
//                                      BasicBlock [2,2,2,2] -> resnet18, [3,4,6,3] -> resnet34
// width = conv1's output channels / 64 for the ResNets; classes = the head's rows.
//
// Refused, naming the file and the tensor: no state dict found, an architecture that matches
// none (or another than --arch's keys), missing or unexpected keys (with the closest name on the
// other side by edit distance), shapes that differ, non-float parameters, non-finite values in
// any parameter, buffer or normalizer, an attacker copy that differs, a tensor the reader could
// not rebuild.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "weights/checkpoint.h"
#include "weights/torch_file.h"

namespace rp {

struct TorchImportOptions {
  std::string arch;             // empty: inferred from the keys
  std::string normalization;    // empty: the file's normalizer, else the family's; or cifar10,
                                // imagenet, none, "m0,m1,m2/s0,s1,s2"
  std::string dataset;          // empty: by class count (10 cifar10, 9 restricted_imagenet,
                                // 1000 imagenet, otherwise "unknown")
  std::int64_t image_size = 0;  // 0: 32 for the CIFAR families, 224 for imagenet_*
};

// What the keys and shapes say: the architecture (empty if none matches, `why` says why not),
// width multiplier and class count.
struct TorchArchitecture {
  std::string arch;
  double width = 1.0;
  std::int64_t num_classes = 0;
  std::string why;  // how it was recognised, or why nothing matched
};

// `shapes`: a state dict's tensor names (without any wrapper prefix) and shapes. `arch` forces
// the architecture (its width and classes are still read from the shapes).
TorchArchitecture infer_torch_architecture(
    const std::map<std::string, std::vector<std::int64_t>>& shapes, const std::string& arch = "");

// The mean and std of a --normalization value; rp::Error for anything else.
void parse_normalization(const std::string& text, std::vector<double>& mean,
                         std::vector<double>& std);

struct TorchImportTensor {
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // row-major
};

struct TorchImport {
  std::string source, source_format;  // the file and its serialization ("zip" or "legacy")
  CheckpointInfo info;  // spec (arch, width, classes, image size, normalization), dataset,
                        // class names, epoch; config {} (the run's settings are unknown)
  std::string state_dict_prefix;   // where the network lies in the file, e.g. "model.module.model."
  std::vector<std::string> notes;  // how each field was found, for the user
  std::map<std::string, TorchImportTensor> tensors;     // the network's, under the engine's names
  std::map<std::string, std::int64_t> batches_tracked;  // BN name -> num_batches_tracked
};

TorchImport import_torch(const TorchFile& file, const TorchImportOptions& opt = {});

// A file that starts as a torch.save file does: "PK\x03\x04" (zip) or a pickle PROTO 2-5 that
// is not a safetensors header. False for a file that cannot be read.
bool is_torch_file(const std::string& path);

}  // namespace rp
