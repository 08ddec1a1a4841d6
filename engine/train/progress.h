// Progress on the terminal: one line rewritten in place (with ETA and images/s) when stderr is
// a terminal, plain lines at most every few seconds otherwise (logs, CI).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace rp {

class Progress {
 public:
  // `total` units of work (e.g. batches), `what` prefixes every line.
  Progress(std::string what, std::int64_t total, bool enabled = true);
  // done units so far, items (e.g. images) processed so far, a short status ("loss 0.43").
  void update(std::int64_t done, std::int64_t items, const std::string& status);
  void finish(const std::string& status);  // the final line, always printed
  bool due() const;  // whether update() would print now (read metrics only then)

  static bool stderr_is_terminal();
  static std::string format_seconds(double s);  // "1h02m", "3m05s", "42s"

 private:
  std::string line(std::int64_t done, std::int64_t items, const std::string& status) const;

  std::string what_;
  std::int64_t total_;
  bool enabled_, terminal_;
  std::chrono::steady_clock::time_point start_, last_;
};

}  // namespace rp
