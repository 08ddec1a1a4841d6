// ImageNet and RestrictedImageNet in torchvision's ImageFolder layout, as the robustness
// library reads them: DIR/train/<wnid>/*.JPEG and DIR/val/<wnid>/*.JPEG. Classes are the sorted
// wnid folders of DIR/train (DIR/val when there is no train/); files are taken by extension
// (.jpeg, .jpg, .png, any case) and decoded by their signature (image_io.h), any size.
//
// The evaluation split is decoded here, Resize(256) + CenterCrop(224) (image_transforms.h),
// into the uint8 (N, 3, 224, 224) array of a Dataset. The training split is far too large for
// that: it stays an ImageFileList (dataset.h), decoded and augmented batch by batch
// (file_loader.h).
//
// RestrictedImageNet (robustness/datasets.py, constants.RESTRICTED_IMAGNET_RANGES): the
// ImageNet classes whose positions in the sorted wnid list fall in the inclusive ranges
// kRestrictedImagenetRanges become labels 0..8 (dog, cat, frog, turtle, bird, primate, fish,
// crab, insect); images of the other classes are left out. It needs all 1000 class folders.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "engine/data/dataset.h"

namespace rp {

inline constexpr std::array<std::pair<int, int>, 9> kRestrictedImagenetRanges = {{{151, 268},
                                                                                  {281, 285},
                                                                                  {30, 32},
                                                                                  {33, 37},
                                                                                  {80, 100},
                                                                                  {365, 382},
                                                                                  {389, 397},
                                                                                  {118, 121},
                                                                                  {300, 319}}};
inline const std::array<const char*, 9> kRestrictedImagenetClasses = {
    "dog", "cat", "frog", "turtle", "bird", "primate", "fish", "crab", "insect"};

// root/<class>/<image files>, classes sorted, files sorted within a class; throws naming the
// folder when it has no class folders or no image files at all (an empty class folder is
// allowed: it keeps its place, and so the positions of the classes after it).
ImageFileList list_image_files(const std::string& root, const std::string& name);

// The RestrictedImageNet label of ImageNet class `index` (its position among the 1000 sorted
// wnids), or -1 when the class is left out.
int restricted_imagenet_label(int index);
// Keeps the images of the restricted classes, relabelled; refuses a list whose classes are
// not 1000 (the message gives the count found).
ImageFileList restrict_imagenet(const ImageFileList& all);

// At most n images (all when n <= 0 or n >= size), class-balanced: round-robin over the
// classes in label order, each class's files in sorted order, until n are taken; returned in
// the list's order (by class, then file).
ImageFileList balanced_subset(const ImageFileList& list, std::int64_t n);

// Every image decoded and transformed by eval_transform(resize, crop) into a Dataset of
// (size, 3, crop, crop), on all OpenMP threads; a file that cannot be read stops it with the
// error of the first such file in list order.
Dataset decode_eval_split(const ImageFileList& list, std::int64_t resize = 256,
                          std::int64_t crop = 224);

struct ImagenetRequest {
  bool restricted = false;
  bool train = true;          // list the training split (else only its class names are read)
  bool decode_train = false;  // decode it like the evaluation split instead of listing it
  std::int64_t train_subset = 0, test_subset = 0;  // 0: all; class-balanced (balanced_subset)
};

// test: DIR/val decoded. train: DIR/train decoded when decode_train; else its name, classes
// and image shape (3, 224, 224) only, with its files in train_files.
DatasetSplits load_imagenet(const std::string& dir, const ImagenetRequest& r);

}  // namespace rp
