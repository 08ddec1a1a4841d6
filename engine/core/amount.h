// Amounts written as a number or a fraction, as attack strengths are quoted: "0.5", "8/255",
// "2.5e-2", "10/255". Anything else - "abc", "8/0", "nan", "1/2/3", trailing text - is an
// rp::Error naming `what` and the text.
#pragma once

#include <string>

namespace rp {

double parse_amount(const std::string& text, const std::string& what);

// An amount as the user wrote it ("8/255"), kept as text so configs and checkpoints record it
// verbatim; value() parses it.
struct Amount {
  std::string text;
  bool empty() const { return text.empty(); }
  double value(const std::string& what) const { return parse_amount(text, what); }
  bool operator==(const Amount& o) const { return text == o.text; }
};

}  // namespace rp
