// Absurd values at the CLI are refused before any work, with a message naming the flag, in
// bounded memory (each run here is capped at 2 GiB of address space: an attempt to allocate for
// a batch of 10^8 would fail the run without the message).
#include <gtest/gtest.h>
#include <png.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <tuple>

#include "tests/data/image_files.h"
#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"

namespace {

using rp::test::CliRun;

// AddressSanitizer reserves terabytes of address space for its shadow memory, so under it the
// cap is its own per-allocation limit instead of ulimit -v.
#if defined(__SANITIZE_ADDRESS__)
constexpr const char* kMemoryCap =
    "export ASAN_OPTIONS=\"$ASAN_OPTIONS:max_allocation_size_mb=2048\"; ";
#else
constexpr const char* kMemoryCap = "ulimit -v 2097152; ";
#endif

CliRun run_capped(const std::string& args) {
  return rp::test::run_cli(ROBUSTPRIOR_CLI, args, kMemoryCap);
}

TEST(CliBounds, AbsurdTrainingFlagsAreRefusedBeforeWork) {
  rp::test::TempDir dir;
  const std::string base = "train --synthetic-train 20 --quiet --out ";
  const std::pair<std::string, std::string> cases[] = {
      {"--batch-size 0", "'batch-size' must be in [1, 65536], found 0"},
      {"--batch-size 100000000", "'batch-size' must be in [1, 65536], found 100000000"},
      {"--epochs -3", "'epochs' must be in [1, 100000], found -3"},
      {"--width 1000000000", "'width' must be in (0, 64]"},
      {"--threads 100000", "'threads' must be in [0, 4096], found 100000"},
      {"--attack-steps 1000000000 --adv pgd", "'attack-steps' must be in [1, 100000]"},
      {"--synthetic-test 1000000000000", "'synthetic-train' and 'synthetic-test' must be in"},
  };
  int i = 0;
  for (const auto& [flags, expected] : cases) {
    const std::string out = dir.file("run" + std::to_string(i++));
    const CliRun r = run_capped(base + out + " " + flags);
    EXPECT_EQ(r.exit_code, 1) << flags << ": " << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << flags << ": " << r.output;
    EXPECT_EQ(r.output.find("bad_alloc"), std::string::npos) << r.output;
  }
}

TEST(CliBounds, AbsurdEvaluationFlagsAreRefused) {
  rp::test::TempDir dir;
  const std::string ck = dir.file("x.safetensors");
  std::ofstream(ck) << "checked after the flags";
  const std::pair<std::string, std::string> cases[] = {
      {"eval --checkpoint " + ck + " --batch-size 100000000", "--batch-size must be in"},
      {"eval --checkpoint " + ck + " --threads 100000", "--threads must be in [0, 4096]"},
      {"eval --checkpoint " + ck + " --subset -1", "--subset must be >= 0"},
  };
  for (const auto& [args, expected] : cases) {
    const CliRun r = run_capped(args);
    EXPECT_NE(r.exit_code, 0) << args;
    EXPECT_NE(r.output.find(expected), std::string::npos) << args << ": " << r.output;
  }
}

// A folder dataset (train/ and test/, two classes of two 4x4 RGB PNGs) with one training image
// spoiled: each is refused naming the file, before training starts, in bounded memory.
TEST(CliBounds, AbsurdImagesAreRefusedBeforeWork) {
  rp::test::TempDir dir;
  using rp::test::pattern_pixels;
  auto folder = [&](const std::string& name, const std::function<void(const std::string&)>& spoil) {
    const std::string root = dir.file(name);
    for (const char* split : {"train", "test"}) {
      for (const char* cls : {"a", "b"}) {
        const std::string d = root + "/" + split + "/" + cls;
        std::filesystem::create_directories(d);
        for (int k = 1; k <= 2; ++k) {
          rp::test::write_png_file(d + "/" + std::to_string(k) + ".png", 4, 4, PNG_COLOR_TYPE_RGB,
                                   8, pattern_pixels(4, 4, 3, static_cast<std::uint64_t>(k)));
        }
      }
    }
    spoil(root + "/train/b/2.png");
    return root;
  };
  auto huge = [](const std::string& path) {
    std::string png = rp::test::read_bytes(path);
    rp::test::set_png_declared_size(png, 30000, 30000);
    rp::test::write_bytes(path, png);
  };
  auto truncated = [](const std::string& path) {
    rp::test::write_bytes(path, rp::test::read_bytes(path).substr(0, 45));
  };
  auto other_size = [](const std::string& path) {
    rp::test::write_png_file(path, 5, 4, PNG_COLOR_TYPE_RGB, 8, pattern_pixels(5, 4, 3));
  };
  auto gray = [](const std::string& path) {
    rp::test::write_png_file(path, 4, 4, PNG_COLOR_TYPE_GRAY, 8, pattern_pixels(4, 4, 1));
  };
  const std::tuple<std::string, std::function<void(const std::string&)>, std::string> cases[] = {
      {"huge", huge, "the PNG declares 30000x30000 pixels"},
      {"truncated", truncated, "not a readable PNG"},
      {"other_size", other_size, "is 5x4 but"},
      {"gray", gray, "is a grayscale PNG"},
  };
  for (const auto& [name, spoil, expected] : cases) {
    const std::string data = folder(name, spoil);
    const std::string out = dir.file(name + "_run");
    const CliRun r = run_capped("train --dataset folder --data " + data +
                                " --width 0.0625 --epochs 1 --batch-size 2 --quiet --out " + out);
    EXPECT_EQ(r.exit_code, 1) << name << ": " << r.output;
    EXPECT_NE(r.output.find("train/b/2.png"), std::string::npos) << name << ": " << r.output;
    EXPECT_NE(r.output.find(expected), std::string::npos) << name << ": " << r.output;
    EXPECT_FALSE(std::filesystem::exists(out + "/latest.safetensors")) << name;
  }
}

}  // namespace
