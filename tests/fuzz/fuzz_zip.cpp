// libFuzzer harness: the zip reader on raw bytes, then TorchFile::parse of the same archive;
// then once more with every entry's CRC-32 recomputed, so that mutations of data.pkl and of
// the storages inside an archive get past the CRC check and reach the unpickler and the
// tensor checks.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/core/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "weights/torch_file.h"
#include "weights/zip_reader.h"

namespace {

std::uint64_t le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t x = 0;
  for (std::size_t k = n; k-- > 0;) x = (x << 8) | p[k];
  return x;
}

std::uint32_t crc32(const std::uint8_t* p, std::size_t n) {
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::size_t i = 0; i < n; ++i) {
    c ^= p[i];
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
  }
  return c ^ 0xFFFFFFFFu;
}

void put32(std::uint8_t* p, std::uint32_t x) {
  for (int k = 0; k < 4; ++k) p[k] = static_cast<std::uint8_t>(x >> (8 * k));
}

// Finds central directory headers by signature and writes the CRC of the data their local
// header points at into both headers. Lenient on purpose: anything that does not fit is left.
bool fix_crcs(std::vector<std::uint8_t>& z) {
  bool changed = false;
  const std::size_t n = z.size();
  for (std::size_t p = 0; p + 46 <= n; ++p) {
    if (le(&z[p], 4) != 0x02014b50) continue;
    const std::uint64_t size = le(&z[p + 20], 4), local = le(&z[p + 42], 4);
    if (local + 30 > n || le(&z[local], 4) != 0x04034b50) continue;
    const std::uint64_t begin = local + 30 + le(&z[local + 26], 2) + le(&z[local + 28], 2);
    if (begin > n || size > n - begin) continue;
    const std::uint32_t crc = crc32(&z[begin], static_cast<std::size_t>(size));
    if (le(&z[p + 16], 4) != crc) {
      put32(&z[p + 16], crc);
      put32(&z[local + 14], crc);
      changed = true;
    }
  }
  return changed;
}

void parse(std::vector<std::uint8_t> bytes) {
  try {
    const rp::TorchFile file = rp::TorchFile::parse(std::move(bytes), "fuzz.pt");
    rp::fuzz::exercise(file);
  } catch (const rp::Error&) {
    // A refusal with a message: the documented outcome for bad input.
  }
}

}  // namespace

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
  std::vector<std::uint8_t> bytes(data, data + size);
  parse(bytes);
  if (fix_crcs(bytes)) parse(std::move(bytes));
  return 0;
}
