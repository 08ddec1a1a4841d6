#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <atomic>
#include <cstdint>

#include "kernels/cpu/conv3x3_direct.h"
#include "kernels/cpu/eigen_maps.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {
namespace {

using i64 = std::int64_t;

// The output columns q in [begin, end) whose input column q*stride - pad + j lies inside the
// image (0 <= . < w) for kernel column j: everything outside reads the zero padding. Computed
// once per kernel tap, so the copies below have no per-pixel bounds test.
struct ValidColumns {
  i64 begin, end;
};
ValidColumns valid_columns(i64 w, i64 wo, i64 stride, i64 pad, i64 j) {
  const i64 first = pad - j <= 0 ? 0 : (pad - j + stride - 1) / stride;
  const i64 last_plus_one = w - 1 + pad - j < 0 ? 0 : (w - 1 + pad - j) / stride + 1;
  const i64 begin = std::min(first, wo);
  return {begin, std::clamp(last_plus_one, begin, wo)};
}

// The common case of ResNets' 3x3 convolutions: stride 1 and an output as wide as the input
// (padding (kw - 1) / 2). Then the valid rows of tap (c, i, j) are one contiguous run of the
// input plane, shifted by (i - pad_h) rows and (j - pad_w) columns: one copy moves them all,
// and the few columns that wrapped round the left or right edge are zeroed after.
template <typename T>
void im2col_same_width(const Conv2dGeometry& g, const T* x, T* col, i64 ld) {
  const i64 ho = g.h_out(), wo = g.w_out(), plane = g.h * g.w;
  for (i64 c = 0; c < g.c_in; ++c) {
    const T* x_c = x + c * plane;
    for (i64 i = 0; i < g.kh; ++i) {
      const i64 p_lo = std::clamp(g.pad_h - i, i64{0}, ho);
      const i64 p_hi = std::clamp(g.h + g.pad_h - i, p_lo, ho);
      for (i64 j = 0; j < g.kw; ++j) {
        T* out = col + ((c * g.kh + i) * g.kw + j) * ld;
        std::fill(out, out + p_lo * wo, T(0));
        std::fill(out + p_hi * wo, out + ho * wo, T(0));
        if (p_lo == p_hi) continue;
        const ValidColumns v = valid_columns(g.w, wo, 1, g.pad_w, j);
        const i64 src = (p_lo - g.pad_h + i) * g.w + j - g.pad_w, count = (p_hi - p_lo) * wo;
        const i64 lo = std::max<i64>(0, -src), hi = std::min(count, plane - src);
        std::copy(x_c + (src + lo), x_c + (src + hi), out + p_lo * wo + lo);
        for (i64 p = p_lo; p < p_hi; ++p) {  // the columns that wrapped (and any clipped end)
          std::fill(out + p * wo, out + p * wo + v.begin, T(0));
          std::fill(out + p * wo + v.end, out + (p + 1) * wo, T(0));
        }
      }
    }
  }
}

// One image: col (patch_size, out_pixels), row (c*kh + i)*kw + j - which starts at
// col + ((c*kh + i)*kw + j) * ld - holds the input pixels that kernel tap (c, i, j) meets at
// every output position, zero where it falls on the padding. ld > out_pixels leaves room for
// other images' columns beside this one's.
template <typename T>
void im2col(const Conv2dGeometry& g, const T* x, T* col, i64 ld) {
  const i64 ho = g.h_out(), wo = g.w_out(), sw = g.stride_w;
  if (sw == 1 && g.stride_h == 1 && wo == g.w) {
    im2col_same_width(g, x, col, ld);
    return;
  }
  for (i64 c = 0; c < g.c_in; ++c) {
    for (i64 i = 0; i < g.kh; ++i) {
      for (i64 j = 0; j < g.kw; ++j) {
        T* out = col + ((c * g.kh + i) * g.kw + j) * ld;
        const ValidColumns v = valid_columns(g.w, wo, sw, g.pad_w, j);
        for (i64 p = 0; p < ho; ++p) {
          const i64 ih = p * g.stride_h - g.pad_h + i;
          T* out_row = out + p * wo;
          if (ih < 0 || ih >= g.h) {
            std::fill(out_row, out_row + wo, T(0));
            continue;
          }
          std::fill(out_row, out_row + v.begin, T(0));
          // The input pixel of output column v.begin + k is src[k * sw].
          const T* src = x + (c * g.h + ih) * g.w + v.begin * sw - g.pad_w + j;
          if (sw == 1) {
            std::copy(src, src + (v.end - v.begin), out_row + v.begin);
          } else {
            for (i64 k = 0; k < v.end - v.begin; ++k) out_row[v.begin + k] = src[k * sw];
          }
          std::fill(out_row + v.end, out_row + wo, T(0));
        }
      }
    }
  }
}

// The adjoint of im2col: adds each column entry back onto the input pixel it was read from,
// tap by tap in im2col's row order, so every input pixel's sum has one fixed order.
template <typename T>
void col2im_add(const Conv2dGeometry& g, const T* col, i64 ld, T* dx) {
  const i64 ho = g.h_out(), wo = g.w_out(), sw = g.stride_w;
  for (i64 c = 0; c < g.c_in; ++c) {
    for (i64 i = 0; i < g.kh; ++i) {
      for (i64 j = 0; j < g.kw; ++j) {
        const T* in = col + ((c * g.kh + i) * g.kw + j) * ld;
        const ValidColumns v = valid_columns(g.w, wo, sw, g.pad_w, j);
        for (i64 p = 0; p < ho; ++p) {
          const i64 ih = p * g.stride_h - g.pad_h + i;
          if (ih < 0 || ih >= g.h) continue;
          // The input pixel of output column v.begin + k is dst[k * sw].
          T* dst = dx + (c * g.h + ih) * g.w + v.begin * sw - g.pad_w + j;
          const T* src = in + p * wo + v.begin;
          if (sw == 1) {
            for (i64 k = 0; k < v.end - v.begin; ++k) dst[k] += src[k];
          } else {
            for (i64 k = 0; k < v.end - v.begin; ++k) dst[k * sw] += src[k];
          }
        }
      }
    }
  }
}

// Output columns one GEMM should have at least. The late stages' images are small (4x4 at
// ResNet-18's last stage), and a product per image would repack the whole weight matrix for a
// few columns - as much work as the product itself - so several images' columns go side by
// side into one GEMM there.
constexpr i64 kGemmColumns = 256;

i64 images_per_gemm(const Conv2dGeometry& g) {
  const i64 P = std::max<i64>(1, g.out_pixels());
  return std::clamp<i64>((kGemmColumns + P - 1) / P, 1, std::max<i64>(1, g.n));
}

// One image at a time, a pointwise convolution reads the image itself and needs no col.
i64 col_elems(const Conv2dGeometry& g) {
  const i64 B = images_per_gemm(g);
  return B == 1 && g.is_pointwise() ? 0 : g.patch_size() * B * g.out_pixels();
}

// Several images at a time, their outputs (or output gradients) side by side, (c_out, B*P).
i64 staging_elems(const Conv2dGeometry& g) {
  const i64 B = images_per_gemm(g);
  return B == 1 ? 0 : g.c_out * B * g.out_pixels();
}

i64 gemm_scratch_elems(const Conv2dGeometry& g) {
  return col_elems(g) + staging_elems(g);
}

// The direct 3x3 route (conv3x3_direct.h), in each direction where it suits: the packed
// weights of the forward or data gradient (shared by the chunks) and each chunk's bordered
// image.
i64 direct_weights_elems(const Conv2dGeometry& g) {
  const Conv2dGeometry d = conv3x3_data_gradient_geometry(g);
  return std::max(conv3x3_direct_suits(g) ? conv3x3_packed_weights_size(g) : 0,
                  conv3x3_direct_suits(d) ? conv3x3_packed_weights_size(d) : 0);
}
i64 direct_scratch_elems(const Conv2dGeometry& g) {
  const Conv2dGeometry d = conv3x3_data_gradient_geometry(g);
  const bool g_direct = conv3x3_direct_suits(g) || conv3x3_direct_filter_suits(g);
  return std::max(g_direct ? conv3x3_direct_scratch(g) : 0,
                  conv3x3_direct_suits(d) ? conv3x3_direct_scratch(d) : 0);
}

// The workspace: [packed weights | one scratch slot per chunk | one weight-gradient partial per
// chunk]; a chunk's slot serves whichever route the direction takes. Worked out once per call.
struct WorkspaceLayout {
  i64 packed_weights, slot;
  explicit WorkspaceLayout(const Conv2dGeometry& g)
      : packed_weights(direct_weights_elems(g)),
        slot(std::max(gemm_scratch_elems(g), direct_scratch_elems(g))) {}
  template <typename T>
  T* slot_at(T* workspace, i64 chunk) const {
    return workspace + packed_weights + chunk * slot;
  }
};

// Images per thread so that a thread gets at least ~256k multiply-adds: below that, waking
// threads costs more than the work (and, on a loaded machine, much more).
i64 image_grain(const Conv2dGeometry& g) {
  const i64 per_image = std::max<i64>(1, g.c_out * g.patch_size() * g.out_pixels());
  return std::max<i64>(1, (i64{1} << 18) / per_image);
}

// The threads split whole groups of images_per_gemm images (the last group may be smaller), so
// which images share a product - and so every rounding - depends on the shapes alone.
i64 group_count(const Conv2dGeometry& g) {
  const i64 B = images_per_gemm(g);
  return (g.n + B - 1) / B;
}
i64 group_grain(const Conv2dGeometry& g) {
  const i64 B = images_per_gemm(g);
  return (image_grain(g) + B - 1) / B;
}
i64 conv_chunks(const Conv2dGeometry& g, int threads) {
  return parallel_chunks(threads, group_count(g), group_grain(g));
}
// body(n0, b, chunk) for each group: images [n0, n0 + b), run by parallel chunk `chunk`.
template <typename Body>
void for_each_group(const Conv2dGeometry& g, int threads, Body&& body) {
  const i64 B = images_per_gemm(g);
  parallel_for(threads, group_count(g), group_grain(g), [&](i64 begin, i64 end, int chunk) {
    for (i64 group = begin; group < end; ++group) {
      body(group * B, std::min(B, g.n - group * B), chunk);
    }
  });
}

// The same, with the groups handed out one at a time to whichever thread is free, for the
// forward and the data gradient: each group's result is computed whole by one thread in its own
// scratch slot, so it does not depend on which thread that is, and a thread that a busy machine
// slows down takes fewer groups instead of holding the others at the barrier. (The weight
// gradient keeps for_each_group: its per-chunk sums must fall the same way every time.)
template <typename Body>
void for_each_group_dynamic(const Conv2dGeometry& g, int threads, Body&& body) {
  const i64 B = images_per_gemm(g), groups = group_count(g);
  const int slots = static_cast<int>(conv_chunks(g, threads));
  if (slots == 1) {
    for (i64 group = 0; group < groups; ++group) body(group * B, std::min(B, g.n - group * B), 0);
    return;
  }
  std::atomic<i64> next{0};
#pragma omp parallel num_threads(slots)
  {
    const int slot = omp_get_thread_num();
    for (i64 group = next.fetch_add(1); group < groups; group = next.fetch_add(1)) {
      body(group * B, std::min(B, g.n - group * B), slot);
    }
  }
}

// Between (c_out, P) planes of images n0.. and their side-by-side staging (c_out, b*P).
template <typename T>
void stage(const Conv2dGeometry& g, const T* images, i64 b, T* staging) {
  const i64 P = g.out_pixels(), cols = b * P;
  for (i64 k = 0; k < b; ++k) {
    for (i64 o = 0; o < g.c_out; ++o) {
      const T* from = images + (k * g.c_out + o) * P;
      std::copy(from, from + P, staging + o * cols + k * P);
    }
  }
}
template <typename T>
void unstage(const Conv2dGeometry& g, const T* staging, i64 b, T* images) {
  const i64 P = g.out_pixels(), cols = b * P;
  for (i64 k = 0; k < b; ++k) {
    for (i64 o = 0; o < g.c_out; ++o) {
      const T* from = staging + o * cols + k * P;
      std::copy(from, from + P, images + (k * g.c_out + o) * P);
    }
  }
}

// The direct route over the batch: d is the convolution it runs - g itself (the forward) or
// g's data gradient - from `in` to `out`, with w packed for d at the workspace's start; the
// images go by g's groups, whose slots the workspace was sized for.
template <typename T>
void direct_images(const Conv2dGeometry& g, const Conv2dGeometry& d, const T* in, const T* w,
                   bool transposed, T* out, GradMode mode, T* workspace, int threads) {
  const WorkspaceLayout layout(g);
  const i64 in_elems = d.c_in * d.h * d.w, out_elems = d.c_out * d.h * d.w;
  conv3x3_pack_weights(d, w, transposed, workspace);
  for_each_group_dynamic(g, threads, [&](i64 n0, i64 b, int chunk) {
    for (i64 n = n0; n < n0 + b; ++n) {
      conv3x3_direct(d, in + n * in_elems, workspace, out + n * out_elems, mode,
                     layout.slot_at(workspace, chunk));
    }
  });
}

}  // namespace

