// Square Attack's Linf proposals (square.h). Built with --fmad=false (kernels/CMakeLists.txt):
// bit-identical to the CPU reference.
#include <sstream>

#include "kernels/attack_math.h"
#include "kernels/cuda/launch.cuh"
#include "kernels/cuda/square.h"
#include "kernels/perturb_math.h"

namespace rp::cuda {
namespace {

using i64 = std::int64_t;

template <typename T>
__global__ void init_linf_kernel(i64 count, i64 h, i64 w, const T* x0, T eps, RngStream rng,
                                 T* out) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 plane = e / (h * w), q = e % w;
    const T sign = square_sign<T>(rng, static_cast<std::uint64_t>(plane * w + q));
    out[e] = clamp01(x0[e] + eps * sign);
  }
}

template <typename T>
__global__ void propose_linf_kernel(i64 count, i64 h, i64 w, const T* x0, const T* x_best, T eps,
                                    SquareWindow win, RngStream rng, T* out) {
  for (i64 e = blockIdx.x * static_cast<i64>(blockDim.x) + threadIdx.x; e < count;
       e += static_cast<i64>(gridDim.x) * blockDim.x) {
    const i64 plane = e / (h * w), r = (e / w) % h, q = e % w;
    const bool inside =
        r >= win.top && r < win.top + win.side && q >= win.left && q < win.left + win.side;
    out[e] = inside ? square_vertex_value(x_best[e], x0[e], eps,
                                          square_sign<T>(rng, static_cast<std::uint64_t>(plane)))
                    : x_best[e];
  }
}

template <typename T>
__global__ void init_l2_kernel(i64 n, i64 c, i64 h, i64 w, const T* x0, double eps, const T* eta,
                               RngStream rng, T* out) {
  const i64 side = h / 5, chw = c * h * w, tiles = (h / side) * (w / side);
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const auto value = [&](i64 j) {
      const i64 ch = j / (h * w), r = (j / w) % h, q = j % w;
      const SquareTile t = square_tile_of(r, q, h, w, side);
      if (t.tile < 0) return 0.0;
      const bool transpose =
          rng_uniform(rng, static_cast<std::uint64_t>(n * c * tiles + t.tile)) >= 0.5f;
      const T sign = square_sign<T>(rng, static_cast<std::uint64_t>((i * c + ch) * tiles + t.tile));
      return square_eta_at(eta, side, t.r, t.q, transpose) * static_cast<double>(sign);
    };
    double sq = 0;
    for (i64 j = threadIdx.x; j < chw; j += blockDim.x) sq += value(j) * value(j);
    const double scale = eps / (sqrt(block_sum(sq)) + 1e-12);
    for (i64 j = threadIdx.x; j < chw; j += blockDim.x) {
      out[i * chw + j] = clamp01(x0[i * chw + j] + static_cast<T>(value(j) * scale));
    }
  }
}

template <typename T>
__global__ void propose_l2_kernel(i64 n, i64 c, i64 h, i64 w, const T* x0, const T* x_best,
                                  double eps, SquareL2Window win, const T* eta, RngStream rng,
                                  T* out) {
  __shared__ double window_norm[kSquareMaxChannels], new_norm[kSquareMaxChannels];
  const i64 chw = c * h * w, k = win.side, kk = k * k;
  for (i64 i = blockIdx.x; i < n; i += gridDim.x) {
    const T* xb = x_best + i * chw;
    const T* xc = x0 + i * chw;
    double image = 0, windows = 0;
    for (i64 j = threadIdx.x; j < chw; j += blockDim.x) {
      const i64 r = (j / w) % h, q = j % w;
      const double d = static_cast<double>(xb[j] - xc[j]);
      image += d * d;
      if (square_inside(r, q, win.top, win.left, k) ||
          square_inside(r, q, win.top2, win.left2, k)) {
        windows += d * d;
      }
    }
    image = block_sum(image);
    windows = block_sum(windows);
    for (i64 ch = 0; ch < c; ++ch) {
      double w1 = 0;
      for (i64 j = threadIdx.x; j < kk; j += blockDim.x) {
        const i64 at = (ch * h + win.top + j / k) * w + win.left + j % k;
        const double d = static_cast<double>(xb[at] - xc[at]);
        w1 += d * d;
      }
      w1 = block_sum(w1);
      if (threadIdx.x == 0) window_norm[ch] = sqrt(w1);
    }
    __syncthreads();
    const auto proposed = [&](i64 ch, i64 r, i64 q) {
      const double sign =
          static_cast<double>(square_sign<T>(rng, static_cast<std::uint64_t>(i * c + ch)));
      const i64 at = (ch * h + r) * w + q;
      return square_eta_at(eta, k, r - win.top, q - win.left, win.transpose) * sign +
             static_cast<double>(xb[at] - xc[at]) / (1e-12 + window_norm[ch]);
    };
    for (i64 ch = 0; ch < c; ++ch) {
      double sq = 0;
      for (i64 j = threadIdx.x; j < kk; j += blockDim.x) {
        const double v = proposed(ch, win.top + j / k, win.left + j % k);
        sq += v * v;
      }
      sq = block_sum(sq);
      if (threadIdx.x == 0) new_norm[ch] = sqrt(sq);
    }
    __syncthreads();
    const double target = sqrt(fmax(eps * eps - image, 0.0) / static_cast<double>(c) + windows);
    const auto next = [&](i64 j) {
      const i64 ch = j / (h * w), r = (j / w) % h, q = j % w;
      if (square_inside(r, q, win.top, win.left, k)) {
        return proposed(ch, r, q) * target / (1e-12 + new_norm[ch]);
      }
      if (square_inside(r, q, win.top2, win.left2, k)) return 0.0;
      return static_cast<double>(xb[j] - xc[j]);
    };
    double sq = 0;
    for (i64 j = threadIdx.x; j < chw; j += blockDim.x) sq += next(j) * next(j);
    const double scale = eps / (sqrt(block_sum(sq)) + 1e-12);
    for (i64 j = threadIdx.x; j < chw; j += blockDim.x) {
      out[i * chw + j] = clamp01(xc[j] + static_cast<T>(next(j) * scale));
    }
    __syncthreads();  // the shared norms are rewritten for the next example
  }
}

