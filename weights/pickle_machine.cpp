#include "weights/pickle_machine.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <sstream>
#include <unordered_map>
#include <utility>
#include <vector>

#include "engine/core/error.h"

namespace rp {

const char* pickle_kind_name(PickleKind kind) {
  switch (kind) {
    case PickleKind::kNone:
      return "None";
    case PickleKind::kBool:
      return "bool";
    case PickleKind::kInt:
      return "int";
    case PickleKind::kFloat:
      return "float";
    case PickleKind::kStr:
      return "str";
    case PickleKind::kBytes:
      return "bytes";
    case PickleKind::kList:
      return "list";
    case PickleKind::kTuple:
      return "tuple";
    case PickleKind::kDict:
      return "dict";
    case PickleKind::kSet:
      return "set";
    case PickleKind::kGlobal:
      return "global";
    case PickleKind::kStorage:
      return "storage";
    case PickleKind::kTensor:
      return "tensor";
    case PickleKind::kOpaque:
      return "opaque value";
  }
  return "?";
}

namespace {

// The opcodes, as pickletools names them.
const char* opcode_name(std::uint8_t op) {
  switch (op) {
    case '(':
      return "MARK";
    case '.':
      return "STOP";
    case '0':
      return "POP";
    case '1':
      return "POP_MARK";
    case '2':
      return "DUP";
    case 'F':
      return "FLOAT";
    case 'I':
      return "INT";
    case 'J':
      return "BININT";
    case 'K':
      return "BININT1";
    case 'L':
      return "LONG";
    case 'M':
      return "BININT2";
    case 'N':
      return "NONE";
    case 'P':
      return "PERSID";
    case 'Q':
      return "BINPERSID";
    case 'R':
      return "REDUCE";
    case 'S':
      return "STRING";
    case 'T':
      return "BINSTRING";
    case 'U':
      return "SHORT_BINSTRING";
    case 'V':
      return "UNICODE";
    case 'X':
      return "BINUNICODE";
    case 'a':
      return "APPEND";
    case 'b':
      return "BUILD";
    case 'c':
      return "GLOBAL";
    case 'd':
      return "DICT";
    case '}':
      return "EMPTY_DICT";
    case 'e':
      return "APPENDS";
    case 'g':
      return "GET";
    case 'h':
      return "BINGET";
    case 'i':
      return "INST";
    case 'j':
      return "LONG_BINGET";
    case 'l':
      return "LIST";
    case ']':
      return "EMPTY_LIST";
    case 'o':
      return "OBJ";
    case 'p':
      return "PUT";
    case 'q':
      return "BINPUT";
    case 'r':
      return "LONG_BINPUT";
    case 's':
      return "SETITEM";
    case 't':
      return "TUPLE";
    case ')':
      return "EMPTY_TUPLE";
    case 'u':
      return "SETITEMS";
    case 'G':
      return "BINFLOAT";
    case 'B':
      return "BINBYTES";
    case 'C':
      return "SHORT_BINBYTES";
    case 0x80:
      return "PROTO";
    case 0x81:
      return "NEWOBJ";
    case 0x82:
      return "EXT1";
    case 0x83:
      return "EXT2";
    case 0x84:
      return "EXT4";
    case 0x85:
      return "TUPLE1";
    case 0x86:
      return "TUPLE2";
    case 0x87:
      return "TUPLE3";
    case 0x88:
      return "NEWTRUE";
    case 0x89:
      return "NEWFALSE";
    case 0x8a:
      return "LONG1";
    case 0x8b:
      return "LONG4";
    case 0x8c:
      return "SHORT_BINUNICODE";
    case 0x8d:
      return "BINUNICODE8";
    case 0x8e:
      return "BINBYTES8";
    case 0x8f:
      return "EMPTY_SET";
    case 0x90:
      return "ADDITEMS";
    case 0x91:
      return "FROZENSET";
    case 0x92:
      return "NEWOBJ_EX";
    case 0x93:
      return "STACK_GLOBAL";
    case 0x94:
      return "MEMOIZE";
    case 0x95:
      return "FRAME";
    case 0x96:
      return "BYTEARRAY8";
    case 0x97:
      return "NEXT_BUFFER";
    case 0x98:
      return "READONLY_BUFFER";
    default:
      return nullptr;
  }
}

bool valid_utf8(const std::string& s) {
  std::size_t i = 0;
  const std::size_t n = s.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1Fu;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0Fu;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (n - i < len) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (d & 0x3Fu);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xD800 && cp <= 0xDFFF) || cp > 0x10FFFF) {
      return false;
    }
    i += len;
  }
  return true;
}

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The element type a storage class holds ("torch.FloatStorage", "torch.cuda.HalfStorage").
std::string storage_dtype(const std::string& type_name) {
  static const std::pair<const char*, const char*> types[] = {
      {"FloatStorage", "F32"},     {"DoubleStorage", "F64"}, {"HalfStorage", "F16"},
      {"BFloat16Storage", "BF16"}, {"LongStorage", "I64"},   {"IntStorage", "I32"},
      {"ShortStorage", "I16"},     {"CharStorage", "I8"},    {"ByteStorage", "U8"},
      {"BoolStorage", "BOOL"},     {"UntypedStorage", "U8"}};
  std::string base;
  if (type_name.rfind("torch.cuda.", 0) == 0) {
    base = type_name.substr(11);
  } else if (type_name.rfind("torch.storage.", 0) == 0) {
    base = type_name.substr(14);
  } else if (type_name.rfind("torch.", 0) == 0) {
    base = type_name.substr(6);
  } else {
    return "";
  }
  for (const auto& [name, dtype] : types) {
    if (base == name) return dtype;
  }
  return "";
}

