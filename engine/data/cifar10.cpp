#include "engine/data/cifar10.h"

#include <fstream>
#include <sstream>
#include <vector>

#include "engine/core/error.h"

namespace rp {
namespace {

constexpr std::int64_t kImageBytes = 3 * 32 * 32;
constexpr std::int64_t kRecordBytes = 1 + kImageBytes;
constexpr const char* kLayout =
    "expected CIFAR-10's binary layout: data_batch_1.bin .. data_batch_5.bin, test_batch.bin, "
    "batches.meta.txt";

std::string path_in(const std::string& dir, const std::string& file) {
  return dir.empty() || dir.back() == '/' ? dir + file : dir + "/" + file;
}

std::vector<std::string> read_classes(const std::string& dir) {
  const std::string path = path_in(dir, "batches.meta.txt");
  std::ifstream in(path);
  RP_CHECK(in.good(), "cifar10", "cannot open " << path << " (" << kLayout << ")");
  std::vector<std::string> classes;
  for (std::string line; std::getline(in, line);) {
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (!line.empty()) classes.push_back(line);
  }
  RP_CHECK(classes.size() == 10, "cifar10",
           path << " lists " << classes.size() << " classes; CIFAR-10 has 10");
  return classes;
}

// expected_records 0: take this file's count and make it the expectation of the next files.
void append_batch(const std::string& path, std::int64_t& expected_records, Dataset& d) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  RP_CHECK(in.good(), "cifar10", "cannot open " << path << " (" << kLayout << ")");
  const auto bytes = static_cast<std::int64_t>(in.tellg());
  RP_CHECK(bytes > 0 && bytes % kRecordBytes == 0, "cifar10",
           path << " is truncated or not CIFAR-10 binary: " << bytes
                << " bytes is not a whole number of " << kRecordBytes << "-byte records");
  if (expected_records == 0) expected_records = bytes / kRecordBytes;
  RP_CHECK(bytes / kRecordBytes == expected_records, "cifar10",
           path << " holds " << bytes / kRecordBytes << " records, expected " << expected_records
                << " like the other files (truncated?)");
  in.seekg(0);
  std::vector<char> buf(static_cast<std::size_t>(bytes));
  in.read(buf.data(), bytes);
  RP_CHECK(in.good(), "cifar10", "read error in " << path);
  const std::int64_t records = bytes / kRecordBytes;
  for (std::int64_t r = 0; r < records; ++r) {
    const auto* rec = reinterpret_cast<const std::uint8_t*>(buf.data() + r * kRecordBytes);
    RP_CHECK(rec[0] < d.classes.size(), "cifar10",
             "label " << int(rec[0]) << " in record " << r << " of " << path << " is outside the "
                      << d.classes.size() << " classes");
    d.labels.push_back(rec[0]);
    d.images.insert(d.images.end(), rec + 1, rec + kRecordBytes);
  }
}

Dataset empty_split(const std::string& dir, const std::vector<std::string>& classes) {
  Dataset d;
  d.name = "cifar10";
  d.source = dir;
  d.classes = classes;
  return d;
}

}  // namespace

DatasetSplits load_cifar10(const std::string& dir, const Cifar10Options& opt) {
  const std::vector<std::string> classes = read_classes(dir);
  DatasetSplits s{empty_split(dir, classes), empty_split(dir, classes)};
  RP_CHECK(opt.records_per_file >= 0, "cifar10",
           "records per file must be >= 0, found " << opt.records_per_file);
  std::int64_t records = opt.records_per_file;
  for (int b = 1; opt.train && b <= 5; ++b) {
    append_batch(path_in(dir, "data_batch_" + std::to_string(b) + ".bin"), records, s.train);
  }
  append_batch(path_in(dir, "test_batch.bin"), records, s.test);
  if (opt.train) s.train.validate();
  s.test.validate();
  return s;
}

}  // namespace rp
