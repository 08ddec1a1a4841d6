// cuDNN graph-API convolutions through cudnn-frontend v1: graph construction, the per-context
// plan cache and execution. The maths, the engine filtering and the Accumulate scheme are in
// conv2d.h. The only file that includes the frontend (compiled by g++; ~35 s).
#include "kernels/cudnn/conv2d.h"

#include <cublas_v2.h>
#include <cudnn_frontend.h>

#include <exception>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/core/cuda_check.h"
#include "engine/core/cuda_handles.h"
#include "engine/core/error.h"

namespace rp::cudnn {
namespace {

namespace fe = cudnn_frontend;
using TensorPtr = std::shared_ptr<fe::graph::Tensor_attributes>;

// Fixed tensor uids: a plan's operands are then passed as a pointer array in uid order, with no
// map built per call.
constexpr std::int64_t kUidA = 1, kUidB = 2, kUidOut = 3;
// cudaMalloc's alignment; cuDNN wants its workspace at least this aligned.
constexpr std::size_t kAlign = 256;

std::size_t round_up(std::size_t bytes) {
  return (bytes + kAlign - 1) / kAlign * kAlign;
}

struct Conv2dPlan {
  std::unique_ptr<fe::graph::Graph> graph;  // owns the execution plan
  std::size_t workspace = 0;                // bytes cuDNN's plan needs
};

// Lives in CudaHandles::conv_plans, released before the cuDNN handle is destroyed.
struct Conv2dPlanCache {
  std::unordered_map<Conv2dPlanKey, std::unique_ptr<Conv2dPlan>, Conv2dPlanKeyHash> plans;
};

[[noreturn]] void fail(const Conv2dPlanKey& key, const char* stage, const std::string& message) {
  RP_FAIL(conv2d_op_name(key.direction),
          "cuDNN " << stage << " failed for " << conv2d_describe(key) << ": " << message);
}

void check(fe::error_t status, const Conv2dPlanKey& key, const char* stage) {
  if (status.is_bad()) fail(key, stage, status.get_message());
}

fe::DataType_t data_type(DType dtype) {
  return dtype == DType::F64 ? fe::DataType_t::DOUBLE : fe::DataType_t::FLOAT;
}

// Dense NCHW; set explicitly on every tensor, outputs included (the frontend would make an
// inferred output NHWC).
std::vector<std::int64_t> nchw_strides(const std::vector<std::int64_t>& d) {
  return {d[1] * d[2] * d[3], d[2] * d[3], d[3], 1};
}

std::int64_t out_extent(std::int64_t in, std::int64_t pad, std::int64_t k, std::int64_t dilation,
                        std::int64_t stride) {
  return (in + 2 * pad - dilation * (k - 1) - 1) / stride + 1;
}

// The key's graph, validated (validate() needs no handle and no GPU).
std::unique_ptr<fe::graph::Graph> make_graph(const Conv2dPlanKey& key) {
  conv2d_check_supported(key);
  const Conv2dGeometry& g = key.g;
  const fe::DataType_t type = data_type(key.dtype);
  auto graph = std::make_unique<fe::graph::Graph>();
  graph->set_io_data_type(type).set_intermediate_data_type(type).set_compute_data_type(type);

  const std::vector<std::int64_t> x_dims{g.n, g.c_in, g.h, g.w};        // (N, C_in, H, W)
  const std::vector<std::int64_t> w_dims{g.c_out, g.c_in, g.kh, g.kw};  // (C_out, C_in, kH, kW)
  const std::vector<std::int64_t> y_dims{
      g.n, g.c_out, out_extent(g.h, g.pad_h, g.kh, key.dilation_h, g.stride_h),
      out_extent(g.w, g.pad_w, g.kw, key.dilation_w, g.stride_w)};  // (N, C_out, H_out, W_out)
  const std::vector<std::int64_t> pad{g.pad_h, g.pad_w}, stride{g.stride_h, g.stride_w},
      dilation{key.dilation_h, key.dilation_w};
  auto input = [&](const char* name, std::int64_t uid, const std::vector<std::int64_t>& dims) {
    return graph->tensor(fe::graph::Tensor_attributes()
                             .set_name(name)
                             .set_uid(uid)
                             .set_dim(dims)
                             .set_stride(nchw_strides(dims))
                             .set_data_type(type)
                             .set_alignment(key.alignment));
  };

  TensorPtr out;
  const std::vector<std::int64_t>* out_dims = nullptr;
  const char* out_name = "";
  switch (key.direction) {
    case Conv2dDirection::Forward:
      out = graph->conv_fprop(input("x", kUidA, x_dims), input("w", kUidB, w_dims),
                              fe::graph::Conv_fprop_attributes()
                                  .set_name("conv_fprop")
                                  .set_padding(pad)
                                  .set_stride(stride)
                                  .set_dilation(dilation));
      out_dims = &y_dims;
      out_name = "y";
      break;
    case Conv2dDirection::BackwardData:
      out = graph->conv_dgrad(input("dy", kUidA, y_dims), input("w", kUidB, w_dims),
                              fe::graph::Conv_dgrad_attributes()
                                  .set_name("conv_dgrad")
                                  .set_padding(pad)
                                  .set_stride(stride)
                                  .set_dilation(dilation));
      out_dims = &x_dims;
      out_name = "dx";
      break;
    case Conv2dDirection::BackwardFilter:
      out = graph->conv_wgrad(input("dy", kUidB, y_dims), input("x", kUidA, x_dims),
                              fe::graph::Conv_wgrad_attributes()
                                  .set_name("conv_wgrad")
                                  .set_padding(pad)
                                  .set_stride(stride)
                                  .set_dilation(dilation));
      out_dims = &w_dims;
      out_name = "dw";
      break;
  }
  // Only a corrupted direction gets here; the check also shows the compiler `out` is set.
  RP_CHECK(out != nullptr && out_dims != nullptr, conv2d_op_name(key.direction),
           "unknown convolution direction " << static_cast<int>(key.direction));
  out->set_output(true)
      .set_name(out_name)
      .set_uid(kUidOut)
      .set_dim(*out_dims)
      .set_stride(nchw_strides(*out_dims))
      .set_data_type(type)
      .set_alignment(key.alignment);
  check(graph->validate(), key, "graph validation");
  return graph;
}

// Engines whose numerical notes break fp32 accuracy or determinism. TF32 engines carry
// TENSOR_CORE (for f32 data); f64 tensor-core engines compute in full fp64 and stay allowed.
std::vector<fe::NumericalNote_t> barred_notes(const Conv2dPlanKey& key) {
  std::vector<fe::NumericalNote_t> notes{fe::NumericalNote_t::NONDETERMINISTIC,
                                         fe::NumericalNote_t::DOWN_CONVERT_INPUTS,
                                         fe::NumericalNote_t::REDUCED_PRECISION_REDUCTION};
  if (key.dtype == DType::F32 && !key.tf32) notes.push_back(fe::NumericalNote_t::TENSOR_CORE);
  return notes;
}

std::unique_ptr<Conv2dPlan> build_plan(CudaHandles* h, const Conv2dPlanKey& key) {
  auto plan = std::make_unique<Conv2dPlan>();
  try {
    plan->graph = make_graph(key);
    fe::graph::Graph& graph = *plan->graph;
    check(graph.build_operation_graph(h->cudnn), key, "build_operation_graph");
    // Heuristics mode A first, FALLBACK's list after it: the first supported engine of the
    // combined list that survives the note filter is built.
    check(graph.create_execution_plans({fe::HeurMode_t::A, fe::HeurMode_t::FALLBACK}), key,
          "heuristics query");
    graph.deselect_numeric_notes(barred_notes(key));
    check(graph.check_support(), key,
          key.tf32 ? "engine selection (deterministic engines)"
                   : "engine selection (exact, deterministic engines; TF32 is off)");
    check(graph.build_plans(fe::BuildPlanPolicy_t::HEURISTICS_CHOICE), key, "plan build");
    std::int64_t bytes = 0;
    check(graph.get_workspace_size(bytes), key, "workspace query");
    plan->workspace = static_cast<std::size_t>(bytes);
  } catch (const rp::Error&) {
    throw;
  } catch (const std::exception& e) {  // the frontend throws in a few places (symbol lookup)
    fail(key, "plan construction", e.what());
  }
  return plan;
}

Conv2dPlanCache& cache_of(CudaHandles* h) {
  if (!h->conv_plans) h->conv_plans = std::make_shared<Conv2dPlanCache>();
  return *static_cast<Conv2dPlanCache*>(h->conv_plans.get());
}

const Conv2dPlan* find_plan(CudaHandles* h, const Conv2dPlanKey& key) {
  if (!h->conv_plans) return nullptr;
  const auto& plans = static_cast<Conv2dPlanCache*>(h->conv_plans.get())->plans;
  const auto it = plans.find(key);
  return it == plans.end() ? nullptr : it->second.get();
}

std::size_t element_bytes(DType dtype) {
  return dtype == DType::F64 ? sizeof(double) : sizeof(float);
}

std::int64_t out_numel(const Conv2dPlanKey& key) {
  const Conv2dGeometry& g = key.g;
  switch (key.direction) {
    case Conv2dDirection::Forward:
      return g.n * g.c_out * out_extent(g.h, g.pad_h, g.kh, key.dilation_h, g.stride_h) *
             out_extent(g.w, g.pad_w, g.kw, key.dilation_w, g.stride_w);
    case Conv2dDirection::BackwardData:
      return g.n * g.c_in * g.h * g.w;
    case Conv2dDirection::BackwardFilter:
      return g.c_out * g.c_in * g.kh * g.kw;
  }
  return 0;
}

// Accumulate's scratch copy of the output, at the start of the workspace; cuDNN's part follows.
std::size_t scratch_bytes(const Conv2dPlanKey& key, GradMode mode) {
  if (mode == GradMode::Assign) return 0;
  return round_up(static_cast<std::size_t>(out_numel(key)) * element_bytes(key.dtype));
}

// out += scratch, exactly rounded (alpha = 1), ordered on the handles' stream.
void accumulate(CudaHandles* h, const Conv2dPlanKey& key, const void* scratch, void* out) {
  const int n = static_cast<int>(out_numel(key));  // < 2^31: conv2d_check_supported
  if (key.dtype == DType::F64) {
    const double one = 1.0;
    RP_CUBLAS_CHECK(cublasDaxpy(h->cublas, n, &one, static_cast<const double*>(scratch), 1,
                                static_cast<double*>(out), 1));
  } else {
    const float one = 1.0f;
    RP_CUBLAS_CHECK(cublasSaxpy(h->cublas, n, &one, static_cast<const float*>(scratch), 1,
                                static_cast<float*>(out), 1));
  }
}

}  // namespace

void conv2d_validate_graph(const Conv2dPlanKey& key) {
  try {
    make_graph(key);
  } catch (const rp::Error&) {
    throw;
  } catch (const std::exception& e) {
    fail(key, "graph construction", e.what());
  }
}

std::size_t conv2d_workspace_size(CudaHandles* h, const Conv2dPlanKey& key, GradMode mode,
                                  bool may_build) {
  const char* op = conv2d_op_name(key.direction);
  RP_CHECK(key.direction != Conv2dDirection::Forward || mode == GradMode::Assign, op,
           "the forward convolution assigns its output");
  const Conv2dPlan* plan = find_plan(h, key);
  if (plan == nullptr) {
    RP_CHECK(may_build, op,
             "no cuDNN plan for " << conv2d_describe(key)
                                  << " and allocations are frozen: building one allocates, so "
                                     "prepare the convolution first (conv2d_prepare, which "
                                     "Network::prepare calls for every layer)");
    auto built = build_plan(h, key);
    plan = built.get();
    cache_of(h).plans.emplace(key, std::move(built));
  }
  return scratch_bytes(key, mode) + plan->workspace;
}

void conv2d_execute(CudaHandles* h, const Conv2dPlanKey& key, GradMode mode, const void* a,
                    const void* b, void* out, void* workspace, std::size_t workspace_bytes) {
  const char* op = conv2d_op_name(key.direction);
  const Conv2dPlan* plan = find_plan(h, key);
  RP_CHECK(plan != nullptr, op,
           "no cuDNN plan for " << conv2d_describe(key) << " (conv2d_workspace_size builds it)");
  const std::size_t scratch = scratch_bytes(key, mode);
  RP_CHECK(workspace_bytes >= scratch + plan->workspace, op,
           "workspace of " << workspace_bytes << " bytes, the plan needs "
                           << scratch + plan->workspace << " for " << conv2d_describe(key));
  RP_CHECK(conv2d_alignment(a, b, out) >= key.alignment, op,
           "operands at " << a << ", " << b << ", " << out << " are not " << key.alignment
                          << "-byte aligned as the plan for " << conv2d_describe(key)
                          << " assumes");
  auto* base = static_cast<unsigned char*>(workspace);
  void* target = mode == GradMode::Accumulate ? static_cast<void*>(base) : out;
  void* plan_workspace = plan->workspace > 0 ? static_cast<void*>(base + scratch) : nullptr;
  // In uid order: kUidA, kUidB, kUidOut. The frontend takes non-const pointers for all.
  void* operands[3] = {const_cast<void*>(a), const_cast<void*>(b), target};
  check(plan->graph->execute(h->cudnn, operands, 3, plan_workspace), key, "execution");
  if (mode == GradMode::Accumulate) accumulate(h, key, target, out);
}

std::size_t conv2d_cached_plans(CudaHandles* h) {
  return h->conv_plans ? static_cast<Conv2dPlanCache*>(h->conv_plans.get())->plans.size() : 0;
}

}  // namespace rp::cudnn
