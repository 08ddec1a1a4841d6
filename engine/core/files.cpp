#include "engine/core/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "engine/core/error.h"

namespace rp {

std::uint64_t regular_file_size(const std::string& path) {
  struct stat st {};
  RP_CHECK(::stat(path.c_str(), &st) == 0, "read_file",
           "cannot open " << path << ": " << std::strerror(errno));
  RP_CHECK(S_ISREG(st.st_mode), "read_file",
           path << " is not a regular file ("
                << (S_ISDIR(st.st_mode) ? "a directory" : "a device, FIFO or socket") << ")");
  return static_cast<std::uint64_t>(st.st_size);
}

std::string read_file_range(const std::string& path, std::uint64_t offset, std::uint64_t n) {
  const std::uint64_t size = regular_file_size(path);
  RP_CHECK(offset <= size && n <= size - offset, "read_file",
           path << " holds " << size << " bytes; bytes [" << offset << ", +" << n
                << ") were asked for (truncated file?)");
  std::ifstream in(path, std::ios::binary);
  RP_CHECK(in.good(), "read_file", "cannot open " << path << ": " << std::strerror(errno));
  std::string bytes(n, '\0');
  in.seekg(static_cast<std::streamoff>(offset));
  in.read(bytes.data(), static_cast<std::streamsize>(n));
  RP_CHECK(in.good() && static_cast<std::uint64_t>(in.gcount()) == n, "read_file",
           "read error in " << path << " (the file changed while it was read?)");
  return bytes;
}

std::string read_file(const std::string& path, std::uint64_t max_bytes) {
  const std::uint64_t size = regular_file_size(path);
  RP_CHECK(
      size <= max_bytes, "read_file",
      path << " is " << size << " bytes, more than the " << max_bytes << " this reader accepts");
  return read_file_range(path, 0, size);
}

namespace {

// fsync of a path (a file, or a directory to make a rename durable).
bool sync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags);
  if (fd < 0) return false;
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  return ok;
}

}  // namespace

void write_file_atomic(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    RP_CHECK(out.good(), "write_file", "cannot create " << tmp << ": " << std::strerror(errno));
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    out.flush();
    if (!out.good()) {
      const int err = errno;
      std::remove(tmp.c_str());
      RP_FAIL("write_file", "cannot write " << path << ": "
                                            << (err != 0 ? std::strerror(err) : "write failed")
                                            << " (disk full?); the file there, if any, is "
                                               "unchanged");
    }
  }
  // The data reaches the disk before the name does, so a crash leaves the old file or the
  // new one, never an empty one.
  if (!sync_path(tmp, O_RDONLY)) {
    const int err = errno;
    std::remove(tmp.c_str());
    RP_FAIL("write_file", "cannot sync " << tmp << ": " << std::strerror(err));
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    std::remove(tmp.c_str());
    RP_FAIL("write_file", "cannot rename " << tmp << " to " << path << ": " << std::strerror(err));
  }
  const std::string dir = std::filesystem::path(path).parent_path().string();
  sync_path(dir.empty() ? "." : dir, O_RDONLY | O_DIRECTORY);  // best effort: not all filesystems
}

void make_directories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  RP_CHECK(!ec && std::filesystem::is_directory(path), "make_directories",
           "cannot create directory " << path << ": " << ec.message());
}

}  // namespace rp
