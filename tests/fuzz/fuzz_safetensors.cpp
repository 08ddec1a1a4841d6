// libFuzzer harness: a checkpoint file as `robustprior eval --checkpoint` opens it - the
// safetensors header, the metadata, the tensor table - and, for a small network, the load.
// The bytes are handed over as an in-memory file (memfd), so the real path-based entry point
// runs, size checks included.
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "engine/core/device.h"
#include "engine/core/error.h"
#include "weights/checkpoint.h"
#include "weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const rp::SafetensorsFile f =
        rp::SafetensorsFile::parse(std::string(reinterpret_cast<const char*>(data), size), "fuzz");
    for (const auto& [name, t] : f.tensors()) {
      if (t.end > t.begin) (void)(f.data(name)[0] + f.data(name)[t.end - t.begin - 1]);
    }
  } catch (const rp::Error&) {
  }
  const int fd = memfd_create("fuzz.safetensors", MFD_CLOEXEC);
  if (fd < 0) return 0;
  std::size_t written = 0;
  while (written < size) {
    const ssize_t n = write(fd, data + written, size - written);
    if (n <= 0) break;
    written += static_cast<std::size_t>(n);
  }
  try {
    const rp::Checkpoint ck = rp::Checkpoint::open("/proc/self/fd/" + std::to_string(fd));
    // Networks within the fuzzer's memory limit only (a real width is the user's choice).
    const rp::NetworkSpec& s = ck.info().spec;
    if (s.width <= 0.25 && s.image_h <= 64 && s.image_w <= 64 && s.num_classes <= 100) {
      (void)ck.load_network(rp::Device::cpu());
    }
  } catch (const rp::Error&) {
  }
  close(fd);
  return 0;
}
