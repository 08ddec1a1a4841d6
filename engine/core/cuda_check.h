// Status checks for CUDA, cuBLAS and cuDNN calls: the RP_CHECK_STATUS family of error.h with
// each library's success test and error text. Include only from code built with CUDA.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <cudnn.h>

#include <string>

#include "engine/core/error.h"

namespace rp::detail {

inline bool cuda_ok(cudaError_t s) {
  return s == cudaSuccess;
}
inline std::string cuda_describe(cudaError_t s) {
  return std::string(cudaGetErrorName(s)) + ": " + cudaGetErrorString(s);
}
inline bool cublas_ok(cublasStatus_t s) {
  return s == CUBLAS_STATUS_SUCCESS;
}
inline std::string cublas_describe(cublasStatus_t s) {
  return std::string(cublasGetStatusName(s)) + ": " + cublasGetStatusString(s);
}
inline bool cudnn_ok(cudnnStatus_t s) {
  return s == CUDNN_STATUS_SUCCESS;
}
inline std::string cudnn_describe(cudnnStatus_t s) {
  return cudnnGetErrorString(s);
}

}  // namespace rp::detail

#define RP_CUDA_CHECK(expr) \
  RP_CHECK_STATUS(expr, ::rp::detail::cuda_ok, ::rp::detail::cuda_describe)
#define RP_CUBLAS_CHECK(expr) \
  RP_CHECK_STATUS(expr, ::rp::detail::cublas_ok, ::rp::detail::cublas_describe)
#define RP_CUDNN_CHECK(expr) \
  RP_CHECK_STATUS(expr, ::rp::detail::cudnn_ok, ::rp::detail::cudnn_describe)
