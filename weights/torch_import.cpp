#include "weights/torch_import.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <memory>
#include <set>
#include <sstream>

#include "engine/core/error.h"
#include "models/registry.h"

namespace rp {
namespace {

using Shapes = std::map<std::string, std::vector<std::int64_t>>;

constexpr const char* kTracked = ".num_batches_tracked";
constexpr const char* kRunningMean = ".running_mean";

// Normalization constants of the families' own code: robustness/datasets.py (CIFAR, ImageNet
// and RestrictedImageNet), fast_adversarial CIFAR10/utils.py (cifar10_mean/std).
const std::vector<double> kCifarMean{0.4914, 0.4822, 0.4465};
const std::vector<double> kCifarStd{0.2023, 0.1994, 0.2010};
const std::vector<double> kFastStd{0.2471, 0.2435, 0.2616};
const std::vector<double> kImagenetMean{0.485, 0.456, 0.406};
const std::vector<double> kImagenetStd{0.229, 0.224, 0.225};

const std::vector<std::string> kCifar10Classes{"airplane", "automobile", "bird",  "cat",  "deer",
                                               "dog",      "frog",       "horse", "ship", "truck"};
// The robustness library's RestrictedImageNet ranges, in its order.
const std::vector<std::string> kRestrictedClasses{"dog",     "cat",  "frog", "turtle", "bird",
                                                  "primate", "fish", "crab", "insect"};

bool starts_with(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string shape_str(const std::vector<std::int64_t>& s) {
  std::ostringstream o;
  o << "(";
  for (std::size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  o << ")";
  return o.str();
}

std::size_t edit_distance(const std::string& a, const std::string& b) {
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The candidate nearest to `name` by edit distance (the first of equals); empty if none.
template <typename Range>
std::string closest(const std::string& name, const Range& candidates) {
  std::string best;
  std::size_t best_d = static_cast<std::size_t>(-1);
  for (const std::string& c : candidates) {
    const std::size_t d = edit_distance(name, c);
    if (d < best_d) {
      best_d = d;
      best = c;
    }
  }
  return best;
}

// Segments a wrapper prefix may consist of: the dict keys people save a model under,
// DataParallel's module and the robustness library's AttackerModel.model.
bool is_wrapper_prefix(const std::string& prefix) {
  static const std::set<std::string> known{"model", "state_dict", "net", "model_state_dict",
                                           "module"};
  std::size_t start = 0;
  while (start < prefix.size()) {
    const std::size_t dot = prefix.find('.', start);
    if (dot == std::string::npos) return false;
    if (known.count(prefix.substr(start, dot - start)) == 0) return false;
    start = dot + 1;
  }
  return true;
}

bool has(const Shapes& s, const std::string& name) {
  return s.count(name) != 0;
}

std::int64_t dim(const Shapes& s, const std::string& name, std::size_t i) {
  const auto it = s.find(name);
  if (it == s.end() || it->second.size() <= i) return 0;
  return it->second[i];
}

// Blocks per stage: the distinct j of "<stage>.<j>.conv1.weight".
std::int64_t count_blocks(const Shapes& s, const std::string& stage) {
  std::int64_t n = 0;
  while (has(s, stage + "." + std::to_string(n) + ".conv1.weight")) ++n;
  return n;
}

std::string blocks_str(const Shapes& s, const std::string& prefix, int stages) {
  std::ostringstream o;
  o << "[";
  for (int i = 1; i <= stages; ++i) {
    o << (i > 1 ? "," : "") << count_blocks(s, prefix + std::to_string(i));
  }
  o << "]";
  return o.str();
}

bool wide_resnet(const std::string& a) {
  return starts_with(a, "wide_resnet");
}
bool imagenet_resnet(const std::string& a) {
  return starts_with(a, "imagenet_");
}

// The architecture the keys describe, or "" with the reason in `why`.
std::string recognise(const Shapes& s, std::string& why) {
  const bool fc = has(s, "fc.weight"), linear = has(s, "linear.weight");
  if (fc && has(s, "block1.layer.0.bn1.weight")) {
    const std::int64_t n = count_blocks(s, "block1.layer");
    why = "RobustBench WideResNet keys (block1.layer.0.bn1, fc), " + std::to_string(n) +
          " blocks a group";
    if (n == 4) return "wide_resnet28_10";
    if (n == 5) return "wide_resnet34_10";
    why += ": depth " + std::to_string(6 * n + 4) + ", robustprior has WRN-28 and WRN-34";
    return "";
  }
  if (fc && dim(s, "conv1.weight", 2) == 7) {
    const std::string blocks = blocks_str(s, "layer", 4);
    const bool bottleneck = has(s, "layer1.0.conv3.weight");
    why = std::string("torchvision ResNet keys (7x7 conv1, fc), ") +
          (bottleneck ? "Bottleneck" : "BasicBlock") + " blocks " + blocks;
    if (bottleneck && blocks == "[3,4,6,3]") return "imagenet_resnet50";
    if (!bottleneck && blocks == "[2,2,2,2]") return "imagenet_resnet18";
    why +=
        ": robustprior has ResNet-18 (BasicBlock [2,2,2,2]) and ResNet-50 (Bottleneck "
        "[3,4,6,3])";
    return "";
  }
  if (linear && has(s, "bn.weight")) {
    const std::string blocks = blocks_str(s, "layer", 4);
    why = "fast_adversarial PreActResNet keys (final bn, linear), blocks " + blocks;
    if (blocks == "[2,2,2,2]" && !has(s, "layer1.0.conv3.weight")) return "preact_resnet18";
    why += ": robustprior has PreActResNet-18 (BasicBlock [2,2,2,2])";
    return "";
  }
  if (linear && dim(s, "conv1.weight", 2) == 3) {
    const std::string blocks = blocks_str(s, "layer", 4);
    const bool bottleneck = has(s, "layer1.0.conv3.weight");
    why = std::string("robustness-library CIFAR ResNet keys (3x3 conv1, linear), ") +
          (bottleneck ? "Bottleneck" : "BasicBlock") + " blocks " + blocks;
    if (bottleneck && blocks == "[3,4,6,3]") return "resnet50";
    if (!bottleneck && blocks == "[2,2,2,2]") return "resnet18";
    if (!bottleneck && blocks == "[3,4,6,3]") return "resnet34";
    why += ": robustprior has ResNet-18, ResNet-34 and ResNet-50";
    return "";
  }
  why =
      "no known layout: expected fc with block1.layer.* (WideResNet) or a 7x7 conv1 "
      "(torchvision ResNet), or linear with a final bn (PreActResNet) or a 3x3 conv1 "
      "(CIFAR ResNet)";
  return "";
}

struct Located {
  std::string prefix;  // the network's state dict
  std::string root;    // the AttackerModel's prefix in a robustness-library file, else none
  bool robustness = false;
};

Located locate(const TorchFile& f, const std::string& op) {
  std::vector<std::string> found;
  for (const auto& [name, t] : f.tensors()) {
    if (!ends_with(name, "conv1.weight")) continue;
    const std::string prefix = name.substr(0, name.size() - std::strlen("conv1.weight"));
    if (is_wrapper_prefix(prefix)) found.push_back(prefix);
  }
  if (found.empty()) {
    std::vector<std::string> names;
    for (const auto& [name, t] : f.tensors()) names.push_back(name);
    const std::string near = closest("conv1.weight", names);
    RP_FAIL(op,
            "no network state dict found: no tensor 'conv1.weight' at the top or under "
            "'model', 'state_dict', 'net', 'model_state_dict', DataParallel's 'module' or "
            "the robustness library's 'module.model' ("
                << f.tensors().size() << " tensors"
                << (near.empty() ? std::string() : ", the closest '" + near + "'") << ")");
  }
  if (found.size() > 1) {
    std::ostringstream list;
    for (const std::string& p : found) list << " '" << p << "'";
    RP_FAIL(op, "holds several networks (conv1.weight under" << list.str()
                                                             << "); convert one "
                                                                "state dict at a time");
  }
  Located l;
  l.prefix = found.front();
  if (ends_with(l.prefix, "model.")) {
    const std::string root = l.prefix.substr(0, l.prefix.size() - std::strlen("model."));
    if (f.has(root + "attacker.model.conv1.weight") || f.has(root + "normalizer.new_mean")) {
      l.root = root;
      l.robustness = true;
    }
  }
  return l;
}

// Values as doubles, refused naming the tensor when they cannot be read or are not finite.
std::vector<double> finite_values(const TorchFile& f, const std::string& name,
                                  const std::string& op) {
  const TorchTensor& t = f.tensors().at(name);
  RP_CHECK(t.problem.empty(), op, "tensor '" << name << "' cannot be read: " << t.problem);
  std::vector<double> v;
  try {
    v = f.read_f64(name);
  } catch (const Error& e) {
    RP_FAIL(op, "tensor '" << name << "' cannot be read: " << e.detail());
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    RP_CHECK(
        std::isfinite(v[i]), op,
        "tensor '" << name << "' holds a non-finite value (" << v[i] << " at element " << i << ")");
  }
  return v;
}

void family_normalization(const std::string& arch, std::vector<double>& mean,
                          std::vector<double>& std, std::string& source) {
  if (imagenet_resnet(arch)) {
    mean = kImagenetMean, std = kImagenetStd, source = "ImageNet's (torchvision)";
  } else if (wide_resnet(arch)) {
    mean = {0, 0, 0}, std = {1, 1, 1}, source = "none (RobustBench models take [0,1] inputs)";
  } else if (arch == "preact_resnet18") {
    mean = kCifarMean, std = kFastStd, source = "fast_adversarial's cifar10_mean/std";
  } else {
    mean = kCifarMean, std = kCifarStd, source = "the robustness library's CIFAR-10 constants";
  }
}

std::vector<std::string> numbered_classes(std::int64_t n) {
  std::vector<std::string> names;
  for (std::int64_t i = 0; i < n; ++i) names.push_back("class_" + std::to_string(i));
  return names;
}

}  // namespace

TorchArchitecture infer_torch_architecture(const Shapes& shapes, const std::string& arch) {
  TorchArchitecture a;
  a.arch = arch.empty() ? recognise(shapes, a.why) : arch;
  if (!arch.empty()) a.why = "given";
  if (a.arch.empty()) return a;
  const bool fc_head = wide_resnet(a.arch) || imagenet_resnet(a.arch);
  const std::string head = fc_head ? "fc.weight" : "linear.weight";
  a.num_classes = dim(shapes, head, 0);
  if (wide_resnet(a.arch)) {
    a.width = static_cast<double>(dim(shapes, "block1.layer.0.conv1.weight", 0)) / 160.0;
  } else {
    a.width = static_cast<double>(dim(shapes, "conv1.weight", 0)) / 64.0;
  }
  return a;
}

void parse_normalization(const std::string& text, std::vector<double>& mean,
                         std::vector<double>& std) {
  const char* op = "--normalization";
  if (text == "cifar10") {
    mean = kCifarMean, std = kCifarStd;
    return;
  }
  if (text == "imagenet") {
    mean = kImagenetMean, std = kImagenetStd;
    return;
  }
  if (text == "none") {
    mean = {0, 0, 0}, std = {1, 1, 1};
    return;
  }
  const std::size_t slash = text.find('/');
  RP_CHECK(slash != std::string::npos, op,
           "expected cifar10, imagenet, none or \"m0,m1,m2/s0,s1,s2\", found '" << text << "'");
  auto three = [&](const std::string& part, const char* what) {
    std::vector<double> v;
    std::stringstream in(part);
    std::string item;
    while (std::getline(in, item, ',')) {
      std::size_t used = 0;
      double x = 0;
      try {
        x = std::stod(item, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      RP_CHECK(used == item.size() && !item.empty() && std::isfinite(x), op,
               "the " << what << " '" << part << "' is not three numbers (in '" << text << "')");
      v.push_back(x);
    }
    RP_CHECK(v.size() == 3, op,
             "the " << what << " '" << part << "' is not three numbers (in '" << text << "')");
    return v;
  };
  mean = three(text.substr(0, slash), "mean");
  std = three(text.substr(slash + 1), "std");
  for (double s : std) RP_CHECK(s > 0, op, "std values must be > 0, found " << s);
}

TorchImport import_torch(const TorchFile& f, const TorchImportOptions& opt) {
  const std::string op = "torch checkpoint " + f.path();
  RP_CHECK(opt.image_size >= 0, op, "image size must be > 0, found " << opt.image_size);
  TorchImport imp;
  imp.source = f.path();
  imp.source_format = f.format();
  const Located loc = locate(f, op);
  imp.state_dict_prefix = loc.prefix;
  imp.notes.push_back(
      "state dict: " + (loc.prefix.empty() ? std::string("at the top") : "'" + loc.prefix + "'") +
      (loc.robustness ? " (a robustness-library AttackerModel)" : ""));

  // The state dict under its own names.
  std::map<std::string, std::string> file_name;  // state-dict name -> the file's name
  Shapes shapes;
  for (const auto& [name, t] : f.tensors()) {
    if (!starts_with(name, loc.prefix)) continue;
    const std::string key = name.substr(loc.prefix.size());
    file_name[key] = name;
    shapes[key] = t.shape;
  }

  TorchArchitecture a = infer_torch_architecture(shapes, opt.arch);
  RP_CHECK(!a.arch.empty(), op, "no architecture matches its keys: " << a.why);
  RP_CHECK(a.num_classes > 0 && a.width > 0, op,
           "the keys do not fit a "
               << a.arch << ": no '"
               << (wide_resnet(a.arch) || imagenet_resnet(a.arch) ? "fc" : "linear")
               << ".weight' head or no stem to read the width from");
  imp.notes.push_back("architecture: " + a.arch + " (" + a.why + ")");

  NetworkSpec& spec = imp.info.spec;
  spec.arch = a.arch;
  spec.width = a.width;
  spec.num_classes = a.num_classes;
  spec.dtype = DType::F32;
  const std::int64_t size =
      opt.image_size > 0 ? opt.image_size : (imagenet_resnet(a.arch) ? 224 : 32);
  spec.channels = 3;
  spec.image_h = spec.image_w = size;

  // The names the engine's network has (a CPU build of the spec, its parameters unused).
  std::unique_ptr<Network> net;
  try {
    net = make_network(spec, Device::cpu(), 0);
  } catch (const Error& e) {
    RP_FAIL(op, "its keys describe a " << a.arch << " (width " << a.width << ", " << a.num_classes
                                       << " classes) that cannot be built: " << e.detail());
  }
  const ParameterStore& store = net->parameters();
  std::set<std::string> expected, bns;
  std::vector<std::string> expected_list;
  // The engine keeps the input normalization as buffers named like the robustness library's
  // normalizer; they are set from the normalization chosen below, not from the state dict.
  const auto is_normalizer = [](const std::string& name) {
    return starts_with(name, "normalizer.");
  };
  for (const ParamEntry& e : store.entries()) {
    if (is_normalizer(e.name)) continue;
    expected.insert(e.name);
    expected_list.push_back(e.name);
    if (ends_with(e.name, kRunningMean)) {
      bns.insert(e.name.substr(0, e.name.size() - std::strlen(kRunningMean)));
    }
  }
  std::vector<std::string> missing, unexpected;
  for (const std::string& name : expected_list) {
    if (!shapes.count(name)) missing.push_back(name);
  }
  for (const auto& [key, shape] : shapes) {
    const bool tracked =
        ends_with(key, kTracked) && bns.count(key.substr(0, key.size() - std::strlen(kTracked)));
    if (!expected.count(key) && !tracked) unexpected.push_back(key);
  }
  if (!missing.empty() || !unexpected.empty()) {
    // A renamed key shows as one missing and one unexpected: each is matched first against the
    // other side's unmatched names.
    std::vector<std::string> keys;
    for (const auto& [key, shape] : shapes) keys.push_back(key);
    const std::vector<std::string>& file_pool = unexpected.empty() ? keys : unexpected;
    const std::vector<std::string>& net_pool = missing.empty() ? expected_list : missing;
    std::ostringstream m;
    m << "its state dict ('" << loc.prefix << "') does not fit a " << a.arch << " (width "
      << a.width << ", " << a.num_classes << " classes):";
    const std::size_t show = 3;
    for (std::size_t i = 0; i < missing.size() && i < show; ++i) {
      m << " lacks '" << missing[i] << "' (closest in the file: '" << closest(missing[i], file_pool)
        << "');";
    }
    if (missing.size() > show) m << " and " << missing.size() - show << " more missing;";
    for (std::size_t i = 0; i < unexpected.size() && i < show; ++i) {
      m << " holds '" << unexpected[i] << "', which a " << a.arch
        << " does not have (closest expected: '" << closest(unexpected[i], net_pool) << "');";
    }
    if (unexpected.size() > show) m << " and " << unexpected.size() - show << " more unexpected;";
    m << (opt.arch.empty() ? " (--arch forces an architecture)" : "");
    RP_FAIL(op, m.str());
  }

  // Shapes, dtypes and values.
  for (const ParamEntry& e : store.entries()) {
    if (is_normalizer(e.name)) continue;
    const std::string& name = file_name.at(e.name);
    const TorchTensor& t = f.tensors().at(name);
    const std::vector<std::int64_t> want(e.shape.begin(), e.shape.end());
    RP_CHECK(t.shape == want, op,
             "tensor '" << name << "': expected shape " << shape_str(want) << " for a " << a.arch
                        << ", found " << shape_str(t.shape));
    RP_CHECK(t.dtype == "F32" || t.dtype == "F64" || t.dtype == "F16" || t.dtype == "BF16", op,
             "tensor '" << name << "' is " << t.dtype << "; expected a floating-point tensor");
    const std::vector<double> v = finite_values(f, name, op);
    TorchImportTensor& out = imp.tensors[e.name];
    out.shape = want;
    out.values.resize(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
      out.values[i] = static_cast<float>(v[i]);
      RP_CHECK(std::isfinite(out.values[i]), op,
               "tensor '" << name << "': " << v[i] << " at element " << i
                          << " overflows the network's f32");
    }
  }
  for (const std::string& bn : bns) {
    const auto it = file_name.find(bn + kTracked);
    if (it == file_name.end()) continue;  // files of torch < 0.4.1 have none
    const std::vector<double> v = finite_values(f, it->second, op);
    RP_CHECK(v.size() == 1 && v[0] >= 0 && v[0] == std::floor(v[0]), op,
             "tensor '" << it->second << "' must be one count >= 0");
    imp.batches_tracked[bn] = static_cast<std::int64_t>(v[0]);
  }

  // The robustness library's duplicate of the network: equal, or the file is inconsistent.
  if (loc.robustness) {
    const std::string copy = loc.root + "attacker.model.";
    for (const auto& [name, t] : f.tensors()) {
      if (!starts_with(name, copy)) continue;
      const std::string key = name.substr(copy.size());
      RP_CHECK(file_name.count(key), op,
               "tensor '" << name << "' of the attacker's copy has no counterpart '"
                          << loc.prefix + key << "' in the network");
      const std::vector<double> mine = finite_values(f, file_name.at(key), op);
      const std::vector<double> theirs = finite_values(f, name, op);
      double worst = mine.size() == theirs.size() ? 0.0 : std::numeric_limits<double>::infinity();
      for (std::size_t i = 0; i < mine.size() && i < theirs.size(); ++i) {
        worst = std::max(worst, std::fabs(mine[i] - theirs[i]));
      }
      RP_CHECK(worst == 0.0, op,
               "tensor '" << name << "' differs from '" << file_name.at(key)
                          << "' (largest difference " << worst
                          << "): the attacker's copy of the network must equal the network");
    }
  }

  // Normalization: asked for, the file's normalizer, or the family's constants.
  std::string norm_source;
  std::vector<double> file_mean, file_std;
  if (loc.robustness && f.has(loc.root + "normalizer.new_mean")) {
    for (const char* which : {"new_mean", "new_std"}) {
      const std::string name = loc.root + "normalizer." + which;
      RP_CHECK(f.has(name), op, "has a normalizer without '" << name << "'");
      const std::vector<std::int64_t>& s = f.tensors().at(name).shape;
      RP_CHECK(s == (std::vector<std::int64_t>{3, 1, 1}), op,
               "tensor '" << name << "': expected shape (3, 1, 1), found " << shape_str(s));
      std::vector<double> v = finite_values(f, name, op);
      (std::string(which) == "new_mean" ? file_mean : file_std) = std::move(v);
    }
    for (double s : file_std) {
      RP_CHECK(
          s > 0, op,
          "tensor '" << loc.root << "normalizer.new_std' holds " << s << "; a std must be > 0");
    }
  }
  if (!opt.normalization.empty()) {
    parse_normalization(opt.normalization, spec.mean, spec.std);
    norm_source = "given (" + opt.normalization + ")";
  } else if (!file_mean.empty()) {
    spec.mean = file_mean, spec.std = file_std;
    norm_source = "the file's normalizer (" + loc.root + "normalizer.new_mean/new_std)";
  } else {
    family_normalization(a.arch, spec.mean, spec.std, norm_source);
  }
  imp.notes.push_back("normalization: " + norm_source);
  for (const ParamEntry& e : store.entries()) {
    if (!is_normalizer(e.name)) continue;
    const std::vector<double>& v = e.name == "normalizer.new_mean" ? spec.mean : spec.std;
    RP_CHECK(static_cast<std::int64_t>(v.size()) == e.shape.numel(), op,
             "the normalization has " << v.size() << " values for " << e.name << " " << e.shape);
    TorchImportTensor& out = imp.tensors[e.name];
    out.shape.assign(e.shape.begin(), e.shape.end());
    out.values.assign(v.begin(), v.end());
  }

  // Dataset and class names.
  std::string dataset = opt.dataset;
  if (dataset.empty()) {
    dataset = a.num_classes == 10     ? "cifar10"
              : a.num_classes == 9    ? "restricted_imagenet"
              : a.num_classes == 1000 ? "imagenet"
                                      : "unknown";
    imp.notes.push_back("dataset: " + dataset + " (by its " + std::to_string(a.num_classes) +
                        " classes)");
  } else {
    imp.notes.push_back("dataset: " + dataset + " (given)");
  }
  imp.info.dataset = dataset;
  if (dataset == "cifar10" || dataset == "restricted_imagenet") {
    const auto& names = dataset == "cifar10" ? kCifar10Classes : kRestrictedClasses;
    RP_CHECK(static_cast<std::int64_t>(names.size()) == a.num_classes, op,
             "dataset " << dataset << " has " << names.size() << " classes but the model has "
                        << a.num_classes);
    imp.info.class_names = names;
  } else {
    imp.info.class_names = numbered_classes(a.num_classes);
  }

  // The epoch, where the file records one (the robustness library: 'epoch' beside 'model').
  const nlohmann::json& scalars = f.scalars();
  if (scalars.contains("epoch") && scalars.at("epoch").is_number_integer()) {
    imp.info.epoch = scalars.at("epoch").get<std::int64_t>();
    imp.notes.push_back("epoch: " + std::to_string(imp.info.epoch));
  }
  imp.info.config = nlohmann::json::object();
  return imp;
}

bool is_torch_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char b[9] = {};
  in.read(reinterpret_cast<char*>(b), sizeof b);
  const std::streamsize n = in.gcount();
  if (n >= 4 && b[0] == 'P' && b[1] == 'K' && b[2] == 3 && b[3] == 4) return true;
  // A safetensors file starts with its header's length (8 bytes) and then '{'.
  return n >= 2 && b[0] == 0x80 && b[1] >= 2 && b[1] <= 5 && !(n == 9 && b[8] == '{');
}

}  // namespace rp
