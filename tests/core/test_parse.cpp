#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"

namespace llcb {
namespace {

std::string usage_message(const std::function<void()>& f) {
  try {
    f();
  } catch (const UsageError& e) {
    return e.what();
  }
  return "<no UsageError>";
}

TEST(Parse, IntegersInRange) {
  EXPECT_EQ(parse_int("42", "--x", 0, 100), 42);
  EXPECT_EQ(parse_int("-5", "--x", -10, 10), -5);
  EXPECT_EQ(parse_int("0", "--x", 0, 0), 0);
}

TEST(Parse, RejectsMalformedIntegersWithTheOptionName) {
  EXPECT_NE(usage_message([] { parse_int("", "--x", 0, 9); }).find("--x: empty"), std::string::npos);
  EXPECT_NE(usage_message([] { parse_int("abc", "--x", 0, 9); }).find("not an integer"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int("5.5", "--x", 0, 9); }).find("not an integer"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int(" 5", "--x", 0, 9); }).find("not an integer"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int("-3", "--x", 0, 9); }).find("negative"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int("10", "--x", 0, 9); }).find("out of range"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int("99999999999999999999", "--x", 0, 9); })
                .find("out of range"),
            std::string::npos);
}

TEST(Parse, Lists) {
  EXPECT_EQ(parse_int_list("5,3,5", "--w", 1, 9), (std::vector<std::int64_t>{5, 3, 5}));
  EXPECT_EQ(parse_int_list("7", "--w", 1, 9), (std::vector<std::int64_t>{7}));
  EXPECT_NE(usage_message([] { parse_int_list("", "--w", 1, 9); }).find("empty list"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int_list("5,,3", "--w", 1, 9); }).find("empty item"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int_list("5,3,", "--w", 1, 9); }).find("empty item"),
            std::string::npos);
  EXPECT_NE(usage_message([] { parse_int_list("5,0", "--w", 1, 9); }).find("out of range"),
            std::string::npos);
  EXPECT_EQ(join_ints({1, 22, 333}), "1,22,333");
}

}  // namespace
}  // namespace llcb
