// Whole-file reads and atomic writes. Every file the engine writes (checkpoints, figures,
// manifests) goes through write_file_atomic: a temporary file in the same directory, renamed
// once complete, so a crash or a full disk never leaves half a file under the real name.
#pragma once

#include <string>

namespace rp {

std::string read_file(const std::string& path);  // throws rp::Error naming the path
void write_file_atomic(const std::string& path, const std::string& bytes);
void make_directories(const std::string& path);  // like mkdir -p

}  // namespace rp
