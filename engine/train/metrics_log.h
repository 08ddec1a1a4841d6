// Metrics as JSON lines: one object per line, appended and flushed, so a run can be followed
// with `tail -f` and a resumed run continues the same file.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace rp {

class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path);  // appends; creates the file if needed
  void write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream out_;
};

}  // namespace rp
