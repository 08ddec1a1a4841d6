// Lists and names given on the command line: image indices, coordinates, image pairs and
// classes. Each throws rp::Error naming the command and the flag.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace rp::cli {

// "3,5,8" -> indices (checked against the data later).
std::vector<std::int64_t> parse_indices(const std::string& text, const std::string& command,
                                        const std::string& flag);
std::vector<std::int32_t> parse_coordinates(const std::string& text, const std::string& command,
                                            const std::string& flag);
// "0:1,4:7" -> pairs of indices.
std::vector<std::pair<std::int64_t, std::int64_t>> parse_pairs(const std::string& text,
                                                               const std::string& command,
                                                               const std::string& flag);
// A class by name or index, among the model's classes.
std::int32_t class_index(const std::string& text, const std::vector<std::string>& classes,
                         const std::string& command, const std::string& flag);
}  // namespace rp::cli
