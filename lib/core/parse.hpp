// Strict parsing of user-supplied text (CLI arguments, config values). Every function throws
// UsageError with a one-line message naming `what` (for example "--widths") on bad input:
// empty text, signs where none are allowed, trailing characters, overflow, out-of-range values.
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace llcb {

// A decimal integer in [min, max]; no sign, spaces or other characters allowed unless min < 0,
// in which case a leading '-' is accepted.
std::int64_t parse_int(std::string_view text, std::string_view what, std::int64_t min,
                       std::int64_t max);

// The largest finite double: parse_double's `max` where a value has no upper bound.
constexpr double kHuge = std::numeric_limits<double>::max();

// A finite decimal or scientific number ("1e-7", "0.5") in [min, max]; nan, inf, hex floats and
// trailing characters are errors.
double parse_double(std::string_view text, std::string_view what, double min, double max);

// "on|off|true|false|yes|no|1|0" (case-sensitive, lower case).
bool parse_bool(std::string_view text, std::string_view what);

// A comma-separated list of integers, each in [min, max]; empty items and an empty list are errors.
std::vector<std::int64_t> parse_int_list(std::string_view text, std::string_view what,
                                         std::int64_t min, std::int64_t max);

// A log-spaced grid written START:STOP:PER_DECADE (for example 1e-10:1e-4:2), as log_grid of
// lib/core/log_grid.hpp; `what` names the option or key in the UsageError of a malformed grid, one
// with STOP below START, or one of more than 200 points. per_decade receives PER_DECADE.
std::vector<double> parse_log_grid(const std::string& text, const std::string& what, std::int64_t& per_decade);

std::string join_ints(const std::vector<std::int64_t>& values, std::string_view sep = ",");

}  // namespace llcb
