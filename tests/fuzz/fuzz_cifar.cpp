// libFuzzer harness: the CIFAR-10 reader on a test split built from the input - its first byte
// says how many bytes of class list (batches.meta.txt) follow, the rest is test_batch.bin -
// read from a scratch directory, as `--dataset cifar10 --data DIR` reads it.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "engine/core/error.h"
#include "engine/data/cifar10.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::string dir = [] {
    const std::string d =
        (std::filesystem::temp_directory_path() / ("rp-fuzz-cifar-" + std::to_string(getpid())))
            .string();
    std::filesystem::create_directories(d);
    return d;
  }();
  if (size == 0) return 0;
  const std::size_t meta = std::min<std::size_t>(data[0], size - 1);
  std::ofstream(dir + "/batches.meta.txt", std::ios::binary)
      .write(reinterpret_cast<const char*>(data + 1), static_cast<std::streamsize>(meta));
  std::ofstream(dir + "/test_batch.bin", std::ios::binary)
      .write(reinterpret_cast<const char*>(data + 1 + meta),
             static_cast<std::streamsize>(size - 1 - meta));
  for (const std::int64_t records : {std::int64_t{0}, std::int64_t{2}}) {
    try {
      rp::Cifar10Options opt;
      opt.train = false;
      opt.records_per_file = records;
      (void)rp::load_cifar10(dir, opt);
    } catch (const rp::Error&) {
    }
  }
  return 0;
}
