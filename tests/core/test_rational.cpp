#include <gtest/gtest.h>

#include "lib/core/error.hpp"
#include "lib/core/rational.hpp"

namespace llcb {
namespace {

TEST(Rational, NormalisesSignAndCommonFactors) {
  const Rational r = Rational::of(6, -8);
  EXPECT_EQ(r.num(), -3);
  EXPECT_EQ(r.den(), 4);
  EXPECT_EQ(r.to_string(), "-3/4");
  EXPECT_EQ(Rational::of(10, 5).to_string(), "2");
  EXPECT_EQ(Rational::of(0, 7).to_string(), "0");
}

TEST(Rational, ArithmeticAndOrdering) {
  const Rational a = Rational::of(1, 3), b = Rational::of(1, 6);
  EXPECT_EQ(a + b, Rational::of(1, 2));
  EXPECT_EQ(a - b, Rational::of(1, 6));
  EXPECT_EQ(a * b, Rational::of(1, 18));
  EXPECT_LT(b, a);
  EXPECT_GT(Rational(2), Rational::of(3, 2));
}

TEST(Rational, DecimalRoundsHalfAwayAndTrims) {
  EXPECT_EQ(Rational::of(47, 2).to_decimal(6), "23.5");
  EXPECT_EQ(Rational(50).to_decimal(6), "50");
  EXPECT_EQ(Rational::of(1, 3).to_decimal(6), "0.333333");
  EXPECT_EQ(Rational::of(2, 3).to_decimal(6), "0.666667");
  EXPECT_EQ(Rational::of(1, 8).to_decimal(2), "0.13");
  EXPECT_EQ(Rational::of(-1, 8).to_decimal(2), "-0.13");
  EXPECT_EQ(Rational::of(1, 1000).to_decimal(2), "0");
  EXPECT_DOUBLE_EQ(Rational::of(13, 2).to_double(), 6.5);
}

TEST(Rational, LargeValuesPrintExactly) {
  // 2^100 / 3 does not fit 64 bits.
  const int128 two100 = static_cast<int128>(1) << 100;
  EXPECT_EQ(int128_to_string(two100), "1267650600228229401496703205376");
  EXPECT_EQ(Rational::of(two100, 4).to_string(), "316912650057057350374175801344");
}

TEST(Rational, OverflowThrowsInsteadOfWrapping) {
  const Rational big = Rational::of(static_cast<int128>(1) << 100, 1);
  EXPECT_THROW(big * big, RuntimeError);
}

}  // namespace
}  // namespace llcb
