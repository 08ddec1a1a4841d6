#include <gtest/gtest.h>

#include <string>

#include "engine/core/amount.h"
#include "engine/core/error.h"

namespace rp {
namespace {

TEST(Amount, NumbersAndFractions) {
  EXPECT_DOUBLE_EQ(parse_amount("0.5", "eps"), 0.5);
  EXPECT_DOUBLE_EQ(parse_amount("8/255", "eps"), 8.0 / 255);
  EXPECT_DOUBLE_EQ(parse_amount("2.5e-2", "eps"), 0.025);
  EXPECT_DOUBLE_EQ(parse_amount("-1/4", "eps"), -0.25);  // the caller decides about signs
  EXPECT_DOUBLE_EQ(Amount{"10/255"}.value("alpha"), 10.0 / 255);
}

TEST(Amount, MalformedTextIsRefusedByName) {
  for (const char* bad :
       {"abc", "8/0", "nan", "inf", "1/2/3", "", " 1", "1 ", "8/", "/255", "0x"}) {
    try {
      parse_amount(bad, "--eps");
      ADD_FAILURE() << "'" << bad << "' accepted";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("--eps"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace rp
