#include "tests/support/cli_run.h"

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace rp::test {

CliRun run_cli(const std::string& built_cli, const std::string& args,
               const std::string& shell_prefix) {
  const char* env = std::getenv("ROBUSTPRIOR_CLI");
  const std::string cli = env != nullptr && *env != '\0' ? env : built_cli;
  const std::string cmd = shell_prefix + cli + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) out += buf.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace rp::test
