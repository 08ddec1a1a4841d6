// Elementwise kernels (elementwise.h). Built with --fmad=false like the perturbation updates,
// so the SGD step rounds as the CPU reference's does.
#include <sstream>
#include <type_traits>

#include "kernels/cuda/elementwise.h"
#include "kernels/cuda/launch.cuh"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

std::string count_text(i64 n) {
  std::ostringstream os;
  os << n << " elements";
  return os.str();
}

// y = f(a, b, y): the maps of launch.cuh with two inputs.
template <bool ReadsOut, typename T, typename F>
void zip(CudaHandles* h, const char* op, i64 n, const T* a, const T* b, T* y, F f) {
  launch_map<ReadsOut>(h, op, count_text(n), n, a, b, static_cast<const T*>(nullptr), y, f);
}

struct Add {
  template <typename T>
  __device__ T operator()(T a, T b, T, T) const {
    return a + b;
  }
};
struct Copy {
  template <typename T>
  __device__ T operator()(T a, T, T, T) const {
    return a;
  }
};
struct Accumulate {
  template <typename T>
  __device__ T operator()(T a, T, T, T y) const {
    return y + a;
  }
};
template <typename T>
struct Constant {
  T value;
  __device__ T operator()(T, T, T, T) const { return value; }
};
struct Relu {
  template <typename T>
  __device__ T operator()(T x, T, T, T) const {
    return x < T(0) ? T(0) : x;
  }
};
template <bool Acc>
struct ReluGrad {  // a = y (the forward's output), b = dy
  template <typename T>
  __device__ T operator()(T y, T dy, T, T dx) const {
    const T g = y > T(0) ? dy : T(0);
    return Acc ? dx + g : g;
  }
};

template <typename T>
__global__ void sgd_kernel(i64 n, T* param, const T* grad, T* momentum_buf, T lr, T mu, T wd,
                           bool decay, bool use_momentum, bool nesterov) {
  for (i64 i = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<i64>(gridDim.x) * blockDim.x) {
    // As PyTorch: no decay term at all when weight_decay is 0 (0 * inf would be NaN).
    T d = decay ? grad[i] + wd * param[i] : grad[i];
    if (use_momentum) {
      const T buf = mu * momentum_buf[i] + d;
      momentum_buf[i] = buf;
      d = nesterov ? d + mu * buf : buf;
    }
    param[i] = param[i] - lr * d;
  }
}

}  // namespace

template <typename T>
void add_forward(CudaHandles* h, i64 n, const T* a, const T* b, T* y) {
  zip<false>(h, "add_forward", n, a, b, y, Add{});
}

template <typename T>
void pass_gradient(CudaHandles* h, i64 n, const T* dy, T* dx, GradMode mode) {
  if (mode == GradMode::Assign) {
    zip<false>(h, "pass_gradient", n, dy, static_cast<const T*>(nullptr), dx, Copy{});
  } else {
    zip<true>(h, "pass_gradient", n, dy, static_cast<const T*>(nullptr), dx, Accumulate{});
  }
}

template <typename T>
void add_backward(CudaHandles* h, i64 n, const T* dy, T* da, T* db, GradMode mode) {
  if (da != nullptr) pass_gradient(h, n, dy, da, mode);
  if (db != nullptr) pass_gradient(h, n, dy, db, mode);
}

template <typename T>
void fill(CudaHandles* h, i64 n, T* x, T value) {
  zip<false>(h, "fill", n, static_cast<const T*>(nullptr), static_cast<const T*>(nullptr), x,
             Constant<T>{value});
}

template <typename T>
void relu_forward(CudaHandles* h, i64 n, const T* x, T* y) {
  zip<false>(h, "relu_forward", n, x, static_cast<const T*>(nullptr), y, Relu{});
}

template <typename T>
void relu_backward(CudaHandles* h, i64 n, const T* y, const T* dy, T* dx, GradMode mode) {
  if (mode == GradMode::Assign) {
    zip<false>(h, "relu_backward", n, y, dy, dx, ReluGrad<false>{});
  } else {
    zip<true>(h, "relu_backward", n, y, dy, dx, ReluGrad<true>{});
  }
}

template <typename T>
void sgd_step(CudaHandles* h, i64 n, T* param, const T* grad, T* momentum_buf,
              const cpu::SgdHyper& hyper) {
  if (n == 0) return;
  sgd_kernel<T><<<grid_for(n), kBlock, 0, h->stream>>>(
      n, param, grad, momentum_buf, static_cast<T>(hyper.lr), static_cast<T>(hyper.momentum),
      static_cast<T>(hyper.weight_decay), hyper.weight_decay != 0.0, hyper.momentum != 0.0,
      hyper.nesterov);
  std::ostringstream shape;
  shape << n << " parameters";
  check_launch(h, "sgd_step", shape.str());
}

#define RP_INSTANTIATE_ALL(T)                                                   \
  template void add_forward<T>(CudaHandles*, i64, const T*, const T*, T*);      \
  template void add_backward<T>(CudaHandles*, i64, const T*, T*, T*, GradMode); \
  template void pass_gradient<T>(CudaHandles*, i64, const T*, T*, GradMode);    \
  template void fill<T>(CudaHandles*, i64, T*, T);
#define RP_INSTANTIATE_FLOATING(T)                                                     \
  template void relu_forward<T>(CudaHandles*, i64, const T*, T*);                      \
  template void relu_backward<T>(CudaHandles*, i64, const T*, const T*, T*, GradMode); \
  template void sgd_step<T>(CudaHandles*, i64, T*, const T*, T*, const cpu::SgdHyper&);
RP_INSTANTIATE_ALL(float)
RP_INSTANTIATE_ALL(double)
RP_INSTANTIATE_ALL(std::int32_t)
RP_INSTANTIATE_ALL(std::uint8_t)
RP_INSTANTIATE_FLOATING(float)
RP_INSTANTIATE_FLOATING(double)
#undef RP_INSTANTIATE_ALL
#undef RP_INSTANTIATE_FLOATING

}  // namespace rp::cuda
