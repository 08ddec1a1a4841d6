#include "engine/train/progress.h"

#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <sstream>

namespace rp {

namespace {
double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}
}  // namespace

Progress::Progress(std::string what, std::int64_t total, bool enabled)
    : what_(std::move(what)),
      total_(total),
      enabled_(enabled),
      terminal_(stderr_is_terminal()),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

bool Progress::stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) != 0;
}

std::string Progress::format_seconds(double s) {
  char buf[32];
  const long t = static_cast<long>(s + 0.5);
  if (t >= 3600) {
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
  } else if (t >= 60) {
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  } else {
    std::snprintf(buf, sizeof buf, "%lds", t);
  }
  return buf;
}

bool Progress::due() const {
  if (!enabled_) return false;
  return seconds_since(last_) >= (terminal_ ? 0.25 : 10.0);
}

std::string Progress::line(std::int64_t done, std::int64_t items, const std::string& status) const {
  const double elapsed = seconds_since(start_);
  const double frac = total_ > 0 ? static_cast<double>(done) / static_cast<double>(total_) : 1.0;
  std::ostringstream os;
  os << what_ << " " << static_cast<int>(100 * frac) << "% (" << done << "/" << total_ << ")";
  if (elapsed > 0 && items > 0) {
    os << " " << static_cast<long>(static_cast<double>(items) / elapsed) << " img/s";
  }
  if (!status.empty()) os << " " << status;
  if (done > 0 && done < total_) {
    os << " ETA " << format_seconds(elapsed * (1 - frac) / frac);
  } else {
    os << " " << format_seconds(elapsed);
  }
  return os.str();
}

void Progress::update(std::int64_t done, std::int64_t items, const std::string& status) {
  if (!due()) return;
  last_ = std::chrono::steady_clock::now();
  if (terminal_) {
    std::cerr << "\r\033[K" << line(done, items, status) << std::flush;
  } else {
    std::cerr << line(done, items, status) << "\n";
  }
}

void Progress::finish(const std::string& status) {
  if (!enabled_) return;
  if (terminal_) std::cerr << "\r\033[K";
  std::cerr << what_ << " done in " << format_seconds(seconds_since(start_));
  if (!status.empty()) std::cerr << ": " << status;
  std::cerr << "\n";
}

}  // namespace rp
