#include "weights/torch_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iomanip>
#include <limits>
#include <memory>
#include <sstream>
#include <utility>

#include "engine/core/error.h"
#include "weights/pickle_machine.h"
#include "weights/zip_reader.h"

namespace rp {
namespace {

constexpr std::uint64_t kMaxFileBytes = 4ull << 30;
// The walk that names tensors and scalars: at most this deep, this many visits (shared
// subtrees are visited once per path) and this many bytes of names and strings.
constexpr int kMaxDepth = 1000;
constexpr std::uint64_t kMaxVisits = 10'000'000;
constexpr std::uint64_t kMaxWalkBytes = 256ull << 20;
// A tensor may have at most this many elements to be read (its values become doubles).
constexpr std::int64_t kMaxReadElements = std::int64_t{1} << 31;

std::string op_for(const std::string& name) {
  return "torch file " + name;
}

// Python's name for a dict key, as state dict names use it; false for keys that have none.
bool key_text(const PickleValues& v, PickleId id, std::string& out) {
  const PickleValue& key = v.values[id];
  switch (key.kind) {
    case PickleKind::kStr:
      out = key.text;
      return true;
    case PickleKind::kInt:
      out = std::to_string(key.i);
      return true;
    case PickleKind::kBool:
      out = key.i != 0 ? "True" : "False";
      return true;
    case PickleKind::kNone:
      out = "None";
      return true;
    case PickleKind::kFloat: {
      std::ostringstream s;
      s << std::setprecision(17) << key.f;
      out = s.str();
      return true;
    }
    default:
      return false;
  }
}

struct Walked {
  std::map<std::string, PickleId> tensors;  // name -> tensor value
  nlohmann::json scalars = nlohmann::json::object();
};

// Names every tensor and scalar reachable from `root` through dicts, lists and tuples. An
// explicit stack keeps the input's nesting off the call stack; a value already on the current
// path (a cycle) is not entered again.
Walked walk(const PickleValues& v, PickleId root, const std::string& op) {
  struct Frame {
    PickleId id;
    std::string name;
    int depth;
    bool exit;
  };
  Walked out;
  std::vector<std::uint8_t> on_path(v.values.size(), 0);
  std::vector<Frame> stack;
  stack.push_back(Frame{root, std::string(), 0, false});
  std::uint64_t visits = 0, bytes = 0;
  while (!stack.empty()) {
    Frame frame = std::move(stack.back());
    stack.pop_back();
    if (frame.exit) {
      on_path[frame.id] = 0;
      continue;
    }
    RP_CHECK(++visits <= kMaxVisits, op,
             "more than " << kMaxVisits << " values reached (shared many times over?)");
    bytes += frame.name.size();
    RP_CHECK(bytes <= kMaxWalkBytes, op,
             "names and strings exceed " << kMaxWalkBytes << " bytes (shared many times over?)");
    const PickleValue& value = v.values[frame.id];
    switch (value.kind) {
      case PickleKind::kTensor:
        out.tensors[frame.name] = frame.id;
        continue;
      case PickleKind::kNone:
        out.scalars[frame.name] = nullptr;
        continue;
      case PickleKind::kBool:
        out.scalars[frame.name] = value.i != 0;
        continue;
      case PickleKind::kInt:
        out.scalars[frame.name] = value.i;
        continue;
      case PickleKind::kFloat:
        out.scalars[frame.name] = value.f;
        continue;
      case PickleKind::kStr:
        bytes += value.text.size();
        RP_CHECK(
            bytes <= kMaxWalkBytes, op,
            "names and strings exceed " << kMaxWalkBytes << " bytes (shared many times over?)");
        out.scalars[frame.name] = value.text;
        continue;
      case PickleKind::kDict:
      case PickleKind::kList:
      case PickleKind::kTuple:
        break;
      default:
        continue;  // sets, bytes, globals, storages and opaque values name nothing
    }
    if (on_path[frame.id] != 0) continue;
    RP_CHECK(frame.depth < kMaxDepth, op,
             "containers nested deeper than " << kMaxDepth << " at '" << frame.name << "'");
    on_path[frame.id] = 1;
    stack.push_back(Frame{frame.id, std::string(), frame.depth, true});
    const std::string prefix = frame.name.empty() ? std::string() : frame.name + ".";
    const bool dict = value.kind == PickleKind::kDict;
    const std::size_t step = dict ? 2 : 1;
    const std::size_t n = value.items.size() / step;
    for (std::size_t k = n; k-- > 0;) {
      std::string key;
      if (dict) {
        if (!key_text(v, value.items[2 * k], key)) continue;
      } else {
        key = std::to_string(k);
      }
      stack.push_back(
          Frame{value.items[k * step + (dict ? 1 : 0)], prefix + key, frame.depth + 1, false});
    }
  }
  return out;
}

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t x = 0;
  for (int k = 7; k >= 0; --k) x = (x << 8) | p[k];
  return x;
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = static_cast<std::uint32_t>(h >> 15) << 31;
  const std::uint32_t exponent = (h >> 10) & 0x1Fu;
  std::uint32_t mantissa = h & 0x3FFu;
  std::uint32_t bits = 0;
  if (exponent == 0) {
    if (mantissa == 0) {
      bits = sign;
    } else {  // subnormal: normalize
      int e = -1;
      do {
        ++e;
        mantissa <<= 1;
      } while ((mantissa & 0x400u) == 0);
      bits = sign | (static_cast<std::uint32_t>(127 - 15 - e) << 23) | ((mantissa & 0x3FFu) << 13);
    }
  } else if (exponent == 0x1F) {
    bits = sign | 0x7F800000u | (mantissa << 13);
  } else {
    bits = sign | ((exponent + 127 - 15) << 23) | (mantissa << 13);
  }
  float f = 0.0f;
  std::memcpy(&f, &bits, sizeof f);
  return f;
}

template <typename T>
T load(const std::uint8_t* p) {
  T x;
  std::memcpy(&x, p, sizeof x);  // the files are little-endian, like every host we build for
  return x;
}

// Loads one element as double (exact for every dtype but I64 beyond 2^53); chosen once per
// tensor, not per element.
using Load = double (*)(const std::uint8_t*);

Load loader(const std::string& dtype) {
  if (dtype == "F32")
    return [](const std::uint8_t* p) { return static_cast<double>(load<float>(p)); };
  if (dtype == "F64") return [](const std::uint8_t* p) { return load<double>(p); };
  if (dtype == "F16") {
    return [](const std::uint8_t* p) {
      return static_cast<double>(half_to_float(load<std::uint16_t>(p)));
    };
  }
  if (dtype == "BF16") {
    return [](const std::uint8_t* p) {
      const std::uint32_t bits = static_cast<std::uint32_t>(load<std::uint16_t>(p)) << 16;
      float f = 0.0f;
      std::memcpy(&f, &bits, sizeof f);
      return static_cast<double>(f);
    };
  }
  if (dtype == "I64") {
    return [](const std::uint8_t* p) { return static_cast<double>(load<std::int64_t>(p)); };
  }
  if (dtype == "I32")
    return [](const std::uint8_t* p) { return static_cast<double>(load<std::int32_t>(p)); };
  if (dtype == "I16")
    return [](const std::uint8_t* p) { return static_cast<double>(load<std::int16_t>(p)); };
  if (dtype == "I8")
    return [](const std::uint8_t* p) { return static_cast<double>(load<std::int8_t>(p)); };
  if (dtype == "BOOL") return [](const std::uint8_t* p) { return p[0] != 0 ? 1.0 : 0.0; };
  return [](const std::uint8_t* p) { return static_cast<double>(p[0]); };  // U8
}

}  // namespace

