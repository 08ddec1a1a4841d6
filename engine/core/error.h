// The engine's one exception type and its check macros.
//
// Every failure the engine reports - a bad argument to a public op, a failed CUDA, cuBLAS or
// cuDNN call, a malformed file - is an rp::Error that names the operation (the public op, the
// library call, or the file being read), what was wrong (shapes, expected vs found) and the
// source line of the check, so a failure deep inside a run reads as one line:
//
//   conv2d_forward: w: expected 4-D (C_out, C_in, kH, kW), found f32[3,3] cpu
//     [engine/ops/conv2d.cpp:41]
//
// One family of macros, all built on rp::throw_error:
//   RP_CHECK(cond, op, message)   precondition; `message` is a stream expression
//   RP_FAIL(op, message)          unconditional failure
//   RP_CHECK_STATUS(expr, ok, describe)
//                                 a library call returning a status; cuda_check.h instantiates
//                                 it for CUDA, cuBLAS and cuDNN
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace rp {

class Error : public std::runtime_error {
 public:
  Error(std::string op, std::string detail, std::string expression, const char* file, int line);

  const std::string& op() const noexcept { return op_; }
  const std::string& detail() const noexcept { return detail_; }
  // The failed expression for library status checks; empty for argument checks, whose detail
  // already says what was expected.
  const std::string& expression() const noexcept { return expression_; }
  const char* file() const noexcept { return file_; }
  int line() const noexcept { return line_; }

 private:
  std::string op_;
  std::string detail_;
  std::string expression_;
  const char* file_;
  int line_;
};

[[noreturn]] void throw_error(std::string op, std::string detail, std::string expression,
                              const char* file, int line);

}  // namespace rp

#define RP_FAIL(op, message)                                                            \
  do {                                                                                  \
    std::ostringstream rp_error_stream_;                                                \
    rp_error_stream_ << message;                                                        \
    ::rp::throw_error((op), rp_error_stream_.str(), std::string(), __FILE__, __LINE__); \
  } while (0)

#define RP_CHECK(cond, op, message) \
  do {                              \
    if (!(cond)) {                  \
      RP_FAIL(op, message);         \
    }                               \
  } while (0)

// `ok(status)` says whether the call succeeded, `describe(status)` turns a status into text.
#define RP_CHECK_STATUS(expr, ok, describe)                                         \
  do {                                                                              \
    const auto rp_status_ = (expr);                                                 \
    if (!(ok(rp_status_))) {                                                        \
      ::rp::throw_error(__func__, describe(rp_status_), #expr, __FILE__, __LINE__); \
    }                                                                               \
  } while (0)
