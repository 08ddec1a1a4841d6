// libFuzzer harness: TorchFile::parse on raw bytes (legacy files, bare pickles), and the same
// bytes as the object pickle of a legacy file, so mutations reach the unpickler past the
// header pickles.
#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine/core/error.h"
#include "tests/fuzz/fuzz_check.h"
#include "weights/torch_file.h"

namespace {

// The magic number, protocol version and an empty sys_info, each a protocol-2 pickle.
const std::uint8_t kLegacyHeader[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                      0x20, 0x6a, 0xa8, 0x50, 0x19, '.',  0x80, 0x02, 'M',
                                      0xe9, 0x03, '.',  0x80, 0x02, '}',  '.'};

void parse(std::vector<std::uint8_t> bytes) {
  try {
    const rp::TorchFile file = rp::TorchFile::parse(std::move(bytes), "fuzz");
    rp::fuzz::exercise(file);
  } catch (const rp::Error&) {
    // A refusal with a message: the documented outcome for bad input.
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  parse(std::vector<std::uint8_t>(data, data + size));
  if (size > 0 && data[0] == 0x80 && (size < 3 || data[2] != 0x8a)) {
    std::vector<std::uint8_t> wrapped(std::begin(kLegacyHeader), std::end(kLegacyHeader));
    wrapped.insert(wrapped.end(), data, data + size);
    parse(std::move(wrapped));
  }
  return 0;
}
