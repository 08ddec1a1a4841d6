// robustprior convert: a PyTorch checkpoint (torch.save: the robustness library's, torchvision's,
// RobustBench's, fast_adversarial's) to a robustprior checkpoint. The architecture, width,
// classes, normalization and dataset are inferred (torch_import.h) unless given; the result is
// loaded into a network before anything is written, and written atomically.
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/error.h"
#include "tools/robustprior/commands.h"
#include "weights/checkpoint.h"
#include "weights/torch_import.h"

namespace rp::cli {
namespace {

struct ConvertOptions {
  std::string in, out;
  TorchImportOptions import;
};

void run_convert(const ConvertOptions& o) {
  RP_CHECK(is_torch_file(o.in), "convert",
           o.in << " is not a PyTorch checkpoint (a torch.save file starts with a zip or a "
                   "pickle header); robustprior checkpoints need no conversion");
  RP_CHECK(o.import.image_size >= 0, "convert",
           "--image-size must be > 0 (0: the family's), found " << o.import.image_size);
  const TorchImport imp = import_torch(TorchFile::open(o.in), o.import);
  // The whole checkpoint is loaded once: a file that would not load is never written.
  Checkpoint::from_import(imp).load_network(Device::cpu());
  save_imported_checkpoint(o.out, imp);

  const NetworkSpec& s = imp.info.spec;
  std::cout << o.in << " (" << imp.source_format << ") -> " << o.out << "\n";
  for (const std::string& note : imp.notes) std::cout << "  " << note << "\n";
  std::cout << "  model: " << s.arch << ", width " << s.width << ", " << s.num_classes
            << " classes, " << s.channels << "x" << s.image_h << "x" << s.image_w
            << " inputs, mean " << nlohmann::json(s.mean).dump() << ", std "
            << nlohmann::json(s.std).dump() << ", " << imp.tensors.size() << " tensors\n";
}

}  // namespace

void add_convert_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "convert", "A PyTorch checkpoint (.pt/.pth) to a robustprior checkpoint (.safetensors)");
  auto o = std::make_shared<ConvertOptions>();
  cmd->add_option("in", o->in, "the PyTorch checkpoint (torch.save, zip or legacy)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("out", o->out, "the robustprior checkpoint to write")->required();
  cmd->add_option("--arch", o->import.arch, "architecture (default: inferred from the keys)");
  cmd->add_option("--normalization", o->import.normalization,
                  "cifar10, imagenet, none or \"m0,m1,m2/s0,s1,s2\" (default: the file's "
                  "normalizer, else the model family's)");
  cmd->add_option("--dataset", o->import.dataset,
                  "dataset name (default: by class count - 10 cifar10, 9 restricted_imagenet, "
                  "1000 imagenet)");
  cmd->add_option("--image-size", o->import.image_size,
                  "input height and width (default: 32, 224 for imagenet_*)");
  cmd->callback([o] { run_convert(*o); });
}

}  // namespace rp::cli
