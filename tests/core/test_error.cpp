#include <gtest/gtest.h>

#include <string>

#include "engine/core/error.h"

namespace rp {
namespace {

int check_positive(int v) {
  RP_CHECK(v > 0, "check_positive", "expected a positive value, found " << v);
  return v;
}

bool status_ok(int s) {
  return s == 0;
}
std::string status_text(int s) {
  return "status " + std::to_string(s);
}
int fake_library_call(int s) {
  return s;
}
void call_library(int s) {
  RP_CHECK_STATUS(fake_library_call(s), status_ok, status_text);
}

TEST(Error, CarriesOpDetailAndLocation) {
  EXPECT_EQ(check_positive(3), 3);
  try {
    check_positive(-4);
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.op(), "check_positive");
    EXPECT_EQ(e.detail(), "expected a positive value, found -4");
    EXPECT_TRUE(e.expression().empty());
    EXPECT_EQ(std::string(e.file()), "tests/core/test_error.cpp");  // relative to the source tree
    EXPECT_GT(e.line(), 0);
    const std::string what = e.what();
    EXPECT_EQ(what.rfind("check_positive: expected a positive value, found -4 [tests/core/", 0), 0u)
        << what;
  }
}

TEST(Error, StatusChecksNameTheFailedExpression) {
  EXPECT_NO_THROW(call_library(0));
  try {
    call_library(7);
    FAIL() << "expected rp::Error";
  } catch (const Error& e) {
    EXPECT_EQ(e.op(), "call_library");
    EXPECT_EQ(e.detail(), "status 7");
    EXPECT_EQ(e.expression(), "fake_library_call(s)");
    EXPECT_NE(std::string(e.what()).find("failed: fake_library_call(s)"), std::string::npos);
  }
}

}  // namespace
}  // namespace rp
