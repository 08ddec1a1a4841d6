// --profile for the commands that run a model (train, eval, attack, the experiments): a
// Profiler attached to the command's context from construction, whose table - time per phase,
// layer and op, with shares of the command's wall time - is printed when the report goes out
// of scope after a successful run (not while an error unwinds).
#pragma once

#include <chrono>
#include <memory>

#include "engine/core/context.h"
#include "engine/core/profiler.h"

namespace rp::cli {

class ProfileReport {
 public:
  explicit ProfileReport(Context& ctx);
  ~ProfileReport();
  ProfileReport(const ProfileReport&) = delete;
  ProfileReport& operator=(const ProfileReport&) = delete;

 private:
  Context& ctx_;
  Profiler profiler_;
  std::chrono::steady_clock::time_point start_;
  int uncaught_;
};

// A report when `enabled`, else nothing.
inline std::unique_ptr<ProfileReport> profile_if(bool enabled, Context& ctx) {
  return enabled ? std::make_unique<ProfileReport>(ctx) : nullptr;
}

}  // namespace rp::cli
