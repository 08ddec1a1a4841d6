// The values a restricted unpickler builds: plain data, torch storages and tensors, and opaque
// stand-ins for everything it will not construct.
//
// Values live in one arena (PickleValues) and refer to each other by index, so the shared and
// cyclic structures a pickle may describe (a list appended to itself, a memoized dict reached
// twice) cost nothing to represent and are freed together.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace rp {

using PickleId = std::uint32_t;

enum class PickleKind : std::uint8_t {
  kNone,
  kBool,
  kInt,
  kFloat,
  kStr,      // UTF-8 text
  kBytes,    // raw bytes (bytes, bytearray, protocol-0/1 strings)
  kList,     // items
  kTuple,    // items
  kDict,     // items: key, value, key, value, ...
  kSet,      // items (set and frozenset)
  kGlobal,   // text: "module.name", not resolved
  kStorage,  // a torch storage named by a persistent id
  kTensor,   // a torch tensor
  kOpaque,   // anything else: text says what it stands for, items carry its inputs
};

const char* pickle_kind_name(PickleKind kind);

struct PickleValue {
  PickleKind kind = PickleKind::kNone;
  std::int64_t i = 0;  // kBool, kInt; kTensor and kStorage: index into their tables
  double f = 0.0;      // kFloat
  std::string text;    // kStr, kBytes, kGlobal, kOpaque
  std::vector<PickleId> items;
};

// A storage named by a persistent id ('storage', type, key, location, numel[, view]).
struct PickleStorage {
  std::string key;
  std::string dtype;        // "F32", ...; empty when the storage type is unknown
  std::string type_name;    // e.g. "torch.FloatStorage"
  std::int64_t numel = 0;   // as the persistent id declares it
  std::int64_t offset = 0;  // legacy views: elements into the root storage
};

// A tensor as its rebuild call describes it.
struct PickleTensor {
  std::string dtype;
  std::vector<std::int64_t> shape;
  std::vector<std::int64_t> strides;
  std::int64_t storage_offset = 0;
  std::string storage_key;
  std::string problem;  // non-empty: built from something opaque or malformed
};

struct PickleValues {
  std::vector<PickleValue> values;
  std::vector<PickleStorage> storages;
  std::vector<PickleTensor> tensors;
  std::uint64_t payload_bytes = 0;  // bytes held by strings, charged against a limit
  std::uint64_t item_count = 0;     // container items over all values, likewise
};

}  // namespace rp
