// A reader of STORED (uncompressed) zip archives held in memory, as torch.save writes them.
//
// It finds the end-of-central-directory record (and the zip64 locator and record when the
// archive needs them), walks the central directory, and checks every entry's local header.
// Refused with an rp::Error naming the archive and the entry: compressed or encrypted
// entries, multi-disk archives, offsets and lengths outside the bytes, local headers that
// disagree with the central directory, entries that overlap, duplicate names, CRC mismatches.
// Nothing is ever extracted to disk: entries are byte ranges of the input.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

namespace rp {

struct ZipEntry {
  std::uint64_t offset = 0;  // the data's first byte in the archive
  std::uint64_t size = 0;
};

class ZipReader {
 public:
  // Indexes data[0..size); the bytes are not copied and must outlive their use.
  static ZipReader index(const std::uint8_t* data, std::size_t size, const std::string& name);

  const std::map<std::string, ZipEntry>& entries() const { return entries_; }
  const ZipEntry* find(const std::string& entry) const;

 private:
  std::map<std::string, ZipEntry> entries_;
};

}  // namespace rp
