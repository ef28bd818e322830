#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "lib/core/error.hpp"
#include "lib/core/json.hpp"

namespace llcb {
namespace {

TEST(Json, WritesNestedDocuments) {
  JsonWriter w;
  w.begin_object();
  w.field("a", 1);
  w.field("s", "x\"y\\z\n");
  w.array("v", std::vector<std::int64_t>{1, 2});
  w.key("o").begin_object().field("b", true).end_object();
  w.field("d", 0.1);
  w.field("nan", std::numeric_limits<double>::quiet_NaN());
  w.key("raw").raw_number("12.5");
  w.end_object();
  EXPECT_EQ(w.str(),
            R"({"a":1,"s":"x\"y\\z\n","v":[1,2],"o":{"b":true},"d":0.1,"nan":null,"raw":12.5})");
}

TEST(Json, EscapesControlCharacters) { EXPECT_EQ(json_escape(std::string("\x01")), "\"\\u0001\""); }

TEST(Json, MisuseIsAnInternalError) {
  JsonWriter w;
  w.begin_object();
  EXPECT_THROW(w.value(1), InternalError);
  EXPECT_THROW(w.str(), InternalError);
  EXPECT_THROW(w.end_array(), InternalError);
}

}  // namespace
}  // namespace llcb
