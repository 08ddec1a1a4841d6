// Where a tensor's memory lives and where an op runs.
#pragma once

#include <iosfwd>
#include <string>

namespace rp {

enum class DeviceKind { CPU, CUDA };

struct Device {
  DeviceKind kind = DeviceKind::CPU;
  int index = 0;  // CUDA ordinal; always 0 for the CPU

  static Device cpu() { return {DeviceKind::CPU, 0}; }
  static Device cuda(int ordinal = 0) { return {DeviceKind::CUDA, ordinal}; }
  // "cpu", "cuda", "cuda:1"; throws rp::Error naming the text otherwise.
  static Device parse(const std::string& text);

  bool is_cpu() const { return kind == DeviceKind::CPU; }
  bool is_cuda() const { return kind == DeviceKind::CUDA; }
  bool operator==(const Device& o) const { return kind == o.kind && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
  std::string str() const;  // "cpu", "cuda:0"
};

std::ostream& operator<<(std::ostream& os, const Device& d);

}  // namespace rp
