// The robustprior binary run as a user runs it, for the CLI tests: its exit code and what it
// printed (stdout and stderr together).
#pragma once

#include <string>

namespace rp::test {

struct CliRun {
  int exit_code;
  std::string output;
};

// Runs `built_cli ARGS` through the shell - or the binary ROBUSTPRIOR_CLI names in the
// environment (a bundle on a GPU node) - after `shell_prefix` (e.g. "ulimit -v N; ").
CliRun run_cli(const std::string& built_cli, const std::string& args,
               const std::string& shell_prefix = "");

}  // namespace rp::test
