#include "engine/core/device.h"

#include <cctype>
#include <ostream>

#include "engine/core/error.h"

namespace rp {

Device Device::parse(const std::string& text) {
  if (text == "cpu") return cpu();
  if (text == "cuda") return cuda(0);
  const std::string prefix = "cuda:";
  if (text.size() > prefix.size() && text.compare(0, prefix.size(), prefix) == 0 &&
      text.size() - prefix.size() <= 3) {
    int ordinal = 0;
    for (std::size_t i = prefix.size(); i < text.size(); ++i) {
      const unsigned char c = static_cast<unsigned char>(text[i]);
      RP_CHECK(std::isdigit(c), "Device", "expected cpu, cuda or cuda:N, found '" << text << "'");
      ordinal = ordinal * 10 + (c - '0');
    }
    return cuda(ordinal);
  }
  RP_FAIL("Device", "expected cpu, cuda or cuda:N, found '" << text << "'");
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : "cuda:" + std::to_string(index);
}

std::ostream& operator<<(std::ostream& os, const Device& d) {
  return os << d.str();
}

}  // namespace rp
