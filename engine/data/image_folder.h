// ImageFolder datasets, torchvision's layout: root/<class>/*.png, class names sorted, all
// images of one size (else an error naming the file and both sizes). For training,
// dir/train/ and dir/test/ (or dir/val/) are two such roots with the same classes.
#pragma once

#include <string>

#include "engine/data/dataset.h"

namespace rp {

Dataset load_image_folder(const std::string& root);
// train = false reads the test split only.
DatasetSplits load_image_folder_splits(const std::string& dir, bool train = true);

}  // namespace rp
