#include "weights/safetensors.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <utility>

#include "engine/core/error.h"
#include "engine/core/files.h"
#include "engine/core/json_text.h"

namespace rp {
namespace {

constexpr std::uint64_t kMaxHeader = 100'000'000;

std::string op_for(const std::string& name) {
  return "safetensors " + name;
}

// The little-endian u64 the file starts with.
std::uint64_t header_length(const std::string& first8) {
  std::uint64_t n = 0;
  for (int i = 7; i >= 0; --i) {
    n = (n << 8) | static_cast<std::uint8_t>(first8[static_cast<std::size_t>(i)]);
  }
  return n;
}

}  // namespace

std::size_t safetensors_dtype_size(const std::string& dtype) {
  static const std::map<std::string, std::size_t> sizes{
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I16", 2},
      {"I8", 1},  {"U64", 8}, {"U32", 4}, {"U16", 2},  {"U8", 1},  {"BOOL", 1}};
  const auto it = sizes.find(dtype);
  return it == sizes.end() ? 0 : it->second;
}

SafetensorsFile SafetensorsFile::read(const std::string& path) {
  // The header's length is checked against the limit and the file's real size before the
  // file is read: a hostile length or a huge unrelated file costs nothing.
  const std::string op = op_for(path);
  const std::uint64_t size = regular_file_size(path);
  RP_CHECK(size >= 8, op,
           "truncated: " << size << " bytes; a safetensors file starts with an 8-byte header "
                         << "length");
  const std::uint64_t n = header_length(read_file_range(path, 0, 8));
  RP_CHECK(n <= kMaxHeader, op,
           "oversized header: " << n << " bytes (the limit is " << kMaxHeader << ")");
  RP_CHECK(n <= size - 8, op,
           "truncated: the header claims " << n << " bytes but the file holds " << size - 8
                                           << " after the length");
  return parse(read_file_range(path, 0, size), path);
}

SafetensorsFile SafetensorsFile::parse(std::string bytes, const std::string& name) {
  const std::string op = op_for(name);
  SafetensorsFile f;
  f.path_ = name;
  f.bytes_ = std::move(bytes);
  const std::uint64_t size = f.bytes_.size();
  RP_CHECK(size >= 8, op,
           "truncated: " << size
                         << " bytes; a safetensors file starts with an "
                            "8-byte header length");
  const std::uint64_t n = header_length(f.bytes_);
  RP_CHECK(n <= kMaxHeader, op,
           "oversized header: " << n << " bytes (the limit is " << kMaxHeader << ")");
  RP_CHECK(n <= size - 8, op,
           "truncated: the header claims " << n << " bytes but the file holds " << size - 8
                                           << " after the length");
  const nlohmann::json header =
      parse_json_bounded(std::string_view(f.bytes_).substr(8, n), op + ": corrupt header");
  RP_CHECK(header.is_object(), op, "corrupt header: expected a JSON object");
  f.data_start_ = static_cast<std::size_t>(8 + n);
  const std::uint64_t data_size = size - 8 - n;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      RP_CHECK(value.is_object(), op, "__metadata__ must be an object of strings");
      for (const auto& [mk, mv] : value.items()) {
        RP_CHECK(mv.is_string(), op,
                 "metadata '" << mk << "' must be a string, found " << json_excerpt(mv));
        f.metadata_[mk] = mv.get<std::string>();
      }
      continue;
    }
    RP_CHECK(value.is_object() && value.contains("dtype") && value.contains("shape") &&
                 value.contains("data_offsets"),
             op, "tensor '" << key << "': expected dtype, shape and data_offsets");
    SafetensorsTensor t;
    RP_CHECK(value["dtype"].is_string(), op, "tensor '" << key << "': dtype must be a string");
    t.dtype = value["dtype"].get<std::string>();
    const std::size_t elem = safetensors_dtype_size(t.dtype);
    RP_CHECK(elem != 0, op, "tensor '" << key << "': unknown dtype '" << t.dtype << "'");
    RP_CHECK(value["shape"].is_array(), op, "tensor '" << key << "': shape must be an array");
    std::uint64_t count = 1;
    for (const auto& d : value["shape"]) {
      RP_CHECK((d.is_number_unsigned() || (d.is_number_integer() && d.get<std::int64_t>() >= 0)) &&
                   d.get<std::uint64_t>() <= static_cast<std::uint64_t>(INT64_MAX),
               op, "tensor '" << key << "': bad extent " << json_excerpt(d));
      t.shape.push_back(d.get<std::int64_t>());
      RP_CHECK(!__builtin_mul_overflow(count, d.get<std::uint64_t>(), &count), op,
               "tensor '" << key << "': shape overflows");
    }
    const auto& off = value["data_offsets"];
    RP_CHECK(off.is_array() && off.size() == 2 && off[0].is_number_unsigned() &&
                 off[1].is_number_unsigned(),
             op, "tensor '" << key << "': data_offsets must be [begin, end]");
    t.begin = off[0].get<std::uint64_t>();
    t.end = off[1].get<std::uint64_t>();
    std::uint64_t need = 0;
    RP_CHECK(!__builtin_mul_overflow(count, elem, &need), op,
             "tensor '" << key << "': " << count << " " << t.dtype
                        << " values overflow a 64-bit byte count");
    RP_CHECK(t.begin <= t.end && t.end - t.begin == need, op,
             "tensor '" << key << "': offsets [" << t.begin << ", " << t.end << ") hold "
                        << (t.end >= t.begin ? t.end - t.begin : 0) << " bytes, but " << t.dtype
                        << " of that shape needs " << need);
    RP_CHECK(t.end <= data_size, op,
             "truncated: tensor '" << key << "' ends at byte " << t.end << " of the data, which "
                                   << "holds only " << data_size);
    f.tensors_[key] = t;
  }
  // The data must be covered exactly: no overlap, no holes, nothing after the last tensor.
  std::vector<std::pair<std::uint64_t, std::string>> order;
  for (const auto& [k, t] : f.tensors_) order.emplace_back(t.begin, k);
  std::sort(order.begin(), order.end());
  std::uint64_t at = 0;
  for (const auto& [begin, k] : order) {
    RP_CHECK(begin == at, op,
             "tensor '" << k << "' starts at byte " << begin << " of the data, "
                        << (begin < at ? "overlapping" : "leaving a hole after")
                        << " the tensor before it (which ends at " << at << ")");
    at = f.tensors_[k].end;
  }
  RP_CHECK(at == data_size, op, data_size - at << " bytes after the last tensor (corrupt file)");
  return f;
}

