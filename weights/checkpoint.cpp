#include "weights/checkpoint.h"

#include <cmath>
#include <cstring>
#include <set>
#include <sstream>

#include "engine/core/build_info.h"
#include "engine/core/error.h"
#include "models/registry.h"
#include "weights/torch_import.h"

namespace rp {
namespace {

constexpr const char* kFormat = "robustprior.checkpoint.v1";
constexpr const char* kBatchesTracked = ".num_batches_tracked";

const char* st_dtype(DType d) {
  RP_CHECK(d == DType::F32 || d == DType::F64, "save_checkpoint",
           "parameters of dtype " << dtype_name(d) << " cannot be saved yet");
  return d == DType::F64 ? "F64" : "F32";
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::vector<std::int64_t> dims(const Shape& s) {
  return {s.begin(), s.end()};
}

// Host bytes of a tensor in its own dtype.
std::string host_bytes(const Tensor& t) {
  std::string bytes(t.nbytes(), '\0');
  if (!bytes.empty()) {
    Tensor::wrap(bytes.data(), t.shape(), t.dtype(), Device::cpu()).copy_from(t);
  }
  return bytes;
}

// Throws unless the stored tensor can be copied into `dst` (F32 or F64, the same shape).
void check_fits(const SafetensorsFile& f, const std::string& name, const Shape& expected) {
  const SafetensorsTensor& t = f.tensor(name);
  const std::string op = "checkpoint " + f.path();
  RP_CHECK(t.dtype == "F32" || t.dtype == "F64", op,
           "tensor '" << name << "' is " << t.dtype << "; expected F32 or F64");
  const Shape shape = Shape::from_range(t.shape.begin(), t.shape.end());
  RP_CHECK(shape == expected, op,
           "tensor '" << name << "': expected shape " << expected << ", found " << shape);
  // A NaN or Inf weight would evaluate to chance accuracy and a null loss: refused by name.
  const std::int64_t n = shape.numel();
  for (std::int64_t i = 0; i < n; ++i) {
    double v = 0;
    if (t.dtype == "F64") {
      std::memcpy(&v, f.data(name) + 8 * i, 8);
    } else {
      float x = 0;
      std::memcpy(&x, f.data(name) + 4 * i, 4);
      v = static_cast<double>(x);
    }
    RP_CHECK(std::isfinite(v), op,
             "tensor '" << name << "' holds a non-finite value (" << v << ") at element " << i);
  }
}

// Every tensor a network of `entries` holds is in the file with its shape, in F32 or F64 and
// finite; the file holds nothing else (but the momentum and BN's num_batches_tracked). Checked
// against the parameter plan before a network is built, and against the network before a load.
void check_holds(const SafetensorsFile& f, const std::vector<ParamEntry>& entries,
                 const std::string& arch) {
  const std::string op = "checkpoint " + f.path();
  std::set<std::string> expected;
  std::int64_t param_elems = 0;
  for (const ParamEntry& e : entries) {
    RP_CHECK(f.has(e.name), op, "lacks tensor '" << e.name << "' (another architecture?)");
    expected.insert(e.name);
    if (e.kind == ParamKind::Parameter) param_elems += e.shape.numel();
  }
  for (const auto& [name, t] : f.tensors()) {
    const bool known =
        expected.count(name) || name == Checkpoint::kMomentum || ends_with(name, kBatchesTracked);
    RP_CHECK(known, op,
             "holds tensor '" << name << "', which a " << arch
                              << " does not have (another architecture?)");
    if (ends_with(name, kBatchesTracked)) {
      RP_CHECK(t.dtype == "I64" && t.shape.empty(), op,
               "tensor '" << name << "' must be an I64 scalar, found " << t.dtype);
    }
  }
  for (const ParamEntry& e : entries) check_fits(f, e.name, e.shape);
  if (f.has(Checkpoint::kMomentum)) check_fits(f, Checkpoint::kMomentum, Shape{param_elems});
}

// Copies a stored tensor (checked by check_fits) into `dst`, converting F32 <-> F64.
void copy_in(const SafetensorsFile& f, const std::string& name, const Tensor& dst) {
  const SafetensorsTensor& t = f.tensor(name);
  const Shape shape = dst.shape();
  const DType stored = t.dtype == "F64" ? DType::F64 : DType::F32;
  const std::int64_t n = shape.numel();
  if (stored == dst.dtype()) {
    dst.copy_from(
        Tensor::wrap(const_cast<std::uint8_t*>(f.data(name)), shape, stored, Device::cpu()));
    return;
  }
  std::vector<double> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i) {
    if (stored == DType::F64) {
      std::memcpy(&v[static_cast<std::size_t>(i)], f.data(name) + 8 * i, 8);
    } else {
      float x;
      std::memcpy(&x, f.data(name) + 4 * i, 4);
      v[static_cast<std::size_t>(i)] = static_cast<double>(x);
    }
  }
  if (dst.dtype() == DType::F64) {
    dst.copy_from(Tensor::from_vector(v, shape));
  } else {
    dst.copy_from(Tensor::from_vector(std::vector<float>(v.begin(), v.end()), shape));
  }
}

// Typed metadata fields, each failure naming the field.
struct MetaReader {
  const std::map<std::string, std::string>& meta;
  std::string op;

