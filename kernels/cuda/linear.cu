// The linear layer (linear.h). Row-major Y (n, out) = X (n, in) W^T is, in cuBLAS's
// column-major terms, Y^T (out, n) = op(W) X^T with W's memory read as its transpose.
#include <cublas_v2.h>

#include <sstream>
#include <type_traits>

#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/linear.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

std::string shape_text(const LinearShape& s) {
  std::ostringstream os;
  os << "n " << s.n << ", in " << s.in << ", out " << s.out;
  return os.str();
}

int as_int(i64 v, const char* op) {
  RP_CHECK(v <= 2147483647, op, "dimension " << v << " exceeds cuBLAS's 32-bit sizes");
  return static_cast<int>(v);
}

// C (m, n, column-major, ldc) = alpha op(A) op(B) + beta C. An empty C is nothing to do. An
// empty inner dimension (k = 0) leaves beta C, done here rather than by cuBLAS, which has
// mishandled k = 0 and refuses leading dimensions of 0 even where nothing is read; every C of
// this file is contiguous (ldc = m), so beta = 0 is one memset.
template <typename T>
void gemm(CudaHandles* h, const char* op, cublasOperation_t ta, cublasOperation_t tb, i64 m, i64 n,
          i64 k, const T* a, i64 lda, const T* b, i64 ldb, T beta, T* c, i64 ldc,
          const LinearShape& s) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    RP_CHECK(ldc == m, op, "an empty product needs a contiguous C (" << shape_text(s) << ")");
    if (beta == T(0)) {
      RP_CUDA_CHECK(cudaMemsetAsync(c, 0, static_cast<std::size_t>(m * n) * sizeof(T), h->stream));
    }
    return;
  }
  const T alpha = T(1);
  cublasStatus_t status;
  if constexpr (std::is_same_v<T, float>) {
    status = cublasSgemm(h->cublas, ta, tb, as_int(m, op), as_int(n, op), as_int(k, op), &alpha, a,
                         as_int(lda, op), b, as_int(ldb, op), &beta, c, as_int(ldc, op));
  } else {
    status = cublasDgemm(h->cublas, ta, tb, as_int(m, op), as_int(n, op), as_int(k, op), &alpha, a,
                         as_int(lda, op), b, as_int(ldb, op), &beta, c, as_int(ldc, op));
  }
  RP_CHECK(status == CUBLAS_STATUS_SUCCESS, op,
           "cuBLAS GEMM failed for " << shape_text(s) << ": " << cublasGetStatusName(status) << ": "
                                     << cublasGetStatusString(status));
}

template <typename T>
__global__ void broadcast_bias(i64 n, i64 out, const T* b, T* y) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < n * out;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    y[e] = b[e % out];
  }
}

// db[j] (=|+=) sum_i dy[i, j], a thread per column, summed in double.
template <typename T>
__global__ void bias_gradient(i64 n, i64 out, const T* dy, T* db, bool accumulate) {
  for (i64 j = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; j < out;
       j += static_cast<i64>(gridDim.x) * blockDim.x) {
    double sum = 0;
    for (i64 i = 0; i < n; ++i) sum += static_cast<double>(dy[i * out + j]);
    db[j] = accumulate ? db[j] + static_cast<T>(sum) : static_cast<T>(sum);
  }
}

}  // namespace

template <typename T>
void linear_forward(CudaHandles* h, const LinearShape& s, const T* x, const T* w, const T* b,
                    T* y) {
  if (s.n == 0 || s.out == 0) return;
  if (b != nullptr) {
    broadcast_bias<T><<<grid_for(s.n * s.out), kBlock, 0, h->stream>>>(s.n, s.out, b, y);
    check_launch(h, "linear_forward (bias)", shape_text(s));
  }
  // Y^T (out, n) = W (out, in) X^T (in, n): W's memory is W^T (in, out) column-major.
  gemm<T>(h, "linear_forward", CUBLAS_OP_T, CUBLAS_OP_N, s.out, s.n, s.in, w, s.in, x, s.in,
          b != nullptr ? T(1) : T(0), y, s.out, s);
}

template <typename T>
void linear_backward_data(CudaHandles* h, const LinearShape& s, const T* dy, const T* w, T* dx,
                          GradMode mode) {
  if (s.n == 0 || s.in == 0) return;
  // dX^T (in, n) = W^T (in, out) dY^T (out, n).
  gemm<T>(h, "linear_backward_data", CUBLAS_OP_N, CUBLAS_OP_N, s.in, s.n, s.out, w, s.in, dy, s.out,
          mode == GradMode::Accumulate ? T(1) : T(0), dx, s.in, s);
}

template <typename T>
void linear_backward_weight(CudaHandles* h, const LinearShape& s, const T* x, const T* dy, T* dw,
                            T* db, GradMode mode) {
  if (s.out == 0) return;
  const bool accumulate = mode == GradMode::Accumulate;
  // dW^T (in, out) = X^T (in, n) dY (n, out): dY's memory is dY^T (out, n) column-major.
  gemm<T>(h, "linear_backward_weight", CUBLAS_OP_N, CUBLAS_OP_T, s.in, s.out, s.n, x, s.in, dy,
          s.out, accumulate ? T(1) : T(0), dw, s.in, s);
  if (db != nullptr) {
    bias_gradient<T><<<grid_for(s.out), kBlock, 0, h->stream>>>(s.n, s.out, dy, db, accumulate);
    check_launch(h, "linear_backward_weight (bias)", shape_text(s));
  }
}

#define RP_INSTANTIATE(T)                                                                         \
  template void linear_forward<T>(CudaHandles*, const LinearShape&, const T*, const T*, const T*, \
                                  T*);                                                            \
  template void linear_backward_data<T>(CudaHandles*, const LinearShape&, const T*, const T*, T*, \
                                        GradMode);                                                \
  template void linear_backward_weight<T>(CudaHandles*, const LinearShape&, const T*, const T*,   \
                                          T*, T*, GradMode);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
