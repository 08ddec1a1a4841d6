#include "engine/train/metrics_log.h"

#include "engine/core/error.h"

namespace rp {

MetricsLog::MetricsLog(const std::string& path) : path_(path), out_(path, std::ios::app) {
  RP_CHECK(out_.good(), "metrics", "cannot open " << path << " for appending");
}

void MetricsLog::write(const nlohmann::json& record) {
  out_ << record.dump() << "\n";
  out_.flush();
  RP_CHECK(out_.good(), "metrics", "cannot write to " << path_);
}

}  // namespace rp