// torch.float32 and friends, as _rebuild_tensor_v3 receives them.
std::string torch_dtype_global(const std::string& name) {
  static const std::pair<const char*, const char*> types[] = {
      {"torch.float32", "F32"},   {"torch.float64", "F64"}, {"torch.float16", "F16"},
      {"torch.bfloat16", "BF16"}, {"torch.int64", "I64"},   {"torch.int32", "I32"},
      {"torch.int16", "I16"},     {"torch.int8", "I8"},     {"torch.uint8", "U8"},
      {"torch.bool", "BOOL"}};
  for (const auto& [n, dtype] : types) {
    if (name == n) return dtype;
  }
  return "";
}

class Machine {
 public:
  Machine(PickleValues& values, const std::uint8_t* data, std::size_t size, std::size_t pos,
          const std::string& file, const std::string& where, std::size_t base,
          const PickleLimits& limits)
      : v_(values),
        data_(data),
        size_(size),
        pos_(pos),
        file_(file),
        where_(where),
        base_(base),
        limits_(limits),
        payload_limit_(values.payload_bytes + size + limits.max_payload) {}

  PickleId run();
  std::size_t pos() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    const char* name = opcode_name(op_);
    std::ostringstream s;
    if (!where_.empty()) s << where_ << " ";
    s << "byte " << base_ + op_pos_ << ", opcode ";
    if (name != nullptr) {
      s << name;
    } else {
      s << "0x" << std::hex << static_cast<int>(op_) << std::dec;
    }
    s << ": " << message;
    RP_FAIL("torch file " + file_, s.str());
  }

  // Input -----------------------------------------------------------------------------------
  void need(std::uint64_t n) const {
    if (n > size_ - pos_) {
      std::ostringstream s;
      s << "truncated: needs " << n << " bytes, " << size_ - pos_ << " left";
      fail(s.str());
    }
  }
  std::uint64_t read_le(std::size_t n) {
    need(n);
    std::uint64_t x = 0;
    for (std::size_t k = n; k-- > 0;) x = (x << 8) | data_[pos_ + k];
    pos_ += n;
    return x;
  }
  std::string read_bytes(std::uint64_t n) {
    need(n);
    charge(n);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), static_cast<std::size_t>(n));
    pos_ += static_cast<std::size_t>(n);
    return s;
  }
  std::string read_line() {
    const void* nl = std::memchr(data_ + pos_, '\n', size_ - pos_);
    if (nl == nullptr) fail("truncated: no end of line");
    const std::size_t n =
        static_cast<std::size_t>(static_cast<const std::uint8_t*>(nl) - (data_ + pos_));
    charge(n);
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n + 1;
    return s;
  }
  void count_items(std::uint64_t n) {
    v_.item_count += n;
    if (v_.item_count > limits_.max_items) {
      std::ostringstream s;
      s << "containers hold more than " << limits_.max_items << " items";
      fail(s.str());
    }
  }
  void charge(std::uint64_t n) {
    v_.payload_bytes += n;
    if (v_.payload_bytes > payload_limit_) fail("strings exceed the size limit");
  }

  // Values ----------------------------------------------------------------------------------
  PickleId make(PickleValue value) {
    count_items(value.items.size());
    if (v_.values.size() >= limits_.max_values) {
      std::ostringstream s;
      s << "more than " << limits_.max_values << " values";
      fail(s.str());
    }
    v_.values.push_back(std::move(value));
    return static_cast<PickleId>(v_.values.size() - 1);
  }
  PickleId make(PickleKind kind, std::vector<PickleId> items = {}) {
    PickleValue value;
    value.kind = kind;
    value.items = std::move(items);
    return make(std::move(value));
  }
  PickleId make_int(std::int64_t i) {
    PickleValue value;
    value.kind = PickleKind::kInt;
    value.i = i;
    return make(std::move(value));
  }
  PickleId make_text(PickleKind kind, std::string text) {
    PickleValue value;
    value.kind = kind;
    value.text = std::move(text);
    return make(std::move(value));
  }
  PickleId make_opaque(std::string what, std::vector<PickleId> items) {
    PickleValue value;
    value.kind = PickleKind::kOpaque;
    value.text = std::move(what);
    value.items = std::move(items);
    return make(std::move(value));
  }
  PickleId make_str(std::string text) {
    if (!valid_utf8(text)) fail("text is not valid UTF-8");
    return make_text(PickleKind::kStr, std::move(text));
  }
  const PickleValue& at(PickleId id) const { return v_.values[id]; }
  std::string describe(PickleId id) const {
    const PickleValue& value = at(id);
    if (value.kind == PickleKind::kOpaque || value.kind == PickleKind::kGlobal) {
      return std::string(pickle_kind_name(value.kind)) + " '" + value.text + "'";
    }
    return pickle_kind_name(value.kind);
  }

  // Stack -----------------------------------------------------------------------------------
  std::size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  void push(PickleId id) {
    if (stack_.size() >= limits_.max_stack) {
      std::ostringstream s;
      s << "stack deeper than " << limits_.max_stack;
      fail(s.str());
    }
    stack_.push_back(id);
  }
  PickleId pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    const PickleId id = stack_.back();
    stack_.pop_back();
    return id;
  }
  PickleId top() const {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  std::vector<PickleId> pop_mark() {
    if (marks_.empty()) fail("no MARK to match");
    const std::size_t k = marks_.back();
    marks_.pop_back();
    std::vector<PickleId> items(stack_.begin() + static_cast<std::ptrdiff_t>(k), stack_.end());
    stack_.resize(k);
    return items;
  }

  // Memo ------------------------------------------------------------------------------------
  void memo_put(std::uint64_t index) {
    const PickleId id = top();
    if (memo_.size() >= limits_.max_values && memo_.count(index) == 0) fail("memo too large");
    memo_[index] = id;
  }
  void memo_get(std::uint64_t index) {
    const auto it = memo_.find(index);
    if (it == memo_.end()) {
      std::ostringstream s;
      s << "memo index " << index << " was never stored (" << memo_.size() << " entries)";
      fail(s.str());
    }
    push(it->second);
  }
  std::uint64_t parse_index(const std::string& line) {
    if (line.empty() || line.size() > 18) fail("bad memo index '" + line + "'");
    std::uint64_t x = 0;
    for (const char c : line) {
      if (c < '0' || c > '9') fail("bad memo index '" + line + "'");
      x = x * 10 + static_cast<std::uint64_t>(c - '0');
    }
    return x;
  }

  // Numbers ---------------------------------------------------------------------------------
  PickleId decode_long(const std::string& bytes);
  PickleId parse_int_text(std::string line, bool is_int_opcode);
  PickleId parse_float_text(const std::string& line);
  std::string decode_string_literal(const std::string& line);
  std::string decode_raw_unicode_escape(const std::string& line);

  // Calls -----------------------------------------------------------------------------------
  PickleId call(PickleId callable, PickleId args, int depth);
  PickleId new_object(PickleId cls, PickleId args);
  PickleId rebuild_tensor(const std::vector<PickleId>& args, int version);
  PickleId tensor_with_problem(std::string problem);
  PickleId persistent(PickleId pid);
  bool int_list(PickleId id, std::vector<std::int64_t>& out) const;
  void build(PickleId target, PickleId state);
  void extend(PickleId target, const std::vector<PickleId>& items, bool pairs, const char* what);

  PickleValues& v_;
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_;
  const std::string& file_;
  const std::string& where_;
  std::size_t base_;
  const PickleLimits& limits_;
  std::uint64_t payload_limit_;

  std::uint8_t op_ = 0;
  std::size_t op_pos_ = 0;
  std::vector<PickleId> stack_;
  std::vector<std::size_t> marks_;
  std::unordered_map<std::uint64_t, PickleId> memo_;
};

