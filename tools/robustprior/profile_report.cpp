#include "tools/robustprior/profile_report.h"

#include <cstdio>
#include <exception>

namespace rp::cli {

ProfileReport::ProfileReport(Context& ctx)
    : ctx_(ctx), start_(std::chrono::steady_clock::now()), uncaught_(std::uncaught_exceptions()) {
  ctx_.set_profiler(&profiler_);
}

ProfileReport::~ProfileReport() {
  ctx_.set_profiler(nullptr);
  if (std::uncaught_exceptions() > uncaught_) return;  // an error is on its way out
  try {
    ctx_.synchronize();
    profiler_.collect(ctx_);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    std::printf("\nprofile (%s; shares of the command's wall time):\n%s",
                ctx_.device().is_cuda() ? "CUDA events" : "host clock",
                profiler_.table(wall).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "profile: %s\n", e.what());
  }
}

}  // namespace rp::cli