unsigned example_grid(i64 n) {
  return static_cast<unsigned>(std::max<i64>(1, std::min<i64>(n, 65535)));
}

std::string shape_text(const SquareShape& s) {
  std::ostringstream os;
  os << "x (" << s.n << ", " << s.c << ", " << s.h << ", " << s.w << ")";
  return os.str();
}

}  // namespace

template <typename T>
void square_init_linf(CudaHandles* h, const SquareShape& s, const T* x0, double eps, RngStream rng,
                      T* out) {
  const i64 count = s.n * s.c * s.h * s.w;
  if (count == 0) return;
  init_linf_kernel<T><<<grid_for(count), kBlock, 0, h->stream>>>(count, s.h, s.w, x0,
                                                                 static_cast<T>(eps), rng, out);
  check_launch(h, "square_init_linf", shape_text(s));
}

template <typename T>
void square_propose_linf(CudaHandles* h, const SquareShape& s, const T* x0, const T* x_best,
                         double eps, const SquareWindow& win, RngStream rng, T* out) {
  const i64 count = s.n * s.c * s.h * s.w;
  if (count == 0) return;
  propose_linf_kernel<T><<<grid_for(count), kBlock, 0, h->stream>>>(
      count, s.h, s.w, x0, x_best, static_cast<T>(eps), win, rng, out);
  check_launch(h, "square_propose_linf", shape_text(s));
}

template <typename T>
void square_init_l2(CudaHandles* h, const SquareShape& s, const T* x0, double eps, const T* eta,
                    RngStream rng, T* out) {
  if (s.n == 0) return;
  init_l2_kernel<T>
      <<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.c, s.h, s.w, x0, eps, eta, rng, out);
  check_launch(h, "square_init_l2", shape_text(s));
}

template <typename T>
void square_propose_l2(CudaHandles* h, const SquareShape& s, const T* x0, const T* x_best,
                       double eps, const SquareL2Window& win, const T* eta, RngStream rng, T* out) {
  if (s.n == 0) return;
  propose_l2_kernel<T><<<example_grid(s.n), kBlock, 0, h->stream>>>(s.n, s.c, s.h, s.w, x0, x_best,
                                                                    eps, win, eta, rng, out);
  check_launch(h, "square_propose_l2", shape_text(s));
}

#define RP_INSTANTIATE(T)                                                                          \
  template void square_init_linf<T>(CudaHandles*, const SquareShape&, const T*, double, RngStream, \
                                    T*);                                                           \
  template void square_propose_linf<T>(CudaHandles*, const SquareShape&, const T*, const T*,       \
                                       double, const SquareWindow&, RngStream, T*);                \
  template void square_init_l2<T>(CudaHandles*, const SquareShape&, const T*, double, const T*,    \
                                  RngStream, T*);                                                  \
  template void square_propose_l2<T>(CudaHandles*, const SquareShape&, const T*, const T*, double, \
                                     const SquareL2Window&, const T*, RngStream, T*);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cuda
