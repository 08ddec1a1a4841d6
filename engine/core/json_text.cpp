#include "engine/core/json_text.h"

#include <algorithm>
#include <sstream>

#include "engine/core/error.h"

namespace rp {

int json_nesting_depth(std::string_view text) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return deepest;
}

nlohmann::json parse_json_bounded(std::string_view text, const std::string& op, int max_depth) {
  const int depth = json_nesting_depth(text);
  RP_CHECK(depth <= max_depth, op,
           "JSON nested " << depth << " levels deep (the limit is " << max_depth << ")");
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    RP_FAIL(op, "invalid JSON: " << e.what());
  }
}

std::string json_excerpt(const nlohmann::json& v, std::size_t max_chars) {
  if (v.is_array()) return "an array of " + std::to_string(v.size()) + " values";
  if (v.is_object()) return "an object of " + std::to_string(v.size()) + " keys";
  if (v.is_string()) {
    const std::string& s = v.get_ref<const std::string&>();
    if (s.size() <= max_chars) return nlohmann::json(s).dump();
    // The cut may split a UTF-8 sequence: replace it rather than throw.
    return nlohmann::json(s.substr(0, max_chars))
               .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) +
           "... (" + std::to_string(s.size()) + " characters)";
  }
  return v.dump();  // a number, a boolean or null: short, and no nesting
}

}  // namespace rp
