// Absurd values at the CLI are refused before any work, with a message naming the flag, in
// bounded memory (each run here is capped at 2 GiB of address space: an attempt to allocate for
// a batch of 10^8 would fail the run without the message).
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "tests/support/cli_run.h"
#include "tests/support/temp_dir.h"

namespace {

using rp::test::CliRun;

CliRun run_capped(const std::string& args) {
  return rp::test::run_cli(ROBUSTPRIOR_CLI, args, "ulimit -v 2097152; ");
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

}  // namespace
