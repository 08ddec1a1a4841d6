// safetensors: the tensor file format PyTorch, JAX and others read.
//
//   8 bytes   N, the header's length, little-endian u64
//   N bytes   a JSON object: {"name": {"dtype": "F32", "shape": [..], "data_offsets": [b, e]},
//             ..., "__metadata__": {"key": "string", ...}}, padded with spaces
//   rest      the tensors' bytes, little-endian, row-major; offsets are relative to its start
//
// The reader refuses, naming the file and the field or tensor: a file shorter than its header,
// a header over 100 MB (the reference implementation's limit), invalid JSON, an unknown
// dtype, a negative extent, offsets that disagree with dtype x shape, overlap, leave holes or
// run past the end of the file (truncation), and non-string metadata.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace rp {

struct SafetensorsTensor {
  std::string dtype;                 // "F32", "F64", "I64", "I32", "U8", "BF16", "F16", ...
  std::vector<std::int64_t> shape;   // [] for a scalar
  std::uint64_t begin = 0, end = 0;  // byte offsets into the data section
};

std::size_t safetensors_dtype_size(const std::string& dtype);  // 0: unknown

class SafetensorsFile {
 public:
  static SafetensorsFile read(const std::string& path);
  static SafetensorsFile parse(std::string bytes, const std::string& name);  // from memory

  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  const std::map<std::string, SafetensorsTensor>& tensors() const { return tensors_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const SafetensorsTensor& tensor(const std::string& name) const;  // throws naming the file
  const std::uint8_t* data(const std::string& name) const;
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::string bytes_;
  std::size_t data_start_ = 0;
  std::map<std::string, std::string> metadata_;
  std::map<std::string, SafetensorsTensor> tensors_;
};

class SafetensorsWriter {
 public:
  // Copies the bytes; they must be dtype-size x product(shape) long.
  void add(const std::string& name, const std::string& dtype,
           const std::vector<std::int64_t>& shape, const void* data, std::size_t bytes);
  void set_metadata(const std::string& key, const std::string& value);
  std::string serialize() const;
  void write(const std::string& path) const;  // atomically

 private:
  struct Entry {
    std::string name, dtype;
    std::vector<std::int64_t> shape;
    std::string bytes;
  };
  std::vector<Entry> entries_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace rp
