// The robustprior binary as a user runs it: exit codes, what it prints, and its errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <string>

namespace {

struct CliRun {
  int exit_code;
  std::string output;  // stdout and stderr together
};

CliRun run(const std::string& args) {
  const std::string cmd = std::string(ROBUSTPRIOR_CLI) + " " + args + " 2>&1";
  FILE* pipe = popen(cmd.c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::string out;
  std::array<char, 4096> buf{};
  while (std::fgets(buf.data(), static_cast<int>(buf.size()), pipe) != nullptr) out += buf.data();
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(Cli, InfoPrintsBuildThreadsAndDevices) {
  const CliRun r = run("info");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  for (const char* part : {"robustprior ", "build\n", "cuda backend", "threads", "devices"}) {
    EXPECT_NE(r.output.find(part), std::string::npos) << "missing '" << part << "' in\n"
                                                      << r.output;
  }
}

TEST(Cli, InfoJsonIsCompleteJson) {
  const CliRun r = run("info --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const nlohmann::json j = nlohmann::json::parse(r.output);
  EXPECT_FALSE(j.at("version").get<std::string>().empty());
  EXPECT_GE(j.at("cpu").at("threads").get<int>(), 1);
  const auto& cuda = j.at("cuda");
  // Either devices, or the reason there are none.
  EXPECT_TRUE(!cuda.at("devices").empty() || !cuda.at("why_none").get<std::string>().empty());
  EXPECT_TRUE(j.at("build").contains("cuda_architectures"));
}

TEST(Cli, VersionAndHelp) {
  const CliRun v = run("--version");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.output.rfind("robustprior ", 0), 0u) << v.output;
  const CliRun h = run("--help");
  EXPECT_EQ(h.exit_code, 0);
  EXPECT_NE(h.output.find("info"), std::string::npos) << h.output;
}

TEST(Cli, UnknownSubcommandFailsWithAMessage) {
  const CliRun r = run("no-such-command");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("no-such-command"), std::string::npos) << r.output;
}

}  // namespace
