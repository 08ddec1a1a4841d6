// JSON from files that come from elsewhere (checkpoint headers, configs): parsed with a bound
// on nesting, and quoted in error messages shortened.
//
// nlohmann's parser keeps its own stack, but dump() and the recursive walks of callers recurse
// once per level: a header nesting 100,000 arrays overflows the call stack there. So nesting is
// bounded before the parser sees the text, with a scan that does not recurse, and an offending
// value is described, not dumped whole.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace rp {

constexpr int kMaxJsonDepth = 64;

// Parses `text`; rp::Error under `op` for invalid JSON or nesting deeper than max_depth.
nlohmann::json parse_json_bounded(std::string_view text, const std::string& op,
                                  int max_depth = kMaxJsonDepth);

// The deepest nesting of arrays and objects in `text` (strings skipped), without recursion.
int json_nesting_depth(std::string_view text);

// A short rendering of `v` for an error message: scalars as JSON, long strings cut with "...",
// arrays and objects as their type and size (never walked).
std::string json_excerpt(const nlohmann::json& v, std::size_t max_chars = 60);

}  // namespace rp
