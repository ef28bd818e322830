#include <gtest/gtest.h>

#include "lib/core/error.hpp"
#include "lib/dln/model_class.hpp"

namespace llcb::dln {
namespace {

TEST(ModelClass, PublishedClassesHaveThePublishedRanges) {
  const ModelClass c100k = model_class("100K");
  EXPECT_EQ(c100k.layers_min, 2);
  EXPECT_EQ(c100k.layers_max, 10);
  EXPECT_EQ(c100k.width_min, 50);
  EXPECT_EQ(c100k.width_max, 500);
  EXPECT_EQ(c100k.default_n, 1'000'000);
  EXPECT_EQ(model_class("1M").layers_max, 20);
  EXPECT_EQ(model_class("10M").width_max, 2000);
  EXPECT_EQ(model_class("100M").layers_max, 40);
  EXPECT_EQ(model_class("100M").width_max, 3000);
  EXPECT_EQ(model_class("tiny").default_n, 100'000);
  EXPECT_EQ(model_class("1K").width_min, 5);
}

TEST(ModelClass, NamesAreCaseInsensitiveAndCanonical) {
  EXPECT_EQ(model_class("100k").name, "100K");
  EXPECT_EQ(model_class("TINY").name, "tiny");
  EXPECT_EQ(builtin_class_names().size(), 7u);
  EXPECT_EQ(model_class("1B").layers_min, 2);
  EXPECT_EQ(model_class("1B").layers_max, 8);
  EXPECT_EQ(model_class("1B").width_min, 8000);
  EXPECT_EQ(model_class("1B").width_max, 16000);
}

TEST(ModelClass, CustomRanges) {
  const ModelClass c = model_class("custom:3,4,10,20");
  EXPECT_EQ(c.name, "custom:3,4,10,20");
  EXPECT_EQ(c.layers_min, 3);
  EXPECT_EQ(c.layers_max, 4);
  EXPECT_EQ(c.width_min, 10);
  EXPECT_EQ(c.width_max, 20);
  EXPECT_THROW(model_class("custom:3,4,10"), UsageError);
  EXPECT_THROW(model_class("custom:4,3,10,20"), UsageError);
  EXPECT_THROW(model_class("custom:0,3,10,20"), UsageError);
  EXPECT_THROW(model_class("custom:1,500,10,20"), UsageError);
  EXPECT_THROW(model_class("custom:"), UsageError);
}

TEST(ModelClass, UnknownNameListsTheKnownOnes) {
  try {
    model_class("200K");
    FAIL();
  } catch (const UsageError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown model class '200K'"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("100M"), std::string::npos);
  }
}

}  // namespace
}  // namespace llcb::dln