template <typename T>
std::size_t conv2d_workspace_size(const Conv2dGeometry& g, int threads) {
  // The direct route's packed weights, then per chunk: the im2col and staging buffers (or the
  // bordered image), and one partial weight gradient.
  const WorkspaceLayout layout(g);
  return static_cast<std::size_t>(
      layout.packed_weights + conv_chunks(g, threads) * (layout.slot + g.c_out * g.patch_size()));
}

template <typename T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, T* y, T* workspace,
                    int threads) {
  const i64 K = g.patch_size(), P = g.out_pixels(), in_elems = g.c_in * g.h * g.w;
  const auto W = matrix(w, g.c_out, K);
  if (conv3x3_direct_suits(g)) {
    direct_images(g, g, x, w, false, y, GradMode::Assign, workspace, threads);
    return;
  }
  const WorkspaceLayout layout(g);
  for_each_group_dynamic(g, threads, [&](i64 n0, i64 b, int chunk) {
    T* col = layout.slot_at(workspace, chunk);
    T* staging = col + col_elems(g);
    const i64 cols = b * P;
    if (images_per_gemm(g) == 1) {
      const T* x_n = x + n0 * in_elems;
      if (!g.is_pointwise()) im2col(g, x_n, col, P);
      const T* in = g.is_pointwise() ? x_n : col;
      matrix(y + n0 * g.c_out * P, g.c_out, P).noalias() = W * matrix(in, K, P);
      return;
    }
    for (i64 k = 0; k < b; ++k) im2col(g, x + (n0 + k) * in_elems, col + k * P, cols);
    matrix(staging, g.c_out, cols).noalias() = W * matrix(col, K, cols);
    unstage(g, staging, b, y + n0 * g.c_out * P);
  });
}