std::size_t torch_dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes{
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8},
      {"I32", 4}, {"I16", 2}, {"I8", 1},  {"U8", 1},   {"BOOL", 1}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

TorchFile TorchFile::open(const std::string& path) {
  const std::string op = op_for(path);
  struct stat st {};
  RP_CHECK(::stat(path.c_str(), &st) == 0, op, "cannot open: " << std::strerror(errno));
  RP_CHECK(S_ISREG(st.st_mode), op, "not a regular file");
  const auto size = static_cast<std::uint64_t>(st.st_size);
  RP_CHECK(size <= kMaxFileBytes, op,
           size << " bytes, over the " << kMaxFileBytes << "-byte limit of this reader");
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(path.c_str(), "rb"), &std::fclose);
  RP_CHECK(f != nullptr, op, "cannot open: " << std::strerror(errno));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  const std::size_t got = bytes.empty() ? 0 : std::fread(bytes.data(), 1, bytes.size(), f.get());
  RP_CHECK(got == bytes.size() && std::fgetc(f.get()) == EOF, op,
           "changed while being read (" << got << " of " << size << " bytes)");
  return parse(std::move(bytes), path);
}

TorchFile TorchFile::parse(std::vector<std::uint8_t> bytes, const std::string& name) {
  const std::string op = op_for(name);
  TorchFile file;
  file.path_ = name;
  file.bytes_ = std::move(bytes);
  const std::uint8_t* data = file.bytes_.data();
  const std::size_t size = file.bytes_.size();
  RP_CHECK(size <= kMaxFileBytes, op,
           size << " bytes, over the " << kMaxFileBytes << "-byte limit");
  PickleValues values;
  PickleId root = 0;
  // key -> dtype, from the persistent ids; a key named with two dtypes is refused.
  const auto storage_dtypes = [&]() {
    std::map<std::string, std::string> dtypes;
    for (const PickleStorage& s : values.storages) {
      const auto [it, fresh] = dtypes.emplace(s.key, s.dtype);
      RP_CHECK(fresh || it->second == s.dtype, op,
               "storage '" << s.key << "' is named as " << it->second << " and as " << s.dtype);
    }
    return dtypes;
  };

  if (size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0) {
    file.zip_ = true;
    const ZipReader zip = ZipReader::index(data, size, name);
    std::string prefix;
    int found = 0;
    for (const auto& [entry, span] : zip.entries()) {
      const std::size_t slash = entry.find('/');
      if (slash != std::string::npos && entry.compare(slash, std::string::npos, "/data.pkl") == 0) {
        prefix = entry.substr(0, slash + 1);
        ++found;
      }
    }
    RP_CHECK(found == 1, op,
             (found == 0 ? "no <archive>/data.pkl entry: not a torch.save archive"
                         : "several <archive>/data.pkl entries"));
    if (const ZipEntry* order = zip.find(prefix + "byteorder")) {
      const std::string text(reinterpret_cast<const char*>(data + order->offset),
                             static_cast<std::size_t>(order->size));
      RP_CHECK(text == "little", op, "byte order '" << text << "' (only little-endian is read)");
    }
    const ZipEntry& pkl = *zip.find(prefix + "data.pkl");
    std::size_t pos = 0;
    root = unpickle(values, data + pkl.offset, static_cast<std::size_t>(pkl.size), pos, name,
                    prefix + "data.pkl", 0);
    for (const auto& [key, dtype] : storage_dtypes()) {
      const ZipEntry* entry = zip.find(prefix + "data/" + key);
      if (entry == nullptr || dtype.empty()) continue;  // its tensors get a problem
      std::int64_t numel = 0;
      for (const PickleStorage& s : values.storages) {
        if (s.key == key && s.offset == 0) numel = std::max(numel, s.numel);
      }
      const std::uint64_t elem = torch_dtype_size(dtype);
      RP_CHECK(static_cast<std::uint64_t>(numel) <= entry->size / elem, op,
               "storage '" << key << "' declares " << numel << " x " << elem
                           << " bytes but its entry " << prefix << "data/" << key << " holds "
                           << entry->size);
      file.storages_[key] = Storage{dtype, entry->offset, entry->size};
    }
  } else if (size >= 1 && data[0] == 0x80) {
    std::size_t pos = 0;
    const PickleId magic = unpickle(values, data, size, pos, name, "magic number", 0);
    RP_CHECK(values.values[magic].kind == PickleKind::kOpaque &&
                 values.values[magic].text == "int:0x1950a86a20f9469cfc6c",
             op, "a pickle, but not a torch.save file (no magic number 0x1950a86a20f9469cfc6c)");
    const PickleId version = unpickle(values, data, size, pos, name, "protocol version", 0);
    RP_CHECK(values.values[version].kind == PickleKind::kInt && values.values[version].i == 1001,
             op, "protocol version is not 1001");
    const PickleId info = unpickle(values, data, size, pos, name, "sys_info", 0);
    const PickleValue& sys_info = values.values[info];
    RP_CHECK(sys_info.kind == PickleKind::kDict, op, "sys_info is not a dict");
    for (std::size_t k = 0; k + 1 < sys_info.items.size(); k += 2) {
      const PickleValue& key = values.values[sys_info.items[k]];
      const PickleValue& value = values.values[sys_info.items[k + 1]];
      if (key.kind == PickleKind::kStr && key.text == "little_endian") {
        RP_CHECK(value.kind == PickleKind::kBool && value.i == 1, op,
                 "written on a big-endian machine (only little-endian is read)");
      }
    }
    root = unpickle(values, data, size, pos, name, "object", 0);
    const PickleId keys_id = unpickle(values, data, size, pos, name, "storage keys", 0);
    const PickleValue& keys = values.values[keys_id];
    RP_CHECK(keys.kind == PickleKind::kList, op, "the storage key list is not a list");
    const auto dtypes = storage_dtypes();
    for (const PickleId id : keys.items) {
      const PickleValue& key = values.values[id];
      RP_CHECK(key.kind == PickleKind::kStr, op, "a storage key is not a string");
      const auto it = dtypes.find(key.text);
      RP_CHECK(it != dtypes.end() && !it->second.empty(), op,
               "storage '" << key.text << "' at byte " << pos
                           << " has no known element type (not named by the object, or of an "
                              "unsupported type)");
      RP_CHECK(file.storages_.count(key.text) == 0, op,
               "storage '" << key.text << "' listed twice");
      RP_CHECK(
          size - pos >= 8, op,
          "truncated at byte " << pos << ": storage '" << key.text << "' has no element count");
      const std::uint64_t count = read_u64_le(data + pos);
      pos += 8;
      const std::uint64_t elem = torch_dtype_size(it->second);
      RP_CHECK(count <= (size - pos) / elem, op,
               "truncated at byte " << pos << ": storage '" << key.text << "' declares " << count
                                    << " x " << elem << " bytes, " << size - pos << " left");
      file.storages_[key.text] = Storage{it->second, pos, count * elem};
      pos += static_cast<std::size_t>(count * elem);
    }
  } else {
    std::ostringstream found;
    found << std::hex << std::setfill('0');
    for (std::size_t k = 0; k < std::min<std::size_t>(size, 4); ++k) {
      found << (k ? " " : "") << "0x" << std::setw(2) << static_cast<int>(data[k]);
    }
    RP_FAIL(op, "not a torch.save file: expected a zip (PK\\x03\\x04) or a pickle (0x80), found "
                    << (size == 0 ? std::string("an empty file") : found.str()));
  }

  const Walked walked = walk(values, root, op);
  file.scalars_ = walked.scalars;
  for (const auto& [tensor_name, id] : walked.tensors) {
    const PickleTensor& p = values.tensors[static_cast<std::size_t>(values.values[id].i)];
    TorchTensor t{p.dtype, p.shape, p.strides, p.storage_offset, p.storage_key, p.problem};
    if (t.problem.empty()) {
      const auto storage = file.storages_.find(t.storage_key);
      const std::size_t elem = torch_dtype_size(t.dtype);
      std::ostringstream problem;
      if (storage == file.storages_.end()) {
        problem << "its storage '" << t.storage_key << "' is not in the file";
      } else if (elem == 0) {
        problem << "dtype " << t.dtype << " is not supported";
      } else {
        const auto elements = static_cast<std::int64_t>(storage->second.bytes / elem);
        std::int64_t numel = 1, last = t.storage_offset;
        constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();
        for (std::size_t d = 0; d < t.shape.size() && problem.tellp() == 0; ++d) {
          const std::int64_t n = t.shape[d], s = t.strides[d];
          if (n < 0 || s < 0) {
            problem << "negative size or stride in dimension " << d;
          } else if (n != 0 && numel > kMaxReadElements / n) {
            problem << "more than " << kMaxReadElements << " elements";
          } else {
            numel *= n;
            if (n > 0 && s > 0 && (n - 1 > (kMax - last) / s)) {
              problem << "its strides overflow 64 bits";
            } else if (n > 0) {
              last += (n - 1) * s;
            }
          }
        }
        if (problem.tellp() == 0 && numel > 0 && last >= elements) {
          problem << "reaches element " << last << " of a storage of " << elements << " (offset "
                  << t.storage_offset << ", outside its storage)";
        }
      }
      t.problem = problem.str();
    }
    file.tensors_.emplace(tensor_name, std::move(t));
  }
  return file;
}

