#include <gtest/gtest.h>

#include <string>

#include "lib/core/check.hpp"

namespace llcb {
namespace {

std::string describe_code(int code) { return "code " + std::to_string(code); }

int calls = 0;
int failing_call() {
  ++calls;
  return 7;
}

TEST(Check, StatusMacroEvaluatesOnceAndNamesCallPlaceAndStatus) {
  calls = 0;
  try {
    LLCB_CHECK_STATUS(failing_call(), 0, describe_code, RuntimeError);
    FAIL() << "no exception";
  } catch (const RuntimeError& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("failing_call()"), std::string::npos) << m;
    EXPECT_NE(m.find("test_check.cpp"), std::string::npos) << m;
    EXPECT_NE(m.find("code 7"), std::string::npos) << m;
    EXPECT_EQ(e.exit_code(), kExitFailure);
  }
  EXPECT_EQ(calls, 1);
  EXPECT_NO_THROW(LLCB_CHECK_STATUS(0, 0, describe_code, RuntimeError));
}

TEST(Check, RequireIsAUsageErrorWithExitCode2) {
  try {
    LLCB_REQUIRE(1 + 1 == 3, "arithmetic is broken");
    FAIL() << "no exception";
  } catch (const UsageError& e) {
    EXPECT_STREQ(e.what(), "arithmetic is broken");
    EXPECT_EQ(e.exit_code(), kExitUsage);
  }
}

TEST(Check, CheckIsAnInternalError) {
  EXPECT_THROW(LLCB_CHECK(false, "invariant"), InternalError);
  EXPECT_NO_THROW(LLCB_CHECK(true, "invariant"));
}

}  // namespace
}  // namespace llcb
