// Row-major Eigen views of raw buffers: how the CPU reference hands matrices to Eigen's GEMM.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace rp::cpu {

template <typename T>
using RowMajorMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <typename T>
using MatrixMap = Eigen::Map<RowMajorMatrix<T>>;
template <typename T>
using ConstMatrixMap = Eigen::Map<const RowMajorMatrix<T>>;

template <typename T>
MatrixMap<T> matrix(T* data, std::int64_t rows, std::int64_t cols) {
  return MatrixMap<T>(data, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}
template <typename T>
ConstMatrixMap<T> matrix(const T* data, std::int64_t rows, std::int64_t cols) {
  return ConstMatrixMap<T>(data, static_cast<Eigen::Index>(rows), static_cast<Eigen::Index>(cols));
}

}  // namespace rp::cpu
