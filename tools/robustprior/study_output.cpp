#include "tools/robustprior/study_output.h"

#include <cstdio>
#include <string>

namespace rp::cli {

void print_report(const StudyReport& r) {
  std::printf("%s: %s (manifest %s), %.1f s\n", r.name.c_str(), r.figure.c_str(),
              r.manifest.c_str(), r.seconds);
  for (const auto& [role, metrics] : r.summary.items()) {
    std::string line;
    for (const auto& [key, value] : metrics.items()) {
      if (!value.is_number()) continue;
      char buf[96];
      std::snprintf(buf, sizeof buf, "%s%s %.4g", line.empty() ? "" : ", ", key.c_str(),
                    value.get<double>());
      line += buf;
    }
    std::printf("  %-9s %s\n", role.c_str(), line.c_str());
  }
  std::fflush(stdout);  // in order with the progress lines on stderr
}

}  // namespace rp::cli