const TorchTensor& TorchFile::tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  RP_CHECK(it != tensors_.end(), op_for(path_), "no tensor '" << name << "'");
  return it->second;
}

template <typename T>
std::vector<T> TorchFile::read_as(const std::string& name) const {
  const TorchTensor& t = tensor(name);
  RP_CHECK(t.problem.empty(), op_for(path_),
           "tensor '" << name << "' cannot be read: " << t.problem);
  // parse() checked the extent, the dtype and the storage; count elements again here.
  const Storage& storage = storages_.at(t.storage_key);
  const std::size_t elem = torch_dtype_size(t.dtype);
  std::int64_t numel = 1;
  for (const std::int64_t n : t.shape) numel *= n;
  std::vector<T> out(static_cast<std::size_t>(numel));
  if (numel == 0) return out;
  const std::uint8_t* base = bytes_.data() + storage.offset;
  const std::size_t rank = t.shape.size();
  std::vector<std::int64_t> index(rank, 0);
  const Load load_element = loader(t.dtype);
  std::int64_t at = t.storage_offset;
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<T>(load_element(base + static_cast<std::size_t>(at) * elem));
    for (std::size_t d = rank; d-- > 0;) {
      at += t.strides[d];
      if (++index[d] < t.shape[d]) break;
      at -= t.strides[d] * t.shape[d];
      index[d] = 0;
    }
  }
  return out;
}

std::vector<double> TorchFile::read_f64(const std::string& name) const {
  return read_as<double>(name);
}
std::vector<float> TorchFile::read_f32(const std::string& name) const {
  return read_as<float>(name);
}

}  // namespace rp
