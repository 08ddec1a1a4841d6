// libFuzzer harness: the zip reader on raw bytes, then TorchFile::parse of the same archive.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/core/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "weights/torch_file.h"
#include "weights/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const rp::ZipReader zip = rp::ZipReader::index(data, size, "fuzz.zip");
    for (const auto& [name, entry] : zip.entries()) {
      // Every entry lies inside the input: touch its first and last byte.
      if (entry.size > 0) {
        volatile std::uint8_t first = data[entry.offset];
        volatile std::uint8_t last = data[entry.offset + entry.size - 1];
        (void)first;
        (void)last;
      }
      (void)name;
    }
  } catch (const rp::Error&) {
  }
  try {
    const rp::TorchFile file =
        rp::TorchFile::parse(std::vector<std::uint8_t>(data, data + size), "fuzz.pt");
    rp::fuzz::exercise(file);
  } catch (const rp::Error&) {
  }
  return 0;
}
