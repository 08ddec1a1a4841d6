#include "weights/torch_file.h"

#include "engine/core/error.h"

namespace rp {

std::size_t torch_dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes{
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

TorchFile TorchFile::open(const std::string& path) {
  RP_FAIL("torch file " + path, "the reader is being written");
}

TorchFile TorchFile::parse(std::vector<std::uint8_t> bytes, const std::string& name) {
  (void)bytes;
  RP_FAIL("torch file " + name, "the reader is being written");
}

const TorchTensor& TorchFile::tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  RP_CHECK(it != tensors_.end(), "torch file " + path_, "no tensor '" << name << "'");
  return it->second;
}

template <typename T>
std::vector<T> TorchFile::read_as(const std::string& name) const {
  (void)tensor(name);
  return {};
}

std::vector<double> TorchFile::read_f64(const std::string& name) const {
  return read_as<double>(name);
}
std::vector<float> TorchFile::read_f32(const std::string& name) const {
  return read_as<float>(name);
}

}  // namespace rp