// Little-endian two's complement of any length; beyond 64 bits an opaque value that keeps the
// digits in hex (the legacy format's magic number is one).
PickleId Machine::decode_long(const std::string& bytes) {
  const std::size_t n = bytes.size();
  if (n == 0) return make_int(0);
  const bool negative = (static_cast<unsigned char>(bytes[n - 1]) & 0x80) != 0;
  std::size_t used = n;
  const unsigned char fill = negative ? 0xFF : 0x00;
  while (used > 8 && static_cast<unsigned char>(bytes[used - 1]) == fill) --used;
  if (used <= 8) {
    // Sign bits beyond 64 must agree with bit 63.
    std::uint64_t x = negative ? ~0ull : 0ull;
    for (std::size_t k = used; k-- > 0;) {
      x = (x << 8) | static_cast<unsigned char>(bytes[k]);
    }
    if (used < 8 && negative) x |= ~0ull << (8 * used);
    const bool bit63 = (x >> 63) != 0;
    if (bit63 == negative) {
      std::int64_t i = 0;
      std::memcpy(&i, &x, sizeof i);
      return make_int(i);
    }
  }
  if (negative) return make_opaque("int:negative beyond 64 bits", {});
  std::ostringstream s;
  s << "int:0x" << std::hex;
  bool leading = true;
  for (std::size_t k = n; k-- > 0;) {
    const auto b = static_cast<unsigned>(static_cast<unsigned char>(bytes[k]));
    if (leading && b == 0) continue;
    if (leading) {
      s << b;
    } else {
      s << ((b >> 4) & 0xF) << (b & 0xF);
    }
    leading = false;
  }
  return make_opaque(s.str(), {});
}

