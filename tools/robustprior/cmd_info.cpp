// robustprior info: what this binary was built with and what it can run on - version, build
// options, CPU threads, and the CUDA devices it sees or why it sees none. Never fails for want
// of a GPU: that is part of the answer.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>

#include "engine/core/build_info.h"
#include "engine/core/context.h"
#include "engine/core/cuda_runtime.h"
#include "tools/robustprior/commands.h"

namespace rp::cli {
namespace {

// cudaRuntimeGetVersion/cudaDriverGetVersion: 1000 major + 10 minor; 0 when absent.
std::string cuda_version(int v) {
  if (v <= 0) return "none";
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

// cudnnGetVersion (cuDNN 9): 10000 major + 100 minor + patch; 0 when absent.
std::string cudnn_version(std::size_t v) {
  if (v == 0) return "none";
  return std::to_string(v / 10000) + "." + std::to_string((v % 10000) / 100) + "." +
         std::to_string(v % 100);
}

nlohmann::json collect() {
  namespace bi = build_info;
  nlohmann::json j;
  j["version"] = bi::kVersion;
  j["git_commit"] = bi::kGitCommit;
  j["build"] = {
      {"type", bi::kBuildType},
      {"compiler", bi::kCxxCompiler},
      {"cpu_target", std::string(bi::kCpuArch).empty() ? "compiler default" : bi::kCpuArch},
      {"eigen", bi::kEigen},
      {"cuda", bi::kCuda},
      {"cuda_reason", bi::kCudaReason},
      {"nvcc", bi::kCudaCompiler},
      {"cuda_architectures", bi::kCudaArchitectures},
      {"cudnn_headers", bi::kCudnnHeaders},
      {"cuda_sync_after_launch", bi::kCudaSyncDebug}};
  j["cpu"] = {{"threads", Context::default_threads()},
              {"hardware_threads", std::thread::hardware_concurrency()}};
  const CudaRuntimeInfo info = cuda_runtime_info();
  nlohmann::json devices = nlohmann::json::array();
  for (const CudaDeviceInfo& d : info.devices) {
    devices.push_back({{"ordinal", d.ordinal},
                       {"name", d.name},
                       {"compute_capability",
                        std::to_string(d.compute_major) + "." + std::to_string(d.compute_minor)},
                       {"memory_gib", static_cast<double>(d.total_memory) / (1u << 30)},
                       {"multiprocessors", d.multiprocessors}});
  }
  j["cuda"] = {{"compiled", info.compiled},
               {"runtime", cuda_version(info.runtime_version)},
               {"driver", cuda_version(info.driver_version)},
               {"cudnn_loaded", cudnn_version(info.cudnn_version)},
               {"cublas_loaded", info.cublas_version.empty() ? "none" : info.cublas_version},
               {"devices", devices},
               {"why_none", info.why_none}};
  return j;
}

void print_text(const nlohmann::json& j) {
  const auto& b = j["build"];
  const auto& c = j["cuda"];
  std::cout << "robustprior " << j["version"].get<std::string>() << " (commit "
            << j["git_commit"].get<std::string>() << ", " << b["type"].get<std::string>()
            << " build)\n";
  std::cout << "build\n"
            << "  compiler      " << b["compiler"].get<std::string>() << ", C++17\n"
            << "  cpu target    " << b["cpu_target"].get<std::string>() << "\n"
            << "  eigen         " << b["eigen"].get<std::string>() << "\n"
            << "  cuda backend  ";
  if (b["cuda"].get<bool>()) {
    std::cout << "on (nvcc " << b["nvcc"].get<std::string>() << ", sm_"
              << b["cuda_architectures"].get<std::string>() << ", cuDNN headers "
              << b["cudnn_headers"].get<std::string>() << ", sync after launch "
              << (b["cuda_sync_after_launch"].get<bool>() ? "on" : "off") << ")\n";
  } else {
    std::cout << "off (" << b["cuda_reason"].get<std::string>() << ")\n";
  }
  std::cout << "cpu\n"
            << "  threads       " << j["cpu"]["threads"].get<int>() << " (hardware threads "
            << j["cpu"]["hardware_threads"].get<unsigned>() << "; ROBUSTPRIOR_THREADS overrides)\n";
  std::cout << "cuda\n";
  if (c["compiled"].get<bool>()) {
    std::cout << "  runtime       " << c["runtime"].get<std::string>() << ", driver "
              << c["driver"].get<std::string>() << ", cuDNN loaded "
              << c["cudnn_loaded"].get<std::string>() << ", cuBLAS loaded "
              << c["cublas_loaded"].get<std::string>() << "\n";
  }
  if (c["devices"].empty()) {
    std::cout << "  devices       none: " << c["why_none"].get<std::string>() << "\n";
    return;
  }
  for (const auto& d : c["devices"]) {
    std::printf("  cuda:%d        %s, compute %s, %.1f GiB, %d SMs\n", d["ordinal"].get<int>(),
                d["name"].get<std::string>().c_str(),
                d["compute_capability"].get<std::string>().c_str(), d["memory_gib"].get<double>(),
                d["multiprocessors"].get<int>());
  }
}

}  // namespace

void add_info_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "info", "Version, build options, CPU threads and the CUDA devices this binary sees");
  auto as_json = std::make_shared<bool>(false);
  cmd->add_flag("--json", *as_json, "Print one JSON object instead of text");
  cmd->callback([as_json] {
    const nlohmann::json j = collect();
    if (*as_json) {
      std::cout << j.dump(2) << "\n";
    } else {
      print_text(j);
    }
  });
}

}  // namespace rp::cli
