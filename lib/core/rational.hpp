// Exact rational numbers over 128-bit integers, for the true LLC (benchmark.md section 2), which
// must be computed without floating point until it is printed.
//
// Contract: always normalised (den > 0, gcd(|num|, den) = 1). Arithmetic is checked: a result
// that does not fit 128 bits throws RuntimeError instead of wrapping.
#pragma once

#include <compare>
#include <cstdint>
#include <string>

namespace llcb {

__extension__ typedef __int128 int128;

std::string int128_to_string(int128 v);

class Rational {
 public:
  Rational() = default;
  Rational(std::int64_t integer) : num_(integer), den_(1) {}  // NOLINT: implicit by design
  static Rational of(int128 num, int128 den);

  int128 num() const { return num_; }
  int128 den() const { return den_; }

  Rational operator+(const Rational& o) const;
  Rational operator-(const Rational& o) const;
  Rational operator*(const Rational& o) const;
  bool operator==(const Rational& o) const = default;
  std::strong_ordering operator<=>(const Rational& o) const;

  double to_double() const;
  // "47/2", or "23" when the denominator is 1.
  std::string to_string() const;
  // Decimal with at most `places` fractional digits, rounded half away from zero, trailing zeros
  // (and a trailing point) removed: 47/2 -> "23.5", 1/3 -> "0.333333" at 6 places, 50 -> "50".
  std::string to_decimal(int places) const;

 private:
  int128 num_ = 0;
  int128 den_ = 1;
};

}  // namespace llcb