PickleId Machine::parse_int_text(std::string line, bool is_int_opcode) {
  if (is_int_opcode && (line == "00" || line == "01")) {
    PickleValue value;
    value.kind = PickleKind::kBool;
    value.i = line == "01" ? 1 : 0;
    return make(std::move(value));
  }
  if (!line.empty() && line.back() == 'L') line.pop_back();
  if (line.empty()) fail("empty integer");
  std::size_t k = (line[0] == '-' || line[0] == '+') ? 1 : 0;
  if (k == line.size()) fail("bad integer '" + line + "'");
  for (std::size_t j = k; j < line.size(); ++j) {
    if (line[j] < '0' || line[j] > '9') fail("bad integer '" + line + "'");
  }
  errno = 0;
  const long long x = std::strtoll(line.c_str(), nullptr, 10);
  if (errno == ERANGE) return make_opaque("int:" + line, {});
  return make_int(static_cast<std::int64_t>(x));
}

PickleId Machine::parse_float_text(const std::string& line) {
  if (line.empty() || line.size() > 64) fail("bad float '" + line + "'");
  char* end = nullptr;
  const double x = std::strtod(line.c_str(), &end);
  if (end != line.c_str() + line.size()) fail("bad float '" + line + "'");
  PickleValue value;
  value.kind = PickleKind::kFloat;
  value.f = x;
  return make(std::move(value));
}

// STRING's argument: a Python repr, 'text' or "text", with backslash escapes.
std::string Machine::decode_string_literal(const std::string& line) {
  if (line.size() < 2 || (line[0] != '\'' && line[0] != '"') || line.back() != line[0]) {
    fail("STRING argument is not quoted");
  }
  std::string out;
  const std::size_t end = line.size() - 1;
  for (std::size_t k = 1; k < end; ++k) {
    const char c = line[k];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++k >= end) fail("STRING ends in a backslash");
    const char e = line[k];
    switch (e) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case '\\':
        out += '\\';
        break;
      case '\'':
        out += '\'';
        break;
      case '"':
        out += '"';
        break;
      case 'x': {
        if (k + 2 >= end + 1 || hex_digit(line[k + 1]) < 0 || hex_digit(line[k + 2]) < 0) {
          fail("bad \\x escape in STRING");
        }
        out += static_cast<char>(hex_digit(line[k + 1]) * 16 + hex_digit(line[k + 2]));
        k += 2;
        break;
      }
      default: {
        if (e >= '0' && e <= '7') {
          int x = 0;
          std::size_t j = 0;
          for (; j < 3 && k + j < end && line[k + j] >= '0' && line[k + j] <= '7'; ++j) {
            x = x * 8 + (line[k + j] - '0');
          }
          out += static_cast<char>(x & 0xFF);
          k += j - 1;
        } else {
          out += '\\';
          out += e;
        }
      }
    }
  }
  return out;
}

// UNICODE's argument: raw-unicode-escape, \uXXXX and \UXXXXXXXX, other bytes Latin-1.
std::string Machine::decode_raw_unicode_escape(const std::string& line) {
  std::string out;
  for (std::size_t k = 0; k < line.size(); ++k) {
    const auto c = static_cast<unsigned char>(line[k]);
    if (c == '\\' && k + 1 < line.size() && (line[k + 1] == 'u' || line[k + 1] == 'U')) {
      const std::size_t digits = line[k + 1] == 'u' ? 4 : 8;
      if (k + 2 + digits > line.size()) fail("truncated \\u escape in UNICODE");
      std::uint32_t cp = 0;
      for (std::size_t j = 0; j < digits; ++j) {
        const int d = hex_digit(line[k + 2 + j]);
        if (d < 0) fail("bad \\u escape in UNICODE");
        cp = cp * 16 + static_cast<std::uint32_t>(d);
      }
      if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) fail("bad code point in UNICODE");
      append_utf8(out, cp);
      k += 1 + digits;
    } else {
      append_utf8(out, c);
    }
  }
  return out;
}

bool Machine::int_list(PickleId id, std::vector<std::int64_t>& out) const {
  const PickleValue& value = at(id);
  if (value.kind != PickleKind::kTuple && value.kind != PickleKind::kList) return false;
  out.clear();
  for (const PickleId item : value.items) {
    if (at(item).kind != PickleKind::kInt) return false;
    out.push_back(at(item).i);
  }
  return true;
}

PickleId Machine::tensor_with_problem(std::string problem) {
  PickleTensor t;
  t.problem = std::move(problem);
  v_.tensors.push_back(std::move(t));
  PickleValue value;
  value.kind = PickleKind::kTensor;
  value.i = static_cast<std::int64_t>(v_.tensors.size() - 1);
  return make(std::move(value));
}

