#include "lib/core/rational.hpp"

#include <algorithm>

#include "lib/core/error.hpp"

namespace llcb {
namespace {

int128 checked_mul(int128 a, int128 b) {
  int128 r;
  if (__builtin_mul_overflow(a, b, &r)) throw RuntimeError("exact arithmetic overflowed 128 bits");
  return r;
}

int128 checked_add(int128 a, int128 b) {
  int128 r;
  if (__builtin_add_overflow(a, b, &r)) throw RuntimeError("exact arithmetic overflowed 128 bits");
  return r;
}

int128 abs128(int128 v) { return v < 0 ? -v : v; }

int128 gcd128(int128 a, int128 b) {
  a = abs128(a);
  b = abs128(b);
  while (b != 0) {
    const int128 t = a % b;
    a = b;
    b = t;
  }
  return a;
}

}  // namespace

std::string int128_to_string(int128 v) {
  if (v == 0) return "0";
  const bool negative = v < 0;
  // Work with negative values so that the minimum int128 does not overflow on negation.
  int128 n = negative ? v : -v;
  std::string digits;
  while (n != 0) {
    digits.push_back(static_cast<char>('0' - static_cast<int>(n % 10)));
    n /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

Rational Rational::of(int128 num, int128 den) {
  if (den == 0) throw InternalError("rational with zero denominator");
  if (den < 0) {
    num = -num;
    den = -den;
  }
  const int128 g = gcd128(num, den);
  Rational r;
  r.num_ = g > 1 ? num / g : num;
  r.den_ = g > 1 ? den / g : den;
  return r;
}

Rational Rational::operator+(const Rational& o) const {
  return of(checked_add(checked_mul(num_, o.den_), checked_mul(o.num_, den_)),
            checked_mul(den_, o.den_));
}

Rational Rational::operator-(const Rational& o) const {
  return *this + Rational::of(-o.num_, o.den_);
}

Rational Rational::operator*(const Rational& o) const {
  return of(checked_mul(num_, o.num_), checked_mul(den_, o.den_));
}

std::strong_ordering Rational::operator<=>(const Rational& o) const {
  const int128 lhs = checked_mul(num_, o.den_);
  const int128 rhs = checked_mul(o.num_, den_);
  if (lhs < rhs) return std::strong_ordering::less;
  if (lhs > rhs) return std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

double Rational::to_double() const {
  const int128 whole = num_ / den_;
  const int128 rest = num_ % den_;
  return static_cast<double>(whole) + static_cast<double>(rest) / static_cast<double>(den_);
}

std::string Rational::to_string() const {
  if (den_ == 1) return int128_to_string(num_);
  return int128_to_string(num_) + "/" + int128_to_string(den_);
}

std::string Rational::to_decimal(int places) const {
  if (places < 0 || places > 30) throw InternalError("decimal places out of range");
  int128 scale = 1;
  for (int i = 0; i < places; ++i) scale *= 10;
  const bool negative = num_ < 0;
  const int128 a = abs128(num_);
  // round(a * scale / den) half away from zero
  const int128 scaled = (checked_add(checked_mul(checked_mul(a, scale), 2), den_)) / (2 * den_);
  std::string whole = int128_to_string(scaled / scale);
  std::string frac = int128_to_string(scaled % scale);
  frac.insert(0, static_cast<std::size_t>(places) - frac.size(), '0');
  while (!frac.empty() && frac.back() == '0') frac.pop_back();
  std::string out = (negative && scaled != 0 ? "-" : "") + whole;
  if (!frac.empty()) out += "." + frac;
  return out;
}

}  // namespace llcb
