#include "engine/data/imagenet.h"

#include <algorithm>
#include <cctype>
#include <exception>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "engine/core/error.h"
#include "engine/data/image_io.h"
#include "engine/data/image_transforms.h"

namespace rp {
namespace {

namespace fs = std::filesystem;

bool is_image_file(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".jpeg" || ext == ".jpg" || ext == ".png";
}

// Class names go into checkpoint metadata, which is JSON: they must be valid UTF-8.
bool is_utf8(const std::string& s) {
  try {
    (void)nlohmann::json(s).dump();
    return true;
  } catch (const nlohmann::json::exception&) {
    return false;
  }
}

std::vector<std::string> class_folders(const std::string& root) {
  RP_CHECK(fs::is_directory(root), "imagenet",
           root << " is not a directory (expected root/<wnid>/*.JPEG)");
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  RP_CHECK(!names.empty(), "imagenet",
           root << " has no class folders (expected root/<wnid>/*.JPEG)");
  for (const std::string& n : names) {
    RP_CHECK(is_utf8(n), "imagenet",
             "class folder " << (fs::path(root) / n).string()
                             << " has a name that is not UTF-8; rename it");
  }
  return names;
}

std::string list_difference(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::string out;
  int shown = 0;
  for (const std::string& c : a) {
    if (std::binary_search(b.begin(), b.end(), c) || ++shown > 5) continue;
    out += " " + c;
  }
  if (shown > 5) out += " (and " + std::to_string(shown - 5) + " more)";
  return out.empty() ? " -" : out;
}

}  // namespace

ImageFileList list_image_files(const std::string& root, const std::string& name) {
  ImageFileList list;
  list.name = name;
  list.source = root;
  list.classes = class_folders(root);
  for (std::size_t c = 0; c < list.classes.size(); ++c) {
    const fs::path dir = fs::path(root) / list.classes[c];
    std::vector<std::string> files;
    for (const auto& entry : fs::directory_iterator(dir)) {
      if (entry.is_regular_file() && is_image_file(entry.path())) {
        files.push_back(entry.path().string());
      }
    }
    std::sort(files.begin(), files.end());
    for (std::string& f : files) {
      list.paths.push_back(std::move(f));
      list.labels.push_back(static_cast<std::int32_t>(c));
    }
  }
  RP_CHECK(list.size() > 0, "imagenet",
           root << " holds no image files (.JPEG, .jpg or .png) in its class folders");
  return list;
}

int restricted_imagenet_label(int index) {
  for (std::size_t k = 0; k < kRestrictedImagenetRanges.size(); ++k) {
    if (index >= kRestrictedImagenetRanges[k].first &&
        index <= kRestrictedImagenetRanges[k].second) {
      return static_cast<int>(k);
    }
  }
  return -1;
}

ImageFileList restrict_imagenet(const ImageFileList& all) {
  RP_CHECK(all.classes.size() == 1000, "restricted_imagenet",
           all.source << " has " << all.classes.size()
                      << " class folders; RestrictedImageNet picks its classes by their "
                         "positions among ImageNet's 1000 sorted wnids, so all 1000 are needed");
  ImageFileList out;
  out.name = "restricted_imagenet";
  out.source = all.source;
  out.classes.assign(kRestrictedImagenetClasses.begin(), kRestrictedImagenetClasses.end());
  for (std::int64_t i = 0; i < all.size(); ++i) {
    const int label = restricted_imagenet_label(all.labels[static_cast<std::size_t>(i)]);
    if (label < 0) continue;
    out.paths.push_back(all.paths[static_cast<std::size_t>(i)]);
    out.labels.push_back(label);
  }
  RP_CHECK(out.size() > 0, "restricted_imagenet",
           all.source << " holds no images of the RestrictedImageNet classes");
  return out;
}

ImageFileList balanced_subset(const ImageFileList& list, std::int64_t n) {
  if (n <= 0 || n >= list.size()) return list;
  // Each class's images in list order, then rounds over the classes.
  std::vector<std::vector<std::size_t>> by_class(list.classes.size());
  for (std::size_t i = 0; i < list.paths.size(); ++i) {
    by_class[static_cast<std::size_t>(list.labels[i])].push_back(i);
  }
  std::vector<std::size_t> picked;
  for (std::size_t round = 0; static_cast<std::int64_t>(picked.size()) < n; ++round) {
    for (const auto& members : by_class) {
      if (round < members.size() && static_cast<std::int64_t>(picked.size()) < n) {
        picked.push_back(members[round]);
      }
    }
  }
  std::sort(picked.begin(), picked.end());
  ImageFileList out;
  out.name = list.name;
  out.source = list.source;
  out.classes = list.classes;
  for (const std::size_t i : picked) {
    out.paths.push_back(list.paths[i]);
    out.labels.push_back(list.labels[i]);
  }
  return out;
}

Dataset decode_eval_split(const ImageFileList& list, std::int64_t resize, std::int64_t crop) {
  RP_CHECK(resize >= crop && crop >= 1, "imagenet",
           "Resize(" << resize << ") cannot be followed by CenterCrop(" << crop << ")");
  Dataset d;
  d.name = list.name;
  d.source = list.source;
  d.classes = list.classes;
  d.channels = 3;
  d.height = d.width = crop;
  d.labels = list.labels;
  const std::int64_t n = list.size(), bytes = d.image_elements();
  d.images.resize(static_cast<std::size_t>(n * bytes));
  std::vector<std::exception_ptr> errors(static_cast<std::size_t>(n));
#pragma omp parallel for schedule(dynamic, 4)
  for (std::int64_t i = 0; i < n; ++i) {
    try {
      const Image img =
          eval_transform(load_image(list.paths[static_cast<std::size_t>(i)]), resize, crop);
      to_planar(img, d.images.data() + i * bytes);
    } catch (...) {
      errors[static_cast<std::size_t>(i)] = std::current_exception();
    }
  }
  for (const std::exception_ptr& e : errors) {
    if (e) std::rethrow_exception(e);
  }
  d.validate();
  return d;
}

DatasetSplits load_imagenet(const std::string& dir, const ImagenetRequest& r) {
  const fs::path base(dir);
  const fs::path train = base / "train", val = base / "val";
  const std::string name = r.restricted ? "restricted_imagenet" : "imagenet";
  RP_CHECK(fs::is_directory(val) && (fs::is_directory(train) || !r.train), name,
           dir << " needs val/" << (r.train ? " and train/" : "")
               << " in torchvision's ImageFolder layout (val/<wnid>/*.JPEG, "
                  "train/<wnid>/*.JPEG)");
  // The classes are train/'s folders when there is a train/, as the robustness library reads
  // them; val/ must have the same.
  const std::vector<std::string> val_classes = class_folders(val.string());
  if (fs::is_directory(train)) {
    const std::vector<std::string> train_classes = class_folders(train.string());
    RP_CHECK(train_classes == val_classes, name,
             train.string() << " and " << val.string()
                            << " have different class folders: only in train:"
                            << list_difference(train_classes, val_classes)
                            << "; only in val:" << list_difference(val_classes, train_classes));
  }
  auto prepare = [&](const fs::path& root, std::int64_t subset) {
    ImageFileList all = list_image_files(root.string(), "imagenet");
    if (r.restricted) all = restrict_imagenet(all);
    return balanced_subset(all, subset);
  };
  DatasetSplits s;
  s.test = decode_eval_split(prepare(val, r.test_subset));
  if (!r.train) {
    s.train.name = s.test.name;
    s.train.classes = s.test.classes;
    return s;
  }
  if (r.decode_train) {
    s.train = decode_eval_split(prepare(train, r.train_subset));
    return s;
  }
  s.train_files = prepare(train, r.train_subset);
  s.train.name = s.train_files.name;
  s.train.source = s.train_files.source;
  s.train.classes = s.train_files.classes;
  s.train.channels = 3;
  s.train.height = s.train.width = 224;
  return s;
}

}  // namespace rp