// _rebuild_tensor(storage, offset, size, stride)
// _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata])
// _rebuild_tensor_v3(storage, offset, size, stride, requires_grad, hooks, dtype[, metadata])
PickleId Machine::rebuild_tensor(const std::vector<PickleId>& args, int version) {
  const std::size_t needed = version == 3 ? 7 : 4;
  if (args.size() < needed) {
    std::ostringstream s;
    s << "rebuilt from " << args.size() << " arguments, expected at least " << needed;
    return tensor_with_problem(s.str());
  }
  PickleTensor t;
  const PickleValue& storage = at(args[0]);
  std::int64_t base = 0;
  if (storage.kind == PickleKind::kStorage) {
    const PickleStorage& s = v_.storages[static_cast<std::size_t>(storage.i)];
    t.storage_key = s.key;
    t.dtype = s.dtype;
    base = s.offset;
    if (s.dtype.empty()) t.problem = "its storage type " + s.type_name + " is not supported";
  } else {
    t.problem = "its storage is " + describe(args[0]);
  }
  if (version == 3 && t.problem.empty()) {
    const PickleValue& dtype = at(args[6]);
    t.dtype = dtype.kind == PickleKind::kGlobal ? torch_dtype_global(dtype.text) : "";
    if (t.dtype.empty()) t.problem = "its dtype is " + describe(args[6]);
  }
  const PickleValue& offset = at(args[1]);
  if (t.problem.empty() && offset.kind != PickleKind::kInt) {
    t.problem = "its storage offset is " + describe(args[1]);
  }
  if (t.problem.empty() && !int_list(args[2], t.shape)) {
    t.problem = "its size is " + describe(args[2]) + ", not a tuple of ints";
  }
  if (t.problem.empty() && !int_list(args[3], t.strides)) {
    t.problem = "its stride is " + describe(args[3]) + ", not a tuple of ints";
  }
  if (t.problem.empty()) {
    if (t.shape.size() != t.strides.size()) {
      t.problem = "its size and stride differ in length";
    } else if (offset.i < 0 || base < 0 ||
               offset.i > std::numeric_limits<std::int64_t>::max() - base) {
      t.problem = "its storage offset is out of range";
    } else {
      t.storage_offset = base + offset.i;
    }
  }
  v_.tensors.push_back(std::move(t));
  PickleValue value;
  value.kind = PickleKind::kTensor;
  value.i = static_cast<std::int64_t>(v_.tensors.size() - 1);
  return make(std::move(value));
}

// ('storage', torch.<T>Storage, key, location, numel[, (view_key, offset, view_numel)])
PickleId Machine::persistent(PickleId pid) {
  const PickleValue& p = at(pid);
  const auto opaque = [&]() { return make_opaque("persistent id", {pid}); };
  if (p.kind != PickleKind::kTuple || p.items.size() < 5 || p.items.size() > 6) return opaque();
  const PickleValue& tag = at(p.items[0]);
  const PickleValue& type = at(p.items[1]);
  const PickleValue& key = at(p.items[2]);
  const PickleValue& numel = at(p.items[4]);
  if (tag.kind != PickleKind::kStr || tag.text != "storage" || type.kind != PickleKind::kGlobal ||
      (key.kind != PickleKind::kStr && key.kind != PickleKind::kInt) ||
      numel.kind != PickleKind::kInt || numel.i < 0) {
    return opaque();
  }
  PickleStorage s;
  s.key = key.kind == PickleKind::kStr ? key.text : std::to_string(key.i);
  s.type_name = type.text;
  s.dtype = storage_dtype(type.text);
  s.numel = numel.i;
  if (p.items.size() == 6 && at(p.items[5]).kind != PickleKind::kNone) {
    const PickleValue& view = at(p.items[5]);
    if (view.kind != PickleKind::kTuple || view.items.size() != 3 ||
        at(view.items[1]).kind != PickleKind::kInt || at(view.items[2]).kind != PickleKind::kInt ||
        at(view.items[1]).i < 0 || at(view.items[2]).i < 0) {
      return opaque();
    }
    s.offset = at(view.items[1]).i;
    s.numel = at(view.items[2]).i;
  }
  charge(s.key.size() + s.type_name.size());
  v_.storages.push_back(std::move(s));
  PickleValue value;
  value.kind = PickleKind::kStorage;
  value.i = static_cast<std::int64_t>(v_.storages.size() - 1);
  return make(std::move(value));
}

