// PyTorch checkpoints (torch.save files) read without Python and without running pickle code.
//
// Two layouts exist:
//   zip     (torch >= 1.6)  a STORED zip archive: <archive>/data.pkl holds the pickled object,
//                           <archive>/data/<key> each storage's raw little-endian bytes
//   legacy  (torch < 1.6)   five pickles back to back - magic number, protocol version (1001),
//                           sys_info, the object, the sorted list of storage keys - then for
//                           each key an 8-byte little-endian element count and the raw data
//
// The object is decoded by a restricted unpickler (pickle_machine.h) that executes nothing:
// the few globals a state dict needs (OrderedDict, the tensor rebuild functions, storage types,
// torch.Size, ...) build known structures, everything else (dill's functions and types,
// argparse.Namespace, optimizer objects) becomes an opaque value that is carried along and
// never called. A tensor whose construction depends on an opaque value is listed with a
// `problem`; only reading it fails.
//
// Refused with an rp::Error naming the file (and, in the pickle, the byte offset and opcode):
// files that are not regular or over 4 GiB, unknown leading bytes, malformed pickles or zips,
// compressed or encrypted zip entries, storages larger than the bytes holding them.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace rp {

struct TorchTensor {
  std::string dtype;                  // "F32","F64","F16","BF16","I64","I32","I16","U8","I8","BOOL"
  std::vector<std::int64_t> shape;    // [] for a scalar
  std::vector<std::int64_t> strides;  // in elements, as PyTorch's
  std::int64_t storage_offset = 0;    // in elements
  std::string storage_key;            // the storage's key in the file
  std::string problem;                // non-empty: this entry cannot be read, and why
};

class TorchFile {
 public:
  // Reads a regular file of at most 4 GiB; rp::Error naming the file on failure.
  static TorchFile open(const std::string& path);
  static TorchFile parse(std::vector<std::uint8_t> bytes, const std::string& name);

  const std::string& path() const { return path_; }
  const char* format() const { return zip_ ? "zip" : "legacy"; }  // "zip" or "legacy"

  // Every tensor reachable through dicts (keys joined with '.', e.g.
  // "model.module.model.conv1.weight", "optimizer.state.0.momentum_buffer") and lists/tuples
  // (by index). Keys are named as Python prints them (str, int, True/False, None, float);
  // entries under other keys, and anything inside sets or opaque objects (a pickled module,
  // a numpy scalar, a Counter), are not listed. A duplicate name keeps the last entry.
  const std::map<std::string, TorchTensor>& tensors() const { return tensors_; }
  // Every int/float/bool/str/None leaf reached the same way (e.g. "epoch": 89): a flat JSON
  // object name -> value.
  const nlohmann::json& scalars() const { return scalars_; }
  bool has(const std::string& name) const { return tensors_.count(name) != 0; }
  const TorchTensor& tensor(const std::string& name) const;  // rp::Error if missing

  // The tensor's values converted to f64/f32 (from any float or integer dtype), row-major in
  // its shape, honouring strides and storage offset. rp::Error naming the tensor if it is
  // missing, has a problem, or reads outside its storage.
  std::vector<double> read_f64(const std::string& name) const;
  std::vector<float> read_f32(const std::string& name) const;

  // The storages by key: their dtype and where their bytes lie in the file.
  struct Storage {
    std::string dtype;
    std::uint64_t offset = 0;  // bytes from the start of the file
    std::uint64_t bytes = 0;
  };
  const std::map<std::string, Storage>& storages() const { return storages_; }

 private:
  template <typename T>
  std::vector<T> read_as(const std::string& name) const;

  std::string path_;
  bool zip_ = false;
  std::vector<std::uint8_t> bytes_;
  std::map<std::string, Storage> storages_;
  std::map<std::string, TorchTensor> tensors_;
  nlohmann::json scalars_ = nlohmann::json::object();
};

// Element size of a TorchTensor dtype; 0 for an unknown one.
std::size_t torch_dtype_size(const std::string& dtype);

}  // namespace rp
