// Long runs meet the outside world: killed at any moment, stopped by SIGINT/SIGTERM, a full
// disk, a second process on the same directory. Each leaves checkpoints that load, and a run
// that continues to exactly the weights of one that was never interrupted.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "engine/core/device.h"
#include "tests/support/temp_dir.h"
#include "weights/checkpoint.h"
#include "weights/safetensors.h"

namespace {

std::string cli() {
  const char* env = std::getenv("ROBUSTPRIOR_CLI");
  return env != nullptr && *env != '\0' ? env : ROBUSTPRIOR_CLI;
}

// A child running `shell_command` (through /bin/sh) with its output in `log`.
pid_t start(const std::string& shell_command, const std::string& log) {
  const pid_t pid = fork();
  if (pid == 0) {
    const std::string cmd = shell_command + " >" + log + " 2>&1";
    execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

// The child's exit code, or 128 + the signal that ended it.
int wait_for(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Runs `shell_command` to its end: the exit code (as wait_for) and the wall time in ms.
struct TimedRun {
  int code;
  double ms;
};
TimedRun run_timed(const std::string& shell_command, const std::string& log) {
  const auto t0 = std::chrono::steady_clock::now();
  const int code = wait_for(start(shell_command, log));
  return {code,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count()};
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool wait_until(const std::function<bool()>& ready, double seconds) {
  const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (ready()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return ready();
}

// Every tensor of two checkpoints equal byte for byte (parameters, buffers, momentum).
void expect_same_weights(const std::string& a_path, const std::string& b_path) {
  const auto a = rp::SafetensorsFile::read(a_path);
  const auto b = rp::SafetensorsFile::read(b_path);
  ASSERT_EQ(a.tensors().size(), b.tensors().size());
  for (const auto& [name, t] : a.tensors()) {
    ASSERT_TRUE(b.has(name)) << name;
    ASSERT_EQ(t.end - t.begin, b.tensor(name).end - b.tensor(name).begin) << name;
    EXPECT_EQ(std::memcmp(a.data(name), b.data(name), t.end - t.begin), 0)
        << name << " differs between " << a_path << " and " << b_path;
  }
}

// A latest checkpoint that exists must open and load into a network.
void expect_loadable(const std::string& latest) {
  if (!std::filesystem::exists(latest)) return;
  EXPECT_NO_THROW(rp::Checkpoint::open(latest).load_network(rp::Device::cpu())) << latest;
}

constexpr const char* kRun =
    " --width 0.0625 --synthetic-train 200 --synthetic-test 50 --batch-size 25 --threads 2"
    " --schedule step --lr-step 2 --quiet";

std::string train(const std::string& out, int epochs, bool resume) {
  return cli() + " train" + (resume ? " --resume" : std::string(kRun)) + " --epochs " +
         std::to_string(epochs) + " --out " + out;
}

TEST(InterruptedRuns, KilledAtRandomMomentsResumesToTheSameWeights) {
  rp::test::TempDir dir;
  const std::string straight = dir.file("straight"), killed = dir.file("killed");
  const TimedRun uninterrupted = run_timed(train(straight, 3, false), dir.file("straight.log"));
  ASSERT_EQ(uninterrupted.code, 0) << slurp(dir.file("straight.log"));
  // The kills land at random fractions of the uninterrupted run's time (start-up included), so
  // that they fall inside the run on a fast machine as on a slow one.
  double run_ms = uninterrupted.ms;
  const std::string latest = killed + "/latest.safetensors";
  std::mt19937 draw(20261203);
  std::uniform_real_distribution<double> fraction(0.05, 0.6);
  int kills = 0;
  for (int i = 0; i < 40; ++i) {
    const bool resume = std::filesystem::exists(latest);
    const pid_t pid = start("exec " + train(killed, 3, resume), dir.file("killed.log"));
    std::this_thread::sleep_for(std::chrono::duration<double, std::milli>(fraction(draw) * run_ms));
    kill(pid, SIGKILL);
    const int code = wait_for(pid);
    if (code == 128 + SIGKILL) ++kills;
    expect_loadable(latest);
    if (code == 0) {  // it finished before the kill
      if (kills >= 3) break;
      // Too few kills on the way to test anything (the timed run was slower than these, as on
      // a loaded machine): the run starts over, with the kills sooner.
      std::filesystem::remove_all(killed);
      kills = 0;
      run_ms *= 0.7;
    }
  }
  EXPECT_GE(kills, 3) << "the kills came too late to test anything";
  // Then left alone, it finishes where the uninterrupted run did.
  if (!std::filesystem::exists(latest) || rp::Checkpoint::open(latest).info().epoch < 3) {
    const int code =
        wait_for(start(train(killed, 3, std::filesystem::exists(latest)), dir.file("killed.log")));
    ASSERT_EQ(code, 0) << slurp(dir.file("killed.log"));
  }
  expect_same_weights(straight + "/latest.safetensors", latest);
}

TEST(InterruptedRuns, SigtermAndSigintStopWithACheckpointThatResumesExactly) {
  rp::test::TempDir dir;
  const std::string straight = dir.file("straight");
  const TimedRun uninterrupted = run_timed(train(straight, 3, false), dir.file("straight.log"));
  ASSERT_EQ(uninterrupted.code, 0) << slurp(dir.file("straight.log"));
  for (const int sig : {SIGTERM, SIGINT}) {
    const std::string out = dir.file(sig == SIGTERM ? "term" : "int");
    const std::string log = out + ".log";
    bool tested = false;
    for (int attempt = 0; attempt < 5 && !tested; ++attempt) {
      std::filesystem::remove_all(out);
      // The signal comes mid-run: after the first epoch's checkpoint, a tenth of a run later
      // (about a third of an epoch), before the end.
      const pid_t pid = start("exec " + train(out, 3, false), log);
      ASSERT_TRUE(
          wait_until([&] { return std::filesystem::exists(out + "/latest.safetensors"); }, 120));
      std::this_thread::sleep_for(
          std::chrono::duration<double, std::milli>(0.1 * uninterrupted.ms));
      kill(pid, sig);
      const int code = wait_for(pid);
      const std::string said = slurp(log);
      // Finished first, or the signal came after the last epoch's checkpoint, as the run was
      // ending (it then exits by the signal, with nothing to resume): try again.
      const std::int64_t stopped_epoch =
          rp::Checkpoint::open(out + "/latest.safetensors").info().epoch;
      if (code == 0 || stopped_epoch == 3) continue;
      tested = true;
      EXPECT_EQ(code, 128 + sig) << said;
      EXPECT_NE(said.find(sig == SIGTERM ? "stopped by SIGTERM" : "stopped by SIGINT"),
                std::string::npos)
          << said;
      EXPECT_NE(said.find("--resume"), std::string::npos) << said;
      EXPECT_LT(stopped_epoch, 3);
      const int resumed = wait_for(start(train(out, 3, true), log));
      ASSERT_EQ(resumed, 0) << slurp(log);
      expect_same_weights(straight + "/latest.safetensors", out + "/latest.safetensors");
    }
    EXPECT_TRUE(tested) << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
                        << " came after the run's end 5 times";
  }
}

TEST(InterruptedRuns, TwoProcessesCannotWriteOneRun) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  const pid_t first = start("exec " + train(out, 40, false), dir.file("first.log"));
  ASSERT_TRUE(
      wait_until([&] { return std::filesystem::exists(out + "/latest.safetensors"); }, 120));
  const int second = wait_for(start(train(out, 40, true), dir.file("second.log")));
  const std::string said = slurp(dir.file("second.log"));
  kill(first, SIGKILL);
  wait_for(first);
  EXPECT_EQ(second, 1) << said;
  EXPECT_NE(said.find("in use by another run (pid " + std::to_string(first)), std::string::npos)
      << said;
  // Once the holder is gone (even killed), the run continues.
  const int after = wait_for(start(train(out, 2, true), dir.file("after.log")));
  EXPECT_EQ(after, 0) << slurp(dir.file("after.log"));
}

TEST(InterruptedRuns, AFullDiskNamesTheFileAndKeepsThePreviousCheckpoint) {
  rp::test::TempDir dir;
  const std::string out = dir.file("run");
  ASSERT_EQ(wait_for(start(train(out, 1, false), dir.file("one.log"))), 0);
  const std::string latest = out + "/latest.safetensors", best = out + "/best.safetensors";
  const std::string before = slurp(latest), best_before = slurp(best);
  // Files over 32 KiB cannot be written (EFBIG, as ENOSPC would be for a full disk): the
  // config and the metrics fit, the checkpoint does not.
  const int code = wait_for(
      start("ulimit -f 64; trap '' XFSZ; exec " + train(out, 2, true), dir.file("full.log")));
  const std::string said = slurp(dir.file("full.log"));
  EXPECT_EQ(code, 1) << said;
  // The first checkpoint the epoch writes fails (best, when the epoch is the best so far).
  EXPECT_TRUE(said.find("cannot write " + latest) != std::string::npos ||
              said.find("cannot write " + best) != std::string::npos)
      << said;
  EXPECT_NE(said.find("File too large"), std::string::npos) << said;
  EXPECT_EQ(slurp(latest), before) << "the previous checkpoint changed";
  EXPECT_EQ(slurp(best), best_before) << "the previous best checkpoint changed";
  EXPECT_EQ(rp::Checkpoint::open(latest).info().epoch, 1);
  for (const auto& entry : std::filesystem::directory_iterator(out)) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos)
        << "left behind: " << entry.path();
  }
}

}  // namespace
