#include "engine/core/amount.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

#include "engine/core/error.h"

namespace rp {
namespace {

// A finite number spanning the whole of `s`.
bool parse_number(const std::string& s, double& out) {
  if (s.empty() || std::isspace(static_cast<unsigned char>(s.front()))) return false;
  char* end = nullptr;
  errno = 0;
  out = std::strtod(s.c_str(), &end);
  return errno == 0 && end == s.c_str() + s.size() && std::isfinite(out);
}

}  // namespace

double parse_amount(const std::string& text, const std::string& what) {
  const auto slash = text.find('/');
  double value = 0;
  if (slash == std::string::npos) {
    RP_CHECK(parse_number(text, value), what,
             "expected a number or a fraction such as 8/255, found '" << text << "'");
    return value;
  }
  double num = 0, den = 0;
  RP_CHECK(parse_number(text.substr(0, slash), num) && parse_number(text.substr(slash + 1), den),
           what, "expected a number or a fraction such as 8/255, found '" << text << "'");
  RP_CHECK(den != 0, what, "division by zero in '" << text << "'");
  value = num / den;
  RP_CHECK(std::isfinite(value), what, "'" << text << "' is not finite");
  return value;
}

}  // namespace rp
