#include "engine/data/load.h"

#include "engine/core/error.h"
#include "engine/data/cifar10.h"
#include "engine/data/image_folder.h"
#include "engine/data/imagenet.h"
#include "engine/data/synthetic.h"

namespace rp {

bool is_imagenet_kind(const std::string& kind) {
  return kind == "imagenet" || kind == "restricted_imagenet";
}

bool is_dataset_kind(const std::string& kind) {
  return kind == "cifar10" || kind == "synthetic" || kind == "folder" || is_imagenet_kind(kind);
}

DatasetSplits load_dataset(const DatasetRequest& r) {
  DatasetSplits s;
  if (is_imagenet_kind(r.kind)) {
    RP_CHECK(!r.dir.empty(), "dataset",
             r.kind << " needs --data DIR (with val/<wnid>/ and train/<wnid>/)");
    ImagenetRequest ir;
    ir.restricted = r.kind == "restricted_imagenet";
    ir.train = r.train;
    ir.decode_train = r.decode_train;
    ir.train_subset = r.train_subset;
    ir.test_subset = r.test_subset;
    return load_imagenet(r.dir, ir);  // the subsets are taken class-balanced there
  }
  if (r.kind == "cifar10") {
    RP_CHECK(!r.dir.empty(), "dataset", "cifar10 needs --data DIR (the binary batches)");
    Cifar10Options opt;
    opt.records_per_file = 0;  // the official 10,000, or an evenly cut subset of them
    opt.train = r.train;
    s = load_cifar10(r.dir, opt);
  } else if (r.kind == "folder") {
    RP_CHECK(!r.dir.empty(), "dataset", "folder needs --data DIR (with train/ and test/)");
    s = r.train ? load_image_folder_splits(r.dir) : load_image_folder_splits(r.dir, false);
  } else if (r.kind == "synthetic") {
    SyntheticOptions opt;
    opt.train = r.train ? r.synthetic_train : 1;  // one image stands for a split not wanted
    opt.test = r.synthetic_test;
    opt.seed = r.synthetic_seed;
    opt.kind = r.synthetic_kind;
    opt.colours = r.synthetic_colours;
    s = make_synthetic(opt);
  } else {
    RP_FAIL("dataset", "unknown dataset '" << r.kind << "' (" << kDatasetKinds << ")");
  }
  s.train = take(s.train, r.train_subset);
  s.test = take(s.test, r.test_subset);
  return s;
}

ChannelStats normalization_for(const Dataset& train) {
  if (train.name == "cifar10") {
    return ChannelStats{{0.4914, 0.4822, 0.4465}, {0.2023, 0.1994, 0.2010}};
  }
  if (is_imagenet_kind(train.name)) {
    return ChannelStats{{0.485, 0.456, 0.406}, {0.229, 0.224, 0.225}};
  }
  return channel_stats(train);
}

}  // namespace rp
