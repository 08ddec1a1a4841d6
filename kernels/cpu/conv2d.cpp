#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <type_traits>

#include "kernels/cpu/conv3x3_direct.h"
#include "kernels/cpu/conv3x3_winograd.h"
#include "kernels/cpu/eigen_maps.h"
#include "kernels/cpu/grad_write.h"
#include "kernels/cpu/padded_planes.h"
#include "kernels/cpu/parallel.h"

namespace rp::cpu {
namespace {

using i64 = std::int64_t;

// One image: col (patch_size, out_pixels), row (c*kh + i)*kw + j - which starts at
// col + ((c*kh + i)*kw + j) * ld - holds the input pixels that kernel tap (c, i, j) meets at
// every output position, zero where it falls on the padding. ld > out_pixels leaves room for
// other images' columns beside this one's. `padded` is the image's padded planes
// (padded_image), so every tap reads whole rows with no bounds test; SW is the column stride
// where it is known at compile time (1 or 2, ResNets' strides), 0 otherwise, and WO the output
// rows' width where it is (4 or 8, ResNets' last stages: a run of 4 or 8 elements costs less
// unrolled than as a loop - the GEMM-route layers of width 1/4 ran 10-20% faster), 0 otherwise.
template <i64 SW, i64 WO, typename T>
void im2col_taps(const Conv2dGeometry& g, const T* padded, T* col, i64 ld) {
  const i64 ho = g.h_out(), wo = WO > 0 ? WO : g.w_out(), pw = padded_width(g),
            plane = padded_plane(g);
  const i64 sw = SW > 0 ? SW : g.stride_w;
  for (i64 c = 0; c < g.c_in; ++c) {
    for (i64 i = 0; i < g.kh; ++i) {
      for (i64 j = 0; j < g.kw; ++j) {
        T* out = col + ((c * g.kh + i) * g.kw + j) * ld;
        const T* in = padded + c * plane + i * pw + j;
        for (i64 p = 0; p < ho; ++p) {
          const T* src = in + p * g.stride_h * pw;
          T* dst = out + p * wo;
          if (SW == 1) {
            copy_run(src, wo, dst);
          } else {
            for (i64 q = 0; q < wo; ++q) dst[q] = src[q * sw];
          }
        }
      }
    }
  }
}

// body(SW, WO) - each a std::integral_constant - for g's column stride and output width: the
// compile-time values im2col_taps and col2im_taps take where ResNets have them, 0 elsewhere.
template <typename Body>
void with_row_shape(const Conv2dGeometry& g, Body&& body) {
  using Stride1 = std::integral_constant<i64, 1>;
  using Stride2 = std::integral_constant<i64, 2>;
  using Any = std::integral_constant<i64, 0>;
  const auto by_width = [&](auto sw) {
    if (g.w_out() == 4) {
      body(sw, std::integral_constant<i64, 4>{});
    } else if (g.w_out() == 8) {
      body(sw, std::integral_constant<i64, 8>{});
    } else {
      body(sw, Any{});
    }
  };
  if (g.stride_w == 1) {
    by_width(Stride1{});
  } else if (g.stride_w == 2) {
    by_width(Stride2{});
  } else {
    body(Any{}, Any{});
  }
}

template <typename T>
void im2col(const Conv2dGeometry& g, const T* padded, T* col, i64 ld) {
  with_row_shape(g, [&](auto sw, auto wo) {
    im2col_taps<decltype(sw)::value, decltype(wo)::value>(g, padded, col, ld);
  });
}

// Image x_n as im2col reads it: its padded planes, written into `scratch`
// (padded_elems(g)), or the image itself where g has no padding.
template <typename T>
const T* padded_image(const Conv2dGeometry& g, const T* x_n, T* scratch) {
  if (!has_padding(g)) return x_n;
  pad_planes(g, x_n, scratch);
  return scratch;
}

// The adjoint of im2col_taps: adds each column entry back onto the padded pixel it was read
// from, tap by tap in im2col's row order, so every pixel's sum has one fixed order.
template <i64 SW, i64 WO, typename T>
void col2im_taps(const Conv2dGeometry& g, const T* col, i64 ld, T* padded) {
  const i64 ho = g.h_out(), wo = WO > 0 ? WO : g.w_out(), pw = padded_width(g),
            plane = padded_plane(g);
  const i64 sw = SW > 0 ? SW : g.stride_w;
  for (i64 c = 0; c < g.c_in; ++c) {
    for (i64 i = 0; i < g.kh; ++i) {
      for (i64 j = 0; j < g.kw; ++j) {
        const T* in = col + ((c * g.kh + i) * g.kw + j) * ld;
        T* out = padded + c * plane + i * pw + j;
        for (i64 p = 0; p < ho; ++p) {
          const T* src = in + p * wo;
          T* dst = out + p * g.stride_h * pw;
          for (i64 q = 0; q < wo; ++q) dst[q * sw] += src[q];
        }
      }
    }
  }
}

// One image's data gradient from its columns: dx_n (=|+= by mode) the sum of every column entry
// on the pixel it was read from. Where g pads, the sums run in padded planes (`scratch`,
// padded_elems(g)) that start as dx_n (or zeros), and the middle is copied back: each pixel
// gets the same additions in the same order as in place.
template <typename T>
void col2im(const Conv2dGeometry& g, const T* col, i64 ld, T* dx_n, GradMode mode, T* scratch) {
  const bool pad = has_padding(g);
  T* sums = pad ? scratch : dx_n;
  if (mode == GradMode::Assign) {
    zero_run(sums, pad ? padded_elems(g) : g.c_in * g.h * g.w);
  } else if (pad) {
    pad_planes(g, dx_n, sums);
  }
  with_row_shape(g, [&](auto sw, auto wo) {
    col2im_taps<decltype(sw)::value, decltype(wo)::value>(g, col, ld, sums);
  });
  if (pad) unpad_planes(g, sums, dx_n);
}

// Output columns one GEMM should have at least. The late stages' images are small (4x4 at
// ResNet-18's last stage), and a product per image would repack the whole weight matrix for a
// few columns - as much work as the product itself - so several images' columns go side by
// side into one GEMM there: as many as make kGemmColumns, as long as their columns stay within
// kMaxGroupColumnElems. (Measured on a 2-core AVX2 machine: at ResNet-18's full width, groups
// of 16 images at the last stage fill 9.4 MB of columns, and groups of 8 ran about 10% faster;
// 64 images per group lost 10-25%. At width 1/4 the cap changes nothing.)
constexpr i64 kGemmColumns = 256;
constexpr i64 kMaxGroupColumnElems = i64{1} << 19;

i64 images_per_gemm(const Conv2dGeometry& g) {
  const i64 P = std::max<i64>(1, g.out_pixels());
  const i64 by_columns = (kGemmColumns + P - 1) / P;
  const i64 by_size = std::max<i64>(1, kMaxGroupColumnElems / std::max<i64>(1, g.patch_size() * P));
  return std::clamp<i64>(std::min(by_columns, by_size), 1, std::max<i64>(1, g.n));
}

// Images per group of the batch: Winograd's groups where g goes by Winograd (conv3x3_winograd.h;
// then no direction takes the GEMM route), the GEMM's otherwise.
i64 images_per_group(const Conv2dGeometry& g) {
  return conv3x3_winograd_suits(g) ? conv3x3_winograd_images_per_group(g) : images_per_gemm(g);
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

// Where g pads, one image's padded planes at a time (im2col reads them, col2im sums into them).
i64 padding_elems(const Conv2dGeometry& g) {
  return has_padding(g) ? padded_elems(g) : 0;
}

i64 gemm_scratch_elems(const Conv2dGeometry& g) {
  return col_elems(g) + staging_elems(g) + padding_elems(g);
}

// A chunk's scratch slot on the GEMM route: [col | staging | padded planes].
template <typename T>
struct GemmSlot {
  T *col, *staging, *padded;
  GemmSlot(const Conv2dGeometry& g, T* slot)
      : col(slot), staging(slot + col_elems(g)), padded(staging + staging_elems(g)) {}
};

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

// The Winograd route's transformed weights (also the size of its weight-gradient partials),
// where g takes that route.
i64 winograd_weights_elems(const Conv2dGeometry& g) {
  return conv3x3_winograd_suits(g) ? conv3x3_winograd_weights_elems(g) : 0;
}

// The workspace: [packed weights | one scratch slot per chunk | one weight-gradient partial per
// chunk]; a chunk's slot serves whichever route the direction takes. Worked out once per call.
struct WorkspaceLayout {
  i64 packed_weights, slot, partial;
  explicit WorkspaceLayout(const Conv2dGeometry& g)
      : packed_weights(std::max(direct_weights_elems(g), winograd_weights_elems(g))),
        slot(std::max(
            conv3x3_winograd_suits(g) ? conv3x3_winograd_scratch(g) : gemm_scratch_elems(g),
            direct_scratch_elems(g))),
        partial(std::max(g.c_out * g.patch_size(), winograd_weights_elems(g))) {}
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

// The threads split whole groups of images_per_group images (the last group may be smaller), so
// which images share a product - and so every rounding - depends on the shapes alone.
i64 group_count(const Conv2dGeometry& g) {
  const i64 B = images_per_group(g);
  return (g.n + B - 1) / B;
}
i64 group_grain(const Conv2dGeometry& g) {
  const i64 B = images_per_group(g);
  return (image_grain(g) + B - 1) / B;
}
i64 conv_chunks(const Conv2dGeometry& g, int threads) {
  return parallel_chunks(threads, group_count(g), group_grain(g));
}
// body(n0, b, chunk) for each group: images [n0, n0 + b), run by parallel chunk `chunk`.
template <typename Body>
void for_each_group(const Conv2dGeometry& g, int threads, Body&& body) {
  const i64 B = images_per_group(g);
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
  const i64 B = images_per_group(g), groups = group_count(g);
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
      copy_run(from, P, staging + o * cols + k * P);
    }
  }
}
template <typename T>
void unstage(const Conv2dGeometry& g, const T* staging, i64 b, T* images) {
  const i64 P = g.out_pixels(), cols = b * P;
  for (i64 k = 0; k < b; ++k) {
    for (i64 o = 0; o < g.c_out; ++o) {
      const T* from = staging + o * cols + k * P;
      copy_run(from, P, images + (k * g.c_out + o) * P);
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

// The Winograd route over the batch (conv3x3_winograd.h): d is g itself or g's data gradient,
// its transformed weights at the workspace's start.
template <typename T>
void winograd_images(const Conv2dGeometry& g, const Conv2dGeometry& d, const T* in, const T* w,
                     bool transposed, T* out, GradMode mode, T* workspace, int threads) {
  const WorkspaceLayout layout(g);
  const i64 in_elems = d.c_in * d.h * d.w, out_elems = d.c_out * d.h * d.w;
  conv3x3_winograd_weights(d, w, transposed, workspace, threads);
  for_each_group_dynamic(g, threads, [&](i64 n0, i64 b, int chunk) {
    conv3x3_winograd(d, in + n0 * in_elems, b, workspace, out + n0 * out_elems, mode,
                     layout.slot_at(workspace, chunk));
  });
}

}  // namespace

template <typename T>
std::size_t conv2d_workspace_size(const Conv2dGeometry& g, int threads) {
  // The direct or Winograd route's weights, then per chunk: the im2col and staging buffers (or
  // the bordered image, or Winograd's transforms), and one partial weight gradient.
  const WorkspaceLayout layout(g);
  return static_cast<std::size_t>(layout.packed_weights +
                                  conv_chunks(g, threads) * (layout.slot + layout.partial));
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
  if (conv3x3_winograd_suits(g)) {
    winograd_images(g, g, x, w, false, y, GradMode::Assign, workspace, threads);
    return;
  }
  const WorkspaceLayout layout(g);
  for_each_group_dynamic(g, threads, [&](i64 n0, i64 b, int chunk) {
    const GemmSlot<T> s(g, layout.slot_at(workspace, chunk));
    const i64 cols = b * P;
    if (images_per_gemm(g) == 1) {
      const T* x_n = x + n0 * in_elems;
      if (!g.is_pointwise()) im2col(g, padded_image(g, x_n, s.padded), s.col, P);
      const T* in = g.is_pointwise() ? x_n : s.col;
      matrix(y + n0 * g.c_out * P, g.c_out, P).noalias() = W * matrix(in, K, P);
      return;
    }
    for (i64 k = 0; k < b; ++k) {
      im2col(g, padded_image(g, x + (n0 + k) * in_elems, s.padded), s.col + k * P, cols);
    }
    matrix(s.staging, g.c_out, cols).noalias() = W * matrix(s.col, K, cols);
    unstage(g, s.staging, b, y + n0 * g.c_out * P);
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
  if (conv3x3_winograd_suits(g)) {
    winograd_images(g, dg, dy, w, true, dx, mode, workspace, threads);
    return;
  }
  const WorkspaceLayout layout(g);
  for_each_group_dynamic(g, threads, [&](i64 n0, i64 b, int chunk) {
    const GemmSlot<T> s(g, layout.slot_at(workspace, chunk));
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
      stage(g, dys, b, s.staging);
      dys = s.staging;
    }
    matrix(s.col, K, cols).noalias() = W.transpose() * matrix(dys, g.c_out, cols);
    for (i64 k = 0; k < b; ++k) {
      col2im(g, s.col + k * P, cols, dx + (n0 + k) * in_elems, mode, s.padded);
    }
  });
}

template <typename T>
void conv2d_backward_filter(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, GradMode mode,
                            T* workspace, int threads) {
  const i64 K = g.patch_size(), P = g.out_pixels(), in_elems = g.c_in * g.h * g.w;
  const bool grouped = images_per_gemm(g) > 1;
  const i64 chunks = conv_chunks(g, threads);
  const bool direct = conv3x3_direct_filter_suits(g);
  const bool winograd = !direct && conv3x3_winograd_suits(g);
  const WorkspaceLayout layout(g);
  // A chunk's partial: dw's shape, or on the Winograd route its 16 x c_out x c_in transform.
  const i64 w_elems = winograd ? conv3x3_winograd_weights_elems(g) : g.c_out * K;
  T* partials = layout.slot_at(workspace, chunks);
  parallel_for(threads, chunks * w_elems, 1 << 16,
               [&](i64 begin, i64 end, int) { std::fill(partials + begin, partials + end, T(0)); });
  for_each_group(g, threads, [&](i64 n0, i64 b, int chunk) {
    if (winograd) {
      conv3x3_winograd_filter(g, x + n0 * in_elems, dy + n0 * g.c_out * P, b,
                              partials + chunk * w_elems, layout.slot_at(workspace, chunk));
      return;
    }
    if (direct) {
      for (i64 n = n0; n < n0 + b; ++n) {
        conv3x3_direct_filter(g, x + n * in_elems, dy + n * g.c_out * P, partials + chunk * w_elems,
                              layout.slot_at(workspace, chunk));
      }
      return;
    }
    const GemmSlot<T> s(g, layout.slot_at(workspace, chunk));
    auto part = matrix(partials + chunk * w_elems, g.c_out, K);
    const i64 cols = b * P;
    const T* in = x + n0 * in_elems;
    if (grouped || !g.is_pointwise()) {
      for (i64 k = 0; k < b; ++k) {
        im2col(g, padded_image(g, x + (n0 + k) * in_elems, s.padded), s.col + k * P, cols);
      }
      in = s.col;
    }
    const T* dys = dy + n0 * g.c_out * P;
    if (grouped) {
      stage(g, dys, b, s.staging);
      dys = s.staging;
    }
    part.noalias() += matrix(dys, g.c_out, cols) * matrix(in, K, cols).transpose();
  });
  // The chunks' partials summed in chunk order: into dw, or - on the Winograd route - into the
  // first partial, whose transform back is then dw.
  parallel_for(threads, w_elems, 4096, [&](i64 begin, i64 end, int) {
    for (i64 e = begin; e < end; ++e) {
      T sum = partials[e];
      for (i64 c = 1; c < chunks; ++c) sum += partials[c * w_elems + e];
      if (winograd) {
        partials[e] = sum;
      } else {
        write_grad(dw[e], sum, mode);
      }
    }
  });
  if (winograd) conv3x3_winograd_filter_finish(g, partials, dw, mode, threads);
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
