// CIFAR-10 in the official binary layout: data_batch_1.bin .. data_batch_5.bin (training),
// test_batch.bin (test), batches.meta.txt (the 10 class names, one per line). Each record is
// 3,073 bytes: a label byte (0-9), then 1,024 red, 1,024 green and 1,024 blue bytes, each
// plane row-major 32x32 - exactly the (C, H, W) layout the engine uses.
//
// A missing or truncated file, a label outside the class list or a class list that is not 10
// names is refused with a message naming the file and the record.
#pragma once

#include <string>

#include "engine/data/dataset.h"

namespace rp {

struct Cifar10Options {
  // Every official file holds 10,000 records. 0: as many as the first file read holds, the
  // same in every file - a subset cut evenly from each file (a file cut at a record boundary
  // on its own is still refused as truncated).
  std::int64_t records_per_file = 10000;
  bool train = true;  // false: the test split only (evaluation)
};

DatasetSplits load_cifar10(const std::string& dir, const Cifar10Options& opt = {});

}  // namespace rp
