// Text placed in XML or HTML (SVG figures, index.html).
#pragma once

#include <string>

namespace rp {

// & < > " escaped; control characters other than tab, newline and carriage return (not allowed
// in XML 1.0) become spaces.
std::string markup_escape(const std::string& s);

}  // namespace rp
