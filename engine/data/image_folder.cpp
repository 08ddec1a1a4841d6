#include "engine/data/image_folder.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <vector>

#include "engine/core/error.h"
#include "engine/data/image_io.h"

namespace rp {
namespace {

namespace fs = std::filesystem;

bool is_png(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return ext == ".png";
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

std::vector<fs::path> sorted(std::vector<fs::path> v) {
  std::sort(v.begin(), v.end());
  return v;
}

}  // namespace

Dataset load_image_folder(const std::string& root) {
  const char* op = "image_folder";
  RP_CHECK(fs::is_directory(root), op, root << " is not a directory (expected root/<class>/*.png)");
  std::vector<fs::path> class_dirs;
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.is_directory()) class_dirs.push_back(entry.path());
  }
  class_dirs = sorted(class_dirs);
  RP_CHECK(!class_dirs.empty(), op, root << " has no class folders (expected root/<class>/*.png)");
  Dataset d;
  d.name = "folder";
  d.source = root;
  std::string first_file;
  for (std::size_t c = 0; c < class_dirs.size(); ++c) {
    const std::string name = class_dirs[c].filename().string();
    RP_CHECK(
        is_utf8(name), op,
        "class folder " << class_dirs[c].string() << " has a name that is not UTF-8; rename it");
    d.classes.push_back(name);
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(class_dirs[c])) {
      if (entry.is_regular_file() && is_png(entry.path())) files.push_back(entry.path());
    }
    RP_CHECK(!files.empty(), op, class_dirs[c].string() << " holds no .png images");
    for (const fs::path& f : sorted(files)) {
      const Image img = load_png(f.string(), 3);
      // A folder dataset is one of colour images of one size, like CIFAR-10's: a gray one
      // among them is a mistake in the data, not something to convert silently.
      RP_CHECK(!img.grayscale, op,
               f.string() << " is a grayscale PNG; a folder dataset takes RGB images of one size "
                             "(convert it, e.g. with ImageMagick: convert IN -type TrueColor "
                             "PNG24:OUT)");
      if (first_file.empty()) {
        first_file = f.string();
        d.height = img.height;
        d.width = img.width;
      }
      RP_CHECK(img.height == d.height && img.width == d.width, op,
               f.string() << " is " << img.width << "x" << img.height << " but " << first_file
                          << " is " << d.width << "x" << d.height
                          << "; all images must be one size");
      // Interleaved (H, W, 3) to planar (3, H, W).
      const std::int64_t plane = d.height * d.width;
      const std::size_t base = d.images.size();
      d.images.resize(base + static_cast<std::size_t>(3 * plane));
      for (std::int64_t p = 0; p < plane; ++p) {
        for (std::int64_t ch = 0; ch < 3; ++ch) {
          d.images[base + static_cast<std::size_t>(ch * plane + p)] =
              img.pixels[static_cast<std::size_t>(p * 3 + ch)];
        }
      }
      d.labels.push_back(static_cast<std::int32_t>(c));
    }
  }
  d.validate();
  return d;
}

DatasetSplits load_image_folder_splits(const std::string& dir, bool train_split) {
  const fs::path base(dir);
  const fs::path train = base / "train";
  const fs::path test = fs::is_directory(base / "test") ? base / "test" : base / "val";
  RP_CHECK((fs::is_directory(train) || !train_split) && fs::is_directory(test), "image_folder",
           dir << " needs train/ and test/ (or val/) folders, each root/<class>/*.png");
  if (!train_split) {
    DatasetSplits s;
    s.test = load_image_folder(test.string());
    s.train.name = s.test.name;
    s.train.classes = s.test.classes;
    return s;
  }
  DatasetSplits s{load_image_folder(train.string()), load_image_folder(test.string())};
  if (s.train.classes != s.test.classes) {
    std::string only_train, only_test;
    for (const std::string& c : s.train.classes) {
      if (std::find(s.test.classes.begin(), s.test.classes.end(), c) == s.test.classes.end()) {
        only_train += " " + c;
      }
    }
    for (const std::string& c : s.test.classes) {
      if (std::find(s.train.classes.begin(), s.train.classes.end(), c) == s.train.classes.end()) {
        only_test += " " + c;
      }
    }
    RP_FAIL("image_folder", train.string()
                                << " and " << test.string()
                                << " have different class folders: only in train:"
                                << (only_train.empty() ? " -" : only_train)
                                << "; only in test:" << (only_test.empty() ? " -" : only_test));
  }
  RP_CHECK(s.train.height == s.test.height && s.train.width == s.test.width, "image_folder",
           "train images are " << s.train.width << "x" << s.train.height << ", test images "
                               << s.test.width << "x" << s.test.height);
  return s;
}

}  // namespace rp
