#include "engine/core/error.h"

#include <utility>

namespace rp {
namespace {

std::string compose(const std::string& op, const std::string& detail, const std::string& expression,
                    const char* file, int line) {
  std::string s = op + ": " + detail;
  s += " [";
  if (!expression.empty()) s += "failed: " + expression + ", ";
  s += std::string(file) + ":" + std::to_string(line) + "]";
  return s;
}

}  // namespace

Error::Error(std::string op, std::string detail, std::string expression, const char* file, int line)
    : std::runtime_error(compose(op, detail, expression, file, line)),
      op_(std::move(op)),
      detail_(std::move(detail)),
      expression_(std::move(expression)),
      file_(file),
      line_(line) {}

void throw_error(std::string op, std::string detail, std::string expression, const char* file,
                 int line) {
  throw Error(std::move(op), std::move(detail), std::move(expression), file, line);
}

}  // namespace rp