template <typename T>
void conv2d_backward_data(const Conv2dGeometry& g, const T* dy, const T* w, T* dx, GradMode mode,
                          T* workspace, int threads) {
  const i64 K = g.patch_size(), P = g.out_pixels(), in_elems = g.c_in * g.h * g.w;
  const bool grouped = images_per_gemm(g) > 1;
  const auto W = matrix(w, g.c_out, K);
  const Conv2dGeometry dg = conv3x3_data_gradient_geometry(g);
  if (conv3x3_direct_suits(dg)) {
    direct_images(g, dg, dy, w, true, dx, mode, workspace, threads);
    return;
  }
  const WorkspaceLayout layout(g);
  for_each_group_dynamic(g, threads, [&](i64 n0, i64 b, int chunk) {
    T* col = layout.slot_at(workspace, chunk);
    T* staging = col + col_elems(g);
    const i64 cols = b * P;
    if (!grouped && g.is_pointwise()) {
      const auto DY = matrix(dy + n0 * g.c_out * P, g.c_out, P);
      auto DX = matrix(dx + n0 * in_elems, K, P);
      if (mode == GradMode::Assign) {
        DX.noalias() = W.transpose() * DY;
      } else {
        DX.noalias() += W.transpose() * DY;
      }
      return;
    }
    const T* dys = dy + n0 * g.c_out * P;
    if (grouped) {
      stage(g, dys, b, staging);
      dys = staging;
    }
    matrix(col, K, cols).noalias() = W.transpose() * matrix(dys, g.c_out, cols);
    for (i64 k = 0; k < b; ++k) {
      T* dx_n = dx + (n0 + k) * in_elems;
      if (mode == GradMode::Assign) std::fill(dx_n, dx_n + in_elems, T(0));
      col2im_add(g, col + k * P, cols, dx_n);
    }
  });
}

