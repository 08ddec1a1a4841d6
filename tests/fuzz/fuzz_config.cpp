// libFuzzer harness: a `--config` file's text as the trainer reads it - bounded JSON, the
// settings applied and validated (amounts such as "8/255" and device names parsed on the way).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "engine/core/amount.h"
#include "engine/core/error.h"
#include "engine/core/json_text.h"
#include "engine/train/config.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    (void)rp::parse_amount(std::string(text), "fuzz");
  } catch (const rp::Error&) {
  }
  try {
    const rp::TrainConfig c =
        rp::apply_json(rp::TrainConfig{}, rp::parse_json_bounded(text, "fuzz"), "fuzz");
    rp::validate(c);
  } catch (const rp::Error&) {
  }
  return 0;
}
