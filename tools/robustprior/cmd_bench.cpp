// robustprior bench: a named workload's throughput (engine/bench/workloads.h), printed and
// written as JSON in the format bench/pytorch/bench_torch.py writes for PyTorch, so
// tools/bench_compare.sh can set them side by side. --profile adds where the time went.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/bench/workloads.h"
#include "engine/core/build_info.h"
#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/profiler.h"
#include "engine/train/config.h"
#include "models/registry.h"
#include "tools/robustprior/commands.h"

namespace rp::cli {
namespace {

struct BenchCliOptions {
  BenchOptions bench;
  std::string arch = "resnet18";
  double width = 1.0;
  std::string device = "cpu";
  int threads = 0;
  bool tf32 = false, profile = false, quiet = false;
  std::string json;
};

std::string iso_date() {
  const std::time_t now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return buf;
}

void run_bench(const BenchCliOptions& o) {
  const BenchOptions resolved = resolve(o.bench);  // every option checked before any work
  RP_CHECK(o.threads >= 0 && o.threads <= 4096, "bench",
           "--threads must be in [0, 4096] (0: all), found " << o.threads);
  Context ctx(ContextOptions{Device::parse(o.device), resolved.seed, o.threads, o.tf32});
  NetworkSpec spec;
  spec.arch = o.arch;
  spec.width = o.width;
  auto net = make_network(spec, ctx.device(), resolved.seed);
  Profiler profiler;
  const BenchResult r = run_benchmark(ctx, *net, resolved, o.profile ? &profiler : nullptr);
  nlohmann::json j = {
      {"engine", "robustprior"},
      {"variant", "native"},
      {"workload", r.workload},
      {"arch", o.arch},
      {"width", o.width},
      {"batch", r.batch},
      {"device", ctx.device().str()},
      {"threads", ctx.device().is_cpu() ? ctx.threads() : 0},
      {"tf32", o.tf32},
      {"warmup", resolved.warmup},
      {"iters", resolved.iters},
      {"repeats", resolved.repeats},
      {"attack_steps", nullptr},
      {"seconds_per_iter", r.seconds_per_iter},
      {"repeat_seconds", r.repeat_seconds},
      {"images_per_s", r.images_per_s},
      {"image_iterations_per_s", nullptr},
      {"version", std::string(build_info::kVersion) + " (" + build_info::kGitCommit + ")"},
      {"date", iso_date()}};
  if (r.attack_steps) j["attack_steps"] = *r.attack_steps;
  if (r.image_iterations_per_s) j["image_iterations_per_s"] = *r.image_iterations_per_s;
  std::printf(
      "%s %s width %g batch %lld on %s%s: %.1f images/s", r.workload.c_str(), o.arch.c_str(),
      o.width, static_cast<long long>(r.batch), ctx.device().str().c_str(),
      ctx.device().is_cpu() ? (" (" + std::to_string(ctx.threads()) + " threads)").c_str() : "",
      r.images_per_s);
  if (r.image_iterations_per_s) std::printf(", %.1f image-iterations/s", *r.image_iterations_per_s);
  std::printf(" (median of %lld runs of %lld iterations)\n",
              static_cast<long long>(resolved.repeats), static_cast<long long>(resolved.iters));
  if (o.profile) {
    double total = 0;
    for (double t : r.repeat_seconds) total += t;
    std::printf("\nprofile of the timed runs (%s):\n%s",
                ctx.device().is_cuda() ? "CUDA events" : "host clock",
                profiler.table(total).c_str());
    nlohmann::json rows = nlohmann::json::array();
    for (ProfileKind kind : {ProfileKind::Phase, ProfileKind::Layer, ProfileKind::Op}) {
      for (const Profiler::Row& row : profiler.rows(kind)) {
        rows.push_back({{"kind", profile_kind_name(kind)},
                        {"name", row.name},
                        {"calls", row.calls},
                        {"seconds", row.seconds},
                        {"share", total > 0 ? row.seconds / total : 0.0}});
      }
    }
    j["profile"] = {{"total_seconds", total}, {"rows", rows}};
  }
  if (!o.json.empty()) {
    write_file_atomic(o.json, j.dump(2) + "\n");
    if (!o.quiet) std::printf("results in %s\n", o.json.c_str());
  }
}

}  // namespace

void add_bench_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time a named workload (images/s; with --profile, where the time goes)");
  auto o = std::make_shared<BenchCliOptions>();
  cmd->add_option("--workload", o->bench.workload,
                  "train-step, pgd-train-step, fgsm-rs-step, pgd-eval or invert-iter")
      ->capture_default_str();
  cmd->add_option("--arch", o->arch,
                  "resnet18, resnet34, resnet50, preact_resnet18, imagenet_resnet18, "
                  "imagenet_resnet50, wide_resnet28_10 or wide_resnet34_10")
      ->capture_default_str();
  cmd->add_option("--width", o->width, "channel multiplier")->capture_default_str();
  cmd->add_option("--batch", o->bench.batch, "batch size (0: 10 for invert-iter, else 128)")
      ->capture_default_str();
  cmd->add_option("--attack-steps", o->bench.attack_steps,
                  "PGD steps (0: 7 for pgd-train-step, 20 for pgd-eval)")
      ->capture_default_str();
  cmd->add_option("--warmup", o->bench.warmup, "untimed iterations first")->capture_default_str();
  cmd->add_option("--iters", o->bench.iters, "iterations per timed run")->capture_default_str();
  cmd->add_option("--repeats", o->bench.repeats, "timed runs; the median counts")
      ->capture_default_str();
  cmd->add_option("--seed", o->bench.seed, "seed of the inputs and parameters")
      ->capture_default_str();
  cmd->add_option("--device", o->device, "cpu, cuda or cuda:N")->capture_default_str();
  cmd->add_option("--threads", o->threads, "CPU threads (0: all)")->capture_default_str();
  cmd->add_flag("--tf32", o->tf32, kTf32Help);
  cmd->add_flag("--profile", o->profile,
                "Print (and write in the JSON) the time per phase, layer and op of the timed runs");
  cmd->add_option("--json", o->json, "where to write the result as JSON");
  cmd->add_flag("--quiet", o->quiet, "Only the result line");
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace rp::cli