const SafetensorsTensor& SafetensorsFile::tensor(const std::string& name) const {
  const auto it = tensors_.find(name);
  RP_CHECK(it != tensors_.end(), op_for(path_), "has no tensor '" << name << "'");
  return it->second;
}

const std::uint8_t* SafetensorsFile::data(const std::string& name) const {
  return reinterpret_cast<const std::uint8_t*>(bytes_.data()) + data_start_ + tensor(name).begin;
}

void SafetensorsWriter::add(const std::string& name, const std::string& dtype,
                            const std::vector<std::int64_t>& shape, const void* data,
                            std::size_t bytes) {
  const std::size_t elem = safetensors_dtype_size(dtype);
  RP_CHECK(elem != 0, "safetensors", "unknown dtype '" << dtype << "' for '" << name << "'");
  std::size_t count = 1;
  for (std::int64_t d : shape) {
    RP_CHECK(d >= 0 && !__builtin_mul_overflow(count, static_cast<std::size_t>(d), &count),
             "safetensors", "'" << name << "': bad shape");
  }
  RP_CHECK(count * elem == bytes, "safetensors",
           "'" << name << "': " << bytes << " bytes for " << count << " " << dtype << " values");
  for (const Entry& e : entries_) {
    RP_CHECK(e.name != name, "safetensors", "duplicate tensor '" << name << "'");
  }
  RP_CHECK(name != "__metadata__", "safetensors", "a tensor cannot be named __metadata__");
  entries_.push_back(Entry{name, dtype, shape, std::string(static_cast<const char*>(data), bytes)});
}

void SafetensorsWriter::set_metadata(const std::string& key, const std::string& value) {
  metadata_[key] = value;
}

std::string SafetensorsWriter::serialize() const {
  nlohmann::json header = nlohmann::json::object();
  std::uint64_t at = 0;
  for (const Entry& e : entries_) {
    header[e.name] = {
        {"dtype", e.dtype}, {"shape", e.shape}, {"data_offsets", {at, at + e.bytes.size()}}};
    at += e.bytes.size();
  }
  if (!metadata_.empty()) header["__metadata__"] = metadata_;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data starts 8-byte aligned
  // What the reader would refuse is never written (a run must be able to read back its
  // checkpoints): refused here, before the file is touched.
  RP_CHECK(text.size() <= kMaxHeader, "safetensors",
           "the header would be " << text.size() << " bytes, over the " << kMaxHeader
                                  << " a reader accepts (metadata too large)");
  std::string out;
  out.reserve(8 + text.size() + at);
  const std::uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
  out += text;
  for (const Entry& e : entries_) out += e.bytes;
  return out;
}

void SafetensorsWriter::write(const std::string& path) const {
  write_file_atomic(path, serialize());
}

}  // namespace rp
