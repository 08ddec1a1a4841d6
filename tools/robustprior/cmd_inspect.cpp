// robustprior inspect: what a checkpoint holds - every tensor (name, dtype, shape) and its
// metadata - for a robustprior checkpoint (.safetensors) or a PyTorch one (.pt: also its scalars,
// such as the epoch, and the architecture robustprior infers from it, or why none).
#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/core/error.h"
#include "tools/robustprior/commands.h"
#include "weights/safetensors.h"
#include "weights/torch_file.h"
#include "weights/torch_import.h"

namespace rp::cli {
namespace {

struct InspectOptions {
  std::string file;
  bool json = false;
};

nlohmann::json tensor_row(const std::string& name, const std::string& dtype,
                          const std::vector<std::int64_t>& shape) {
  return {{"name", name}, {"dtype", dtype}, {"shape", shape}};
}

nlohmann::json inspect_torch(const std::string& path) {
  const TorchFile f = TorchFile::open(path);
  nlohmann::json j{{"file", path}, {"format", f.format()}};
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, t] : f.tensors()) {
    nlohmann::json row = tensor_row(name, t.dtype, t.shape);
    if (!t.problem.empty()) row["problem"] = t.problem;
    tensors.push_back(row);
  }
  j["tensors"] = tensors;
  j["scalars"] = f.scalars();
  try {
    const TorchImport imp = import_torch(f);
    const NetworkSpec& s = imp.info.spec;
    j["inferred"] = {{"arch", s.arch},
                     {"width", s.width},
                     {"num_classes", s.num_classes},
                     {"image_shape", {s.channels, s.image_h, s.image_w}},
                     {"mean", s.mean},
                     {"std", s.std},
                     {"dataset", imp.info.dataset},
                     {"epoch", imp.info.epoch},
                     {"state_dict", imp.state_dict_prefix},
                     {"notes", imp.notes}};
  } catch (const Error& e) {
    j["inferred"] = nullptr;
    j["why_not"] = e.detail();
  }
  return j;
}

nlohmann::json inspect_safetensors(const std::string& path) {
  const SafetensorsFile f = SafetensorsFile::read(path);
  nlohmann::json j{{"file", path}, {"format", "safetensors"}};
  nlohmann::json tensors = nlohmann::json::array();
  for (const auto& [name, t] : f.tensors()) tensors.push_back(tensor_row(name, t.dtype, t.shape));
  j["tensors"] = tensors;
  // Values stored as JSON text (robustprior's metadata) are shown as JSON; others as strings.
  nlohmann::json meta = nlohmann::json::object();
  for (const auto& [key, value] : f.metadata()) {
    try {
      meta[key] = nlohmann::json::parse(value);
    } catch (const nlohmann::json::exception&) {
      meta[key] = value;
    }
  }
  j["metadata"] = meta;
  return j;
}

void print_text(const nlohmann::json& j) {
  std::cout << j["file"].get<std::string>() << ": " << j["format"].get<std::string>() << ", "
            << j["tensors"].size() << " tensors\n";
  for (const auto& t : j["tensors"]) {
    std::cout << "  " << t["name"].get<std::string>() << "  " << t["dtype"].get<std::string>()
              << " " << t["shape"].dump();
    if (t.contains("problem"))
      std::cout << "  (unreadable: " << t["problem"].get<std::string>() << ")";
    std::cout << "\n";
  }
  for (const char* section : {"metadata", "scalars"}) {
    if (!j.contains(section)) continue;
    std::cout << section << "\n";
    for (const auto& item : j[section].items()) {
      std::cout << "  " << item.key() << " = " << item.value().dump() << "\n";
    }
  }
  if (j.contains("inferred")) {
    if (j["inferred"].is_null()) {
      std::cout << "inferred: no robustprior model: " << j["why_not"].get<std::string>() << "\n";
    } else {
      std::cout << "inferred\n";
      for (const auto& item : j["inferred"].items()) {
        if (item.key() == "notes") continue;
        std::cout << "  " << item.key() << " = " << item.value().dump() << "\n";
      }
      for (const auto& note : j["inferred"]["notes"]) {
        std::cout << "  " << note.get<std::string>() << "\n";
      }
    }
  }
}

void run_inspect(const InspectOptions& o) {
  const nlohmann::json j =
      is_torch_file(o.file) ? inspect_torch(o.file) : inspect_safetensors(o.file);
  if (o.json) {
    std::cout << j.dump(2) << "\n";
  } else {
    print_text(j);
  }
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "inspect",
      "A checkpoint's tensors and metadata (.safetensors, or a PyTorch .pt with its "
      "scalars and the architecture inferred from it)");
  auto o = std::make_shared<InspectOptions>();
  cmd->add_option("file", o->file, "the checkpoint")->required()->check(CLI::ExistingFile);
  cmd->add_flag("--json", o->json, "Print one JSON object instead of text");
  cmd->callback([o] { run_inspect(*o); });
}

}  // namespace rp::cli