PickleId Machine::call(PickleId callable, PickleId args_id, int depth) {
  const PickleValue& fn = at(callable);
  const PickleValue& args_value = at(args_id);
  if (fn.kind != PickleKind::kGlobal) {
    return make_opaque("call of a " + std::string(pickle_kind_name(fn.kind)), {callable, args_id});
  }
  const std::string name = fn.text;
  const auto opaque = [&]() { return make_opaque("call of " + name, {callable, args_id}); };
  if (args_value.kind != PickleKind::kTuple) return opaque();
  const std::vector<PickleId> args = args_value.items;
  const auto kind_of = [&](std::size_t k) { return at(args[k]).kind; };

  if (name == "torch._utils._rebuild_tensor_v2") return rebuild_tensor(args, 2);
  if (name == "torch._utils._rebuild_tensor") return rebuild_tensor(args, 1);
  if (name == "torch._utils._rebuild_tensor_v3") return rebuild_tensor(args, 3);
  if (name == "torch._utils._rebuild_parameter" ||
      name == "torch._utils._rebuild_parameter_with_state") {
    if (!args.empty() && kind_of(0) == PickleKind::kTensor) return args[0];
    return tensor_with_problem("its data is " +
                               (args.empty() ? std::string("missing") : describe(args[0])));
  }
  if (name == "torch._tensor._rebuild_from_type_v2") {
    // (func, new_type, args, state): func(*args), viewed as new_type.
    if (args.size() < 3 || depth > 0 || kind_of(1) != PickleKind::kGlobal) return opaque();
    const std::string& type = at(args[1]).text;
    if (type != "torch.Tensor" && type != "torch._tensor.Tensor" &&
        type != "torch.nn.parameter.Parameter") {
      return opaque();
    }
    const PickleId inner = call(args[0], args[2], depth + 1);
    return at(inner).kind == PickleKind::kTensor ? inner : opaque();
  }
  if (name == "collections.OrderedDict") {
    if (args.empty()) return make(PickleKind::kDict);
    if (args.size() == 1 && (kind_of(0) == PickleKind::kList || kind_of(0) == PickleKind::kTuple)) {
      std::vector<PickleId> items;
      for (const PickleId pair : at(args[0]).items) {
        const PickleValue& p = at(pair);
        if ((p.kind != PickleKind::kTuple && p.kind != PickleKind::kList) || p.items.size() != 2) {
          return opaque();
        }
        items.push_back(p.items[0]);
        items.push_back(p.items[1]);
      }
      return make(PickleKind::kDict, std::move(items));
    }
    return opaque();
  }
  if (name == "torch.Size") {
    if (args.size() == 1 && (kind_of(0) == PickleKind::kTuple || kind_of(0) == PickleKind::kList)) {
      return make(PickleKind::kTuple, at(args[0]).items);
    }
    return opaque();
  }
  if (name == "torch.device") {
    if (args.empty() || kind_of(0) != PickleKind::kStr || args.size() > 2) return opaque();
    std::string text = at(args[0]).text;
    if (args.size() == 2) {
      if (kind_of(1) != PickleKind::kInt) return opaque();
      text += ":" + std::to_string(at(args[1]).i);
    }
    charge(text.size());
    return make_text(PickleKind::kStr, std::move(text));
  }
  if (name == "builtins.set" || name == "__builtin__.set" || name == "builtins.frozenset" ||
      name == "__builtin__.frozenset") {
    if (args.empty()) return make(PickleKind::kSet);
    if (args.size() == 1 && (kind_of(0) == PickleKind::kList || kind_of(0) == PickleKind::kTuple ||
                             kind_of(0) == PickleKind::kSet)) {
      return make(PickleKind::kSet, at(args[0]).items);
    }
    return opaque();
  }
  if (name == "builtins.slice" || name == "__builtin__.slice") {
    return make(PickleKind::kTuple, args);
  }
  if (name == "_codecs.encode") {
    // Protocol 2 writes bytes b as _codecs.encode(b.decode('latin1'), 'latin1').
    if (args.size() != 2 || kind_of(0) != PickleKind::kStr || kind_of(1) != PickleKind::kStr) {
      return opaque();
    }
    const std::string& codec = at(args[1]).text;
    if (codec != "latin1" && codec != "latin-1") return opaque();
    const std::string text = at(args[0]).text;
    std::string out;
    for (std::size_t k = 0; k < text.size(); ++k) {
      const auto c = static_cast<unsigned char>(text[k]);
      if (c < 0x80) {
        out += static_cast<char>(c);
      } else if ((c == 0xC2 || c == 0xC3) && k + 1 < text.size()) {
        out +=
            static_cast<char>(((c & 0x03) << 6) | (static_cast<unsigned char>(text[k + 1]) & 0x3F));
        ++k;
      } else {
        return opaque();  // a code point beyond Latin-1: Python would raise
      }
    }
    charge(out.size());
    return make_text(PickleKind::kBytes, std::move(out));
  }
  return opaque();
}

PickleId Machine::new_object(PickleId cls, PickleId args) {
  const PickleValue& c = at(cls);
  if (c.kind == PickleKind::kGlobal) {
    if (c.text == "collections.OrderedDict") return make(PickleKind::kDict);
    if (c.text == "builtins.set" || c.text == "builtins.frozenset") return make(PickleKind::kSet);
    if (c.text == "torch.Size") return call(cls, args, 0);
    return make_opaque("instance of " + c.text, {cls, args});
  }
  return make_opaque("instance of a " + std::string(pickle_kind_name(c.kind)), {cls, args});
}