template <typename T>
void conv2d_backward_filter(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, GradMode mode,
                            T* workspace, int threads) {
  const i64 K = g.patch_size(), P = g.out_pixels(), in_elems = g.c_in * g.h * g.w;
  const bool grouped = images_per_gemm(g) > 1;
  const i64 chunks = conv_chunks(g, threads);
  const i64 w_elems = g.c_out * K;
  const WorkspaceLayout layout(g);
  T* partials = layout.slot_at(workspace, chunks);
  parallel_for(threads, chunks * w_elems, 1 << 16,
               [&](i64 begin, i64 end, int) { std::fill(partials + begin, partials + end, T(0)); });
  const bool direct = conv3x3_direct_filter_suits(g);
  for_each_group(g, threads, [&](i64 n0, i64 b, int chunk) {
    if (direct) {
      for (i64 n = n0; n < n0 + b; ++n) {
        conv3x3_direct_filter(g, x + n * in_elems, dy + n * g.c_out * P, partials + chunk * w_elems,
                              layout.slot_at(workspace, chunk));
      }
      return;
    }
    T* col = layout.slot_at(workspace, chunk);
    T* staging = col + col_elems(g);
    auto part = matrix(partials + chunk * w_elems, g.c_out, K);
    const i64 cols = b * P;
    const T* in = x + n0 * in_elems;
    if (grouped || !g.is_pointwise()) {
      for (i64 k = 0; k < b; ++k) im2col(g, x + (n0 + k) * in_elems, col + k * P, cols);
      in = col;
    }
    const T* dys = dy + n0 * g.c_out * P;
    if (grouped) {
      stage(g, dys, b, staging);
      dys = staging;
    }
    part.noalias() += matrix(dys, g.c_out, cols) * matrix(in, K, cols).transpose();
  });
  parallel_for(threads, w_elems, 4096, [&](i64 begin, i64 end, int) {
    for (i64 e = begin; e < end; ++e) {
      T sum = partials[e];
      for (i64 c = 1; c < chunks; ++c) sum += partials[c * w_elems + e];
      write_grad(dw[e], sum, mode);
    }
  });
}

#define RP_INSTANTIATE(T)                                                                          \
  template std::size_t conv2d_workspace_size<T>(const Conv2dGeometry&, int);                       \
  template void conv2d_forward<T>(const Conv2dGeometry&, const T*, const T*, T*, T*, int);         \
  template void conv2d_backward_data<T>(const Conv2dGeometry&, const T*, const T*, T*, GradMode,   \
                                        T*, int);                                                  \
  template void conv2d_backward_filter<T>(const Conv2dGeometry&, const T*, const T*, T*, GradMode, \
                                          T*, int);
RP_INSTANTIATE(float)
RP_INSTANTIATE(double)
#undef RP_INSTANTIATE

}  // namespace rp::cpu
