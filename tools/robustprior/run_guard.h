// What keeps a long run's directory safe from the outside: one writer per run directory (a
// lock naming its holder), and SIGINT/SIGTERM turned into a stop at the next step boundary so
// the run can write a checkpoint to continue from.
#pragma once

#include <csignal>
#include <string>

namespace rp::cli {

// An exclusive lock on DIR/.lock for the life of the object: flock(2), so a killed holder
// releases it with its last file descriptor and no stale lock outlives a crash. Throws rp::Error
// naming the holder (pid, host, start time) when another process has it.
class RunLock {
 public:
  explicit RunLock(const std::string& dir);
  ~RunLock();
  RunLock(const RunLock&) = delete;
  RunLock& operator=(const RunLock&) = delete;

 private:
  int fd_ = -1;
};

// While alive, SIGINT and SIGTERM only set a flag (requested()); a second one of either acts
// as usual (the handler resets itself), so a run that does not stop can still be ended.
class StopSignals {
 public:
  StopSignals();
  ~StopSignals();
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;

  static bool requested();
  static int signal_number();  // the signal that asked, 0 if none
  static const char* signal_name();

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

// Thrown after a stopped run has written its checkpoint; main() exits with 128 + signal.
struct StoppedBySignal {
  int signal = 0;
};

}  // namespace rp::cli
