#include "tools/robustprior/list_flags.h"

#include <nlohmann/json.hpp>
#include <sstream>

#include "engine/core/error.h"

namespace rp::cli {
namespace {

long long parse_integer(const std::string& item, const std::string& command,
                        const std::string& flag) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(item, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  RP_CHECK(used == item.size() && !item.empty(), command,
           flag << ": expected an integer, found '" << item << "'");
  return v;
}

std::vector<std::string> split_list(const std::string& text, char sep) {
  std::vector<std::string> out;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, sep);) out.push_back(item);
  if (!text.empty() && text.back() == sep) out.emplace_back();
  return out;
}

}  // namespace

std::vector<std::int64_t> parse_indices(const std::string& text, const std::string& command,
                                        const std::string& flag) {
  std::vector<std::int64_t> out;
  for (const std::string& item : split_list(text, ',')) {
    const long long v = parse_integer(item, command, flag);
    RP_CHECK(v >= 0, command, flag << ": image indices are >= 0, found " << v);
    out.push_back(v);
  }
  RP_CHECK(!out.empty() && out.size() <= 1024, command,
           flag << ": choose 1 to 1024 images, found " << out.size());
  return out;
}

std::vector<std::int32_t> parse_coordinates(const std::string& text, const std::string& command,
                                            const std::string& flag) {
  std::vector<std::int32_t> out;
  for (const std::string& item : split_list(text, ',')) {
    const long long v = parse_integer(item, command, flag);
    RP_CHECK(v >= 0 && v < (1ll << 31), command, flag << ": coordinates are >= 0, found " << v);
    out.push_back(static_cast<std::int32_t>(v));
  }
  RP_CHECK(!out.empty(), command, flag << ": no coordinates");
  return out;
}

std::vector<std::pair<std::int64_t, std::int64_t>> parse_pairs(const std::string& text,
                                                               const std::string& command,
                                                               const std::string& flag) {
  std::vector<std::pair<std::int64_t, std::int64_t>> out;
  for (const std::string& item : split_list(text, ',')) {
    const std::vector<std::string> lr = split_list(item, ':');
    RP_CHECK(lr.size() == 2, command,
             flag << ": expected pairs LEFT:RIGHT separated by commas, found '" << item << "'");
    const long long l = parse_integer(lr[0], command, flag),
                    r = parse_integer(lr[1], command, flag);
    RP_CHECK(l >= 0 && r >= 0, command, flag << ": image indices are >= 0, found '" << item << "'");
    out.emplace_back(l, r);
  }
  RP_CHECK(!out.empty() && out.size() <= 256, command,
           flag << ": choose 1 to 256 pairs, found " << out.size());
  return out;
}

std::int32_t class_index(const std::string& text, const std::vector<std::string>& classes,
                         const std::string& command, const std::string& flag) {
  for (std::size_t i = 0; i < classes.size(); ++i) {
    if (classes[i] == text) return static_cast<std::int32_t>(i);
  }
  std::size_t used = 0;
  long long v = -1;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  RP_CHECK(used == text.size() && !text.empty(), command,
           flag << ": '" << text << "' is neither a class name nor an index (classes: "
                << nlohmann::json(classes).dump() << ")");
  RP_CHECK(v >= 0 && v < static_cast<long long>(classes.size()), command,
           flag << ": class " << v << " is outside the model's " << classes.size() << " classes");
  return static_cast<std::int32_t>(v);
}

}  // namespace rp::cli