// BUILD sets an object's state. Dicts keep their items (an OrderedDict's state is its
// attributes, e.g. a state dict's _metadata), tensors their data; opaque values carry it.
void Machine::build(PickleId target, PickleId state) {
  PickleValue& t = v_.values[target];
  if (t.kind == PickleKind::kOpaque) {
    count_items(1);
    t.items.push_back(state);
  }
}

void Machine::extend(PickleId target, const std::vector<PickleId>& items, bool pairs,
                     const char* what) {
  PickleValue& t = v_.values[target];
  const bool ok = t.kind == PickleKind::kOpaque ||
                  (pairs ? t.kind == PickleKind::kDict
                         : (t.kind == PickleKind::kList ||
                            (t.kind == PickleKind::kSet && std::strcmp(what, "ADDITEMS") == 0)));
  if (!ok) fail(std::string(what) + " into a " + pickle_kind_name(t.kind));
  if (pairs && items.size() % 2 != 0) fail("odd number of items for a dict");
  count_items(items.size());
  t.items.insert(t.items.end(), items.begin(), items.end());
}

PickleId Machine::run() {
  for (;;) {
    op_pos_ = pos_;
    op_ = 0;
    need(1);
    op_ = data_[pos_++];
    switch (op_) {
      case 0x80: {  // PROTO
        const auto proto = read_le(1);
        if (proto > 5) fail("protocol " + std::to_string(proto) + " is newer than 5");
        break;
      }
      case 0x95: {  // FRAME: a length hint only
        const std::uint64_t n = read_le(8);
        need(n);
        break;
      }
      case '.': {
        const PickleId root = pop();
        return root;
      }
      case '(':
        if (marks_.size() >= limits_.max_marks) fail("MARKs nested too deep");
        marks_.push_back(stack_.size());
        break;
      case '0':
        if (stack_.size() > floor()) {
          stack_.pop_back();
        } else {
          pop_mark();
        }
        break;
      case '1':
        pop_mark();
        break;
      case '2':
        push(top());
        break;
      case 'F':
        push(parse_float_text(read_line()));
        break;
      case 'I':
        push(parse_int_text(read_line(), true));
        break;
      case 'L':
        push(parse_int_text(read_line(), false));
        break;
      case 'J': {
        const auto u = static_cast<std::uint32_t>(read_le(4));
        std::int32_t i = 0;
        std::memcpy(&i, &u, sizeof i);
        push(make_int(i));
        break;
      }
      case 'K':
        push(make_int(static_cast<std::int64_t>(read_le(1))));
        break;
      case 'M':
        push(make_int(static_cast<std::int64_t>(read_le(2))));
        break;
      case 0x8a:
        push(decode_long(read_bytes(read_le(1))));
        break;
      case 0x8b: {
        const auto n = static_cast<std::uint32_t>(read_le(4));
        if (n > 0x7FFFFFFFu) fail("negative length");
        push(decode_long(read_bytes(n)));
        break;
      }
      case 'G': {
        std::uint64_t bits = 0;
        need(8);
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | data_[pos_ + static_cast<std::size_t>(k)];
        pos_ += 8;
        PickleValue value;
        value.kind = PickleKind::kFloat;
        std::memcpy(&value.f, &bits, sizeof bits);
        push(make(std::move(value)));
        break;
      }
      case 0x88:
      case 0x89: {
        PickleValue value;
        value.kind = PickleKind::kBool;
        value.i = op_ == 0x88 ? 1 : 0;
        push(make(std::move(value)));
        break;
      }
      case 'N':
        push(make(PickleKind::kNone));
        break;
      case 'X':
        push(make_str(read_bytes(read_le(4))));
        break;
      case 0x8c:
        push(make_str(read_bytes(read_le(1))));
        break;
      case 0x8d:
        push(make_str(read_bytes(read_le(8))));
        break;
      case 'V':
        push(make_str(decode_raw_unicode_escape(read_line())));
        break;
      case 'S':
      case 'T':
      case 'U': {
        std::string text;
        if (op_ == 'S') {
          text = decode_string_literal(read_line());
        } else if (op_ == 'T') {
          const auto n = static_cast<std::uint32_t>(read_le(4));
          if (n > 0x7FFFFFFFu) fail("negative length");
          text = read_bytes(n);
        } else {
          text = read_bytes(read_le(1));
        }
        // Python 2 strings; torch.load decodes them as UTF-8, bytes when that fails.
        push(valid_utf8(text) ? make_text(PickleKind::kStr, std::move(text))
                              : make_text(PickleKind::kBytes, std::move(text)));
        break;
      }
      case 'B':
        push(make_text(PickleKind::kBytes, read_bytes(read_le(4))));
        break;
      case 'C':
        push(make_text(PickleKind::kBytes, read_bytes(read_le(1))));
        break;
      case 0x8e:
      case 0x96:
        push(make_text(PickleKind::kBytes, read_bytes(read_le(8))));
        break;
      case ']':
        push(make(PickleKind::kList));
        break;
      case '}':
        push(make(PickleKind::kDict));
        break;
      case ')':
        push(make(PickleKind::kTuple));
        break;
      case 0x8f:
        push(make(PickleKind::kSet));
        break;
      case 't':
        push(make(PickleKind::kTuple, pop_mark()));
        break;
      case 0x85:
      case 0x86:
      case 0x87: {
        const std::size_t n = static_cast<std::size_t>(op_ - 0x84);
        std::vector<PickleId> items(n);
        for (std::size_t k = n; k-- > 0;) items[k] = pop();
        push(make(PickleKind::kTuple, std::move(items)));
        break;
      }
      case 'l':
        push(make(PickleKind::kList, pop_mark()));
        break;
      case 'd': {
        std::vector<PickleId> items = pop_mark();
        if (items.size() % 2 != 0) fail("odd number of items for a dict");
        push(make(PickleKind::kDict, std::move(items)));
        break;
      }
      case 0x91:
        push(make(PickleKind::kSet, pop_mark()));
        break;
      case 'a': {
        const PickleId item = pop();
        extend(top(), {item}, false, "APPEND");
        break;
      }
      case 'e': {
        const std::vector<PickleId> items = pop_mark();
        extend(top(), items, false, "APPENDS");
        break;
      }
      case 's': {
        const PickleId value = pop();
        const PickleId key = pop();
        extend(top(), {key, value}, true, "SETITEM");
        break;
      }
      case 'u': {
        const std::vector<PickleId> items = pop_mark();
        extend(top(), items, true, "SETITEMS");
        break;
      }
      case 0x90: {
        const std::vector<PickleId> items = pop_mark();
        extend(top(), items, false, "ADDITEMS");
        break;
      }
      case 'g':
        memo_get(parse_index(read_line()));
        break;
      case 'h':
        memo_get(read_le(1));
        break;
      case 'j':
        memo_get(read_le(4));
        break;
      case 'p':
        memo_put(parse_index(read_line()));
        break;
      case 'q':
        memo_put(read_le(1));
        break;
      case 'r':
        memo_put(read_le(4));
        break;
      case 0x94:
        memo_put(memo_.size());
        break;
      case 'c': {
        std::string module = read_line();
        const std::string name = read_line();
        if (!valid_utf8(module) || !valid_utf8(name)) fail("global name is not UTF-8");
        push(make_text(PickleKind::kGlobal, module + "." + name));
        break;
      }
      case 0x93: {
        const PickleId name = pop();
        const PickleId module = pop();
        if (at(name).kind != PickleKind::kStr || at(module).kind != PickleKind::kStr) {
          fail("STACK_GLOBAL needs two strings, found " + describe(module) + " and " +
               describe(name));
        }
        std::string text = at(module).text + "." + at(name).text;
        charge(text.size());
        push(make_text(PickleKind::kGlobal, std::move(text)));
        break;
      }
      case 'R': {
        const PickleId args = pop();
        const PickleId callable = pop();
        push(call(callable, args, 0));
        break;
      }
      case 0x81: {
        const PickleId args = pop();
        const PickleId cls = pop();
        push(new_object(cls, args));
        break;
      }
      case 0x92: {
        const PickleId kwargs = pop();
        const PickleId args = pop();
        const PickleId cls = pop();
        const PickleId object = new_object(cls, args);
        if (at(object).kind == PickleKind::kOpaque) {
          count_items(1);
          v_.values[object].items.push_back(kwargs);
        }
        push(object);
        break;
      }
      case 'i': {
        const std::string module = read_line();
        const std::string name = read_line();
        if (!valid_utf8(module) || !valid_utf8(name)) fail("global name is not UTF-8");
        push(make_opaque("instance of " + module + "." + name, pop_mark()));
        break;
      }
      case 'o': {
        std::vector<PickleId> items = pop_mark();
        if (items.empty()) fail("OBJ without a class");
        const PickleId cls = items[0];
        items.erase(items.begin());
        const PickleId args = make(PickleKind::kTuple, std::move(items));
        push(new_object(cls, args));
        break;
      }
      case 'b': {
        const PickleId state = pop();
        build(top(), state);
        break;
      }
      case 'Q':
        push(persistent(pop()));
        break;
      case 'P': {
        std::string id = read_line();
        push(make_opaque("persistent id '" + id + "'", {}));
        break;
      }
      case 0x82:
      case 0x83:
      case 0x84:
        fail("extension registry codes are not supported");
      case 0x97:
      case 0x98:
        fail("out-of-band buffers are not supported");
      default:
        fail("unknown opcode");
    }
  }
}

}  // namespace

PickleId unpickle(PickleValues& values, const std::uint8_t* data, std::size_t size,
                  std::size_t& pos, const std::string& file, const std::string& where,
                  std::size_t base, const PickleLimits& limits) {
  RP_CHECK(pos <= size, "torch file " + file, "pickle starts past the end of its bytes");
  Machine machine(values, data, size, pos, file, where, base, limits);
  const PickleId root = machine.run();
  pos = machine.pos();
  return root;
}

}  // namespace rp
