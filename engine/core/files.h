// Whole-file reads and atomic writes. Every file the engine writes (checkpoints, figures,
// manifests) goes through write_file_atomic: a temporary file in the same directory, renamed
// once complete, so a crash or a full disk never leaves half a file under the real name.
#pragma once

#include <cstdint>
#include <string>

namespace rp {

// The size of a regular file; rp::Error naming the path for a missing file, a directory, a
// device (/dev/zero never ends), a FIFO or a socket.
std::uint64_t regular_file_size(const std::string& path);

// The whole file, after checking it is a regular file of at most max_bytes (so a reader never
// reads an unknown file into memory unbounded). Throws rp::Error naming the path.
std::string read_file(const std::string& path, std::uint64_t max_bytes = std::uint64_t{1} << 34);
// Bytes [offset, offset + n) of a file, which must hold them.
std::string read_file_range(const std::string& path, std::uint64_t offset, std::uint64_t n);
void write_file_atomic(const std::string& path, const std::string& bytes);
void make_directories(const std::string& path);  // like mkdir -p

}  // namespace rp
