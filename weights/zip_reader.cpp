#include "weights/zip_reader.h"

#include <algorithm>
#include <array>
#include <vector>

#include "engine/core/error.h"

namespace rp {
namespace {

constexpr std::uint32_t kLocalHeader = 0x04034b50;
constexpr std::uint32_t kCentralHeader = 0x02014b50;
constexpr std::uint32_t kEndOfCentralDir = 0x06054b50;
constexpr std::uint32_t kZip64EndOfCentralDir = 0x06064b50;
constexpr std::uint32_t kZip64Locator = 0x07064b50;
constexpr std::size_t kEocdSize = 22;
constexpr std::size_t kCentralSize = 46;
constexpr std::size_t kLocalSize = 30;

std::uint64_t le(const std::uint8_t* p, std::size_t n) {
  std::uint64_t x = 0;
  for (std::size_t k = n; k-- > 0;) x = (x << 8) | p[k];
  return x;
}

std::uint32_t crc32(const std::uint8_t* p, std::uint64_t n) {
  static const std::array<std::uint32_t, 256> table = [] {
    std::array<std::uint32_t, 256> t{};
    for (std::uint32_t i = 0; i < 256; ++i) {
      std::uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  std::uint32_t c = 0xFFFFFFFFu;
  for (std::uint64_t i = 0; i < n; ++i) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

// [begin, begin + n) lies inside [0, size).
bool inside(std::uint64_t begin, std::uint64_t n, std::uint64_t size) {
  return begin <= size && n <= size - begin;
}

}  // namespace

const ZipEntry* ZipReader::find(const std::string& entry) const {
  const auto it = entries_.find(entry);
  return it == entries_.end() ? nullptr : &it->second;
}

ZipReader ZipReader::index(const std::uint8_t* data, std::size_t size, const std::string& name) {
  const std::string op = "zip " + name;
  RP_CHECK(size >= kEocdSize, op, "truncated: " << size << " bytes, no end-of-central-directory");

  // The end record sits within the last 22 + 65535 (its comment) bytes.
  std::size_t eocd = size;
  const std::size_t lowest = size - kEocdSize > 0xFFFF ? size - kEocdSize - 0xFFFF : 0;
  for (std::size_t p = size - kEocdSize + 1; p-- > lowest;) {
    if (le(data + p, 4) == kEndOfCentralDir && le(data + p + 20, 2) == size - p - kEocdSize) {
      eocd = p;
      break;
    }
  }
  RP_CHECK(eocd != size, op, "no end-of-central-directory record (not a zip, or truncated)");
  const std::uint8_t* e = data + eocd;
  std::uint64_t disk = le(e + 4, 2), cd_disk = le(e + 6, 2);
  std::uint64_t count_disk = le(e + 8, 2), count = le(e + 10, 2);
  std::uint64_t cd_size = le(e + 12, 4), cd_offset = le(e + 16, 4);
  if (count == 0xFFFF || count_disk == 0xFFFF || cd_size == 0xFFFFFFFFu ||
      cd_offset == 0xFFFFFFFFu) {
    RP_CHECK(eocd >= 20 && le(data + eocd - 20, 4) == kZip64Locator, op,
             "the end record asks for zip64 but there is no zip64 locator");
    const std::uint64_t z = le(data + eocd - 20 + 8, 8);
    RP_CHECK(inside(z, 56, eocd - 20) && le(data + z, 4) == kZip64EndOfCentralDir, op,
             "the zip64 end record at " << z << " is missing or outside the archive");
    disk = le(data + z + 16, 4);
    cd_disk = le(data + z + 20, 4);
    count_disk = le(data + z + 24, 8);
    count = le(data + z + 32, 8);
    cd_size = le(data + z + 40, 8);
    cd_offset = le(data + z + 48, 8);
  }
  RP_CHECK(disk == 0 && cd_disk == 0 && count_disk == count, op,
           "multi-disk archives are not supported");
  RP_CHECK(inside(cd_offset, cd_size, eocd), op,
           "central directory [" << cd_offset << ", +" << cd_size << ") lies outside the " << eocd
                                 << " bytes before the end record");
  RP_CHECK(count <= cd_size / kCentralSize, op,
           count << " entries cannot fit a central directory of " << cd_size << " bytes");

  struct Span {
    std::uint64_t begin, end;
    std::string name;
  };
  std::vector<Span> spans;
  ZipReader reader;
  std::uint64_t p = cd_offset;
  const std::uint64_t cd_end = cd_offset + cd_size;
  for (std::uint64_t i = 0; i < count; ++i) {
    RP_CHECK(inside(p, kCentralSize, cd_end) && le(data + p, 4) == kCentralHeader, op,
             "central directory entry " << i << " at byte " << p << " is corrupt");
    const std::uint8_t* c = data + p;
    const std::uint64_t flags = le(c + 8, 2), method = le(c + 10, 2), crc = le(c + 16, 4);
    std::uint64_t csize = le(c + 20, 4), usize = le(c + 24, 4);
    const std::uint64_t name_len = le(c + 28, 2), extra_len = le(c + 30, 2),
                        comment_len = le(c + 32, 2);
    std::uint64_t entry_disk = le(c + 34, 2), local = le(c + 42, 4);
    RP_CHECK(inside(p + kCentralSize, name_len + extra_len + comment_len, cd_end), op,
             "central directory entry " << i << " runs past the directory");
    const std::string entry(reinterpret_cast<const char*>(c + kCentralSize),
                            static_cast<std::size_t>(name_len));
    const std::string where = "entry '" + entry + "'";
    // zip64 extra field: the 64-bit values of the fields saturated above, in this order.
    const std::uint8_t* x = c + kCentralSize + name_len;
    const std::uint8_t* x_end = x + extra_len;
    while (x_end - x >= 4) {
      const std::uint64_t id = le(x, 2), len = le(x + 2, 2);
      RP_CHECK(static_cast<std::uint64_t>(x_end - x - 4) >= len, op,
               where << ": extra field runs past its entry");
      if (id == 0x0001) {
        const std::uint8_t* f = x + 4;
        std::uint64_t left = len;
        const auto take = [&](std::uint64_t& field, std::size_t n) {
          RP_CHECK(left >= n, op, where << ": zip64 extra field too short");
          field = le(f, n);
          f += n;
          left -= n;
        };
        if (usize == 0xFFFFFFFFu) take(usize, 8);
        if (csize == 0xFFFFFFFFu) take(csize, 8);
        if (local == 0xFFFFFFFFu) take(local, 8);
        if (entry_disk == 0xFFFF) take(entry_disk, 4);
      }
      x += 4 + len;
    }
    RP_CHECK(entry_disk == 0, op, where << ": multi-disk archives are not supported");
    RP_CHECK((flags & 0x41) == 0, op, where << " is encrypted");
    RP_CHECK(method == 0, op,
             where << " is compressed (method " << method
                   << "); torch.save stores entries uncompressed");
    RP_CHECK(csize == usize, op,
             where << ": stored entry with compressed size " << csize << " != size " << usize);

    // The local header repeats the name; its own sizes may be zero (data descriptor).
    RP_CHECK(inside(local, kLocalSize, cd_offset) && le(data + local, 4) == kLocalHeader, op,
             where << ": local header offset " << local << " does not point at a local header");
    const std::uint8_t* l = data + local;
    const std::uint64_t lname = le(l + 26, 2), lextra = le(l + 28, 2);
    RP_CHECK(lname == name_len && inside(local + kLocalSize, lname + lextra, cd_offset) &&
                 std::equal(l + kLocalSize, l + kLocalSize + lname, c + kCentralSize),
             op, where << ": local header disagrees with the central directory");
    RP_CHECK(le(l + 8, 2) == method, op, where << ": local header has another method");
    const std::uint64_t begin = local + kLocalSize + lname + lextra;
    RP_CHECK(inside(begin, csize, cd_offset), op,
             where << ": data [" << begin << ", +" << csize << ") runs past the entries' region of "
                   << cd_offset << " bytes");
    RP_CHECK(crc32(data + begin, csize) == crc, op, where << ": CRC-32 mismatch (corrupt data)");
    RP_CHECK(reader.entries_.count(entry) == 0, op, "duplicate " << where);
    reader.entries_[entry] = ZipEntry{begin, csize};
    spans.push_back(Span{local, begin + csize, entry});
    p += kCentralSize + name_len + extra_len + comment_len;
  }
  std::sort(spans.begin(), spans.end(),
            [](const Span& a, const Span& b) { return a.begin < b.begin; });
  for (std::size_t k = 1; k < spans.size(); ++k) {
    RP_CHECK(spans[k].begin >= spans[k - 1].end, op,
             "entries '" << spans[k - 1].name << "' and '" << spans[k].name << "' overlap");
  }
  return reader;
}

}  // namespace rp