  const std::string& text(const std::string& key) const {
    const auto it = meta.find(key);
    RP_CHECK(it != meta.end(), op, "metadata lacks '" << key << "'");
    return it->second;
  }
  nlohmann::json json(const std::string& key) const {
    try {
      return nlohmann::json::parse(text(key));
    } catch (const nlohmann::json::exception&) {
      RP_FAIL(op, "metadata '" << key << "' is not JSON: '" << text(key) << "'");
    }
  }
  std::string string(const std::string& key) const {
    const nlohmann::json v = json(key);
    RP_CHECK(v.is_string(), op,
             "metadata '" << key << "': expected a string, found '" << text(key) << "'");
    return v.get<std::string>();
  }
  double number(const std::string& key) const {
    const nlohmann::json v = json(key);
    RP_CHECK(v.is_number(), op,
             "metadata '" << key << "': expected a number, found '" << text(key) << "'");
    return v.get<double>();
  }
  std::int64_t integer(const std::string& key) const {
    const nlohmann::json v = json(key);
    RP_CHECK(v.is_number_integer(), op,
             "metadata '" << key << "': expected an integer, found '" << text(key) << "'");
    return v.get<std::int64_t>();
  }
  template <typename T>
  std::vector<T> list(const std::string& key) const {
    const nlohmann::json v = json(key);
    RP_CHECK(v.is_array(), op,
             "metadata '" << key << "': expected a list, found '" << text(key) << "'");
    try {
      return v.get<std::vector<T>>();
    } catch (const nlohmann::json::exception&) {
      RP_FAIL(op, "metadata '" << key << "': a list of the wrong type: '" << text(key) << "'");
    }
  }
};

void put_metadata(SafetensorsWriter& w, const NetworkSpec& spec, const CheckpointInfo& info) {
  const nlohmann::json image = {spec.channels, spec.image_h, spec.image_w};
  w.set_metadata("format", kFormat);
  w.set_metadata("robustprior_version", build_info::kVersion);
  w.set_metadata("arch", spec.arch);
  w.set_metadata("width", nlohmann::json(spec.width).dump());
  w.set_metadata("num_classes", std::to_string(spec.num_classes));
  w.set_metadata("image_shape", image.dump());
  w.set_metadata("normalization_mean", nlohmann::json(spec.mean).dump());
  w.set_metadata("normalization_std", nlohmann::json(spec.std).dump());
  w.set_metadata("dataset", nlohmann::json(info.dataset).dump());
  w.set_metadata("class_names", nlohmann::json(info.class_names).dump());
  w.set_metadata("epoch", std::to_string(info.epoch));
  w.set_metadata("steps", std::to_string(info.steps));
  w.set_metadata("best_test_acc", nlohmann::json(info.best_test_accuracy).dump());
  w.set_metadata("seed", std::to_string(info.seed));
  w.set_metadata("threads", std::to_string(info.threads));
  w.set_metadata("config", info.config.dump());
}

SafetensorsWriter imported_writer(const TorchImport& imp) {
  SafetensorsWriter w;
  for (const auto& [name, t] : imp.tensors) {
    w.add(name, "F32", t.shape, t.values.data(), t.values.size() * sizeof(float));
  }
  for (const auto& [bn, tracked] : imp.batches_tracked) {
    w.add(bn + kBatchesTracked, "I64", {}, &tracked, sizeof tracked);
  }
  put_metadata(w, imp.info.spec, imp.info);
  w.set_metadata("imported_from", nlohmann::json({{"file", imp.source},
                                                  {"format", imp.source_format},
                                                  {"state_dict", imp.state_dict_prefix}})
                                      .dump());
  return w;
}

}  // namespace

void save_checkpoint(const std::string& path, const Network& net, const Tensor& momentum,
                     const CheckpointInfo& info) {
  const ParameterStore& store = net.parameters();
  const NetworkSpec& spec = net.spec();
  SafetensorsWriter w;
  const std::string params = host_bytes(store.flat_params());
  const std::string buffers = host_bytes(store.flat_buffers());
  const std::size_t elem = dtype_size(store.dtype());
  for (const ParamEntry& e : store.entries()) {
    const std::string& block = e.kind == ParamKind::Parameter ? params : buffers;
    w.add(e.name, st_dtype(store.dtype()), dims(e.shape),
          block.data() + static_cast<std::size_t>(e.offset) * elem,
          static_cast<std::size_t>(e.shape.numel()) * elem);
    if (ends_with(e.name, ".running_mean")) {
      const std::string bn = e.name.substr(0, e.name.size() - std::strlen(".running_mean"));
      const std::int64_t tracked = store.batches_tracked;
      w.add(bn + kBatchesTracked, "I64", {}, &tracked, sizeof tracked);
    }
  }
  if (momentum.defined()) {
    RP_CHECK(momentum.shape() == store.flat_params().shape() && momentum.dtype() == store.dtype(),
             "save_checkpoint",
             "momentum " << momentum.str() << " does not match the parameters "
                         << store.flat_params().str());
    const std::string m = host_bytes(momentum);
    w.add(Checkpoint::kMomentum, st_dtype(store.dtype()), dims(momentum.shape()), m.data(),
          m.size());
  }
  put_metadata(w, spec, info);
  w.write(path);
}

void save_imported_checkpoint(const std::string& path, const TorchImport& imp) {
  imported_writer(imp).write(path);
}

Checkpoint Checkpoint::open(const std::string& path) {
  if (is_torch_file(path)) return open_torch(path, TorchImportOptions{});
  return from_file(SafetensorsFile::read(path));
}

Checkpoint Checkpoint::open_torch(const std::string& path, const TorchImportOptions& opt) {
  return from_import(import_torch(TorchFile::open(path), opt));
}

Checkpoint Checkpoint::from_import(const TorchImport& imp) {
  Checkpoint c = from_file(SafetensorsFile::parse(imported_writer(imp).serialize(), imp.source));
  c.source_format_ = imp.source_format;
  return c;
}

Checkpoint Checkpoint::from_file(SafetensorsFile file) {
  Checkpoint c;
  c.file_ = std::move(file);
  const std::string path = c.file_.path();
  const std::string op = "checkpoint " + path;
  const MetaReader m{c.file_.metadata(), op};
  RP_CHECK(c.file_.metadata().count("format") && m.text("format") == kFormat, op,
           "not a robustprior checkpoint (metadata 'format' is '"
               << (c.file_.metadata().count("format") ? m.text("format") : "") << "', expected '"
               << kFormat << "')");
  CheckpointInfo& info = c.info_;
  info.spec.arch = m.text("arch");
  info.spec.width = m.number("width");
  info.spec.num_classes = m.integer("num_classes");
  const std::vector<std::int64_t> image = m.list<std::int64_t>("image_shape");
  RP_CHECK(image.size() == 3, op, "metadata 'image_shape' must be [C, H, W]");
  info.spec.channels = image[0];
  info.spec.image_h = image[1];
  info.spec.image_w = image[2];
  info.spec.mean = m.list<double>("normalization_mean");
  info.spec.std = m.list<double>("normalization_std");
  // Bounded before anything is built from them: a file is not trusted to size a network.
  RP_CHECK(info.spec.width > 0 && info.spec.width <= 64, op,
           "metadata 'width' must be in (0, 64], found " << info.spec.width);
  RP_CHECK(info.spec.num_classes >= 1 && info.spec.num_classes <= 100'000, op,
           "metadata 'num_classes' must be in [1, 100000], found " << info.spec.num_classes);
  RP_CHECK((info.spec.channels == 1 || info.spec.channels == 3) && info.spec.image_h >= 1 &&
               info.spec.image_h <= 4096 && info.spec.image_w >= 1 && info.spec.image_w <= 4096,
           op, "metadata 'image_shape' must be [1 or 3, 1..4096, 1..4096]");
  RP_CHECK(static_cast<std::int64_t>(info.spec.mean.size()) == info.spec.channels &&
               static_cast<std::int64_t>(info.spec.std.size()) == info.spec.channels,
           op, "metadata normalization: one mean and std per channel are needed");
  for (std::size_t i = 0; i < info.spec.std.size(); ++i) {
    RP_CHECK(
        std::isfinite(info.spec.mean[i]) && std::isfinite(info.spec.std[i]) && info.spec.std[i] > 0,
        op, "metadata normalization: mean and std must be finite, std > 0");
  }
  info.dataset = m.string("dataset");
  info.class_names = m.list<std::string>("class_names");
  RP_CHECK(static_cast<std::int64_t>(info.class_names.size()) == info.spec.num_classes, op,
           "metadata lists " << info.class_names.size() << " class names for num_classes "
                             << info.spec.num_classes);
  info.epoch = m.integer("epoch");
  info.steps = m.integer("steps");
  info.best_test_accuracy = m.number("best_test_acc");
  info.seed = static_cast<std::uint64_t>(m.integer("seed"));
  info.threads = c.file_.metadata().count("threads") ? m.integer("threads") : 0;
  info.config = m.json("config");
  // The network's dtype is its parameters', read off the head ("fc" in torchvision's and
  // RobustBench's layouts, "linear" in the others).
  const std::string head = c.file_.has("fc.weight") ? "fc.weight" : "linear.weight";
  info.spec.dtype =
      c.file_.has(head) && c.file_.tensor(head).dtype == "F64" ? DType::F64 : DType::F32;
  return c;
}

std::unique_ptr<Network> Checkpoint::load_network(Device device) const {
  const std::string op = "checkpoint " + path();
  // Every tensor is checked against the names and shapes the metadata's network would hold,
  // computed without allocating it: a file of no tensors with a large width in its metadata
  // is refused before a network of that size exists.
  std::vector<ParamEntry> plan;
  try {
    plan = parameter_plan(info_.spec);
  } catch (const Error& e) {
    RP_FAIL(op, "its metadata describes no buildable model: " << e.detail());
  }
  check_holds(file_, plan, info_.spec.arch);
  std::unique_ptr<Network> net = make_network(info_.spec, device, 0);
  copy_into(*net);
  return net;
}

void Checkpoint::load_into(Network& net) const {
  const std::string op = "checkpoint " + path();
  const NetworkSpec& s = net.spec();
  RP_CHECK(s.arch == info_.spec.arch && s.width == info_.spec.width &&
               s.num_classes == info_.spec.num_classes,
           op,
           "holds a " << info_.spec.arch << " (width " << info_.spec.width << ", "
                      << info_.spec.num_classes << " classes) but the network is a " << s.arch
                      << " (width " << s.width << ", " << s.num_classes << " classes)");
  // Everything is checked before anything is copied: a bad file leaves the network as it was.
  check_holds(file_, net.parameters().entries(), s.arch);
  copy_into(net);
}

void Checkpoint::copy_into(Network& net) const {
  ParameterStore& store = net.parameters();
  std::int64_t tracked = 0;
  for (const auto& [name, t] : file_.tensors()) {
    if (ends_with(name, kBatchesTracked)) std::memcpy(&tracked, file_.data(name), sizeof tracked);
  }
  for (std::size_t i = 0; i < store.entries().size(); ++i) {
    copy_in(file_, store.entries()[i].name, store.value(i));
  }
  store.batches_tracked = tracked;
}

void Checkpoint::load_momentum(const Tensor& momentum) const {
  RP_CHECK(has_momentum(), "checkpoint " + path(),
           "holds no optimizer state (not a training checkpoint)");
  check_fits(file_, kMomentum, momentum.shape());
  copy_in(file_, kMomentum, momentum);
}

}  // namespace rp
