#include "lib/core/parse.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/log_grid.hpp"

namespace llcb {
namespace {

std::string quoted(std::string_view s) {
  std::string q(1, '\'');
  q.append(s);
  q.push_back('\'');
  return q;
}

}  // namespace

std::int64_t parse_int(std::string_view text, std::string_view what, std::int64_t min,
                       std::int64_t max) {
  const std::string name(what);
  if (text.empty()) throw UsageError(name + ": empty value, expected an integer");
  if (text.front() == '-' && min >= 0) {
    throw UsageError(name + ": " + quoted(text) + " is negative, expected an integer >= " +
                     std::to_string(min));
  }
  std::int64_t value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, value);
  if (ec == std::errc::result_out_of_range) {
    throw UsageError(name + ": " + quoted(text) + " is out of range, expected at most " +
                     std::to_string(max));
  }
  if (ec != std::errc() || end != last) {
    throw UsageError(name + ": " + quoted(text) + " is not an integer");
  }
  if (value < min || value > max) {
    throw UsageError(name + ": " + quoted(text) + " is out of range, expected " +
                     std::to_string(min) + ".." + std::to_string(max));
  }
  return value;
}

double parse_double(std::string_view text, std::string_view what, double min, double max) {
  const std::string name(what);
  if (text.empty()) throw UsageError(name + ": empty value, expected a number");
  double value = 0;
  const char* first = text.data();
  const char* last = text.data() + text.size();
  const auto [end, ec] = std::from_chars(first, last, value, std::chars_format::general);
  if (ec == std::errc::result_out_of_range) {
    throw UsageError(name + ": " + quoted(text) + " is out of the range of a double");
  }
  if (ec != std::errc() || end != last || !std::isfinite(value)) {
    throw UsageError(name + ": " + quoted(text) + " is not a finite number");
  }
  if (value < min || value > max) {
    std::ostringstream range;
    range << min << ".." << max;
    throw UsageError(name + ": " + quoted(text) + " is out of range, expected " + range.str());
  }
  return value;
}

bool parse_bool(std::string_view text, std::string_view what) {
  if (text == "on" || text == "true" || text == "yes" || text == "1") return true;
  if (text == "off" || text == "false" || text == "no" || text == "0") return false;
  throw UsageError(std::string(what) + ": " + quoted(text) + " is not on/off (or true/false)");
}

std::vector<std::int64_t> parse_int_list(std::string_view text, std::string_view what,
                                         std::int64_t min, std::int64_t max) {
  const std::string name(what);
  if (text.empty()) throw UsageError(name + ": empty list, expected comma-separated integers");
  std::vector<std::int64_t> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = text.find(',', start);
    const std::string_view item =
        text.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    if (item.empty()) throw UsageError(name + ": empty item in list " + quoted(text));
    out.push_back(parse_int(item, what, min, max));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

std::string join_ints(const std::vector<std::int64_t>& values, std::string_view sep) {
  std::string out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += sep;
    out += std::to_string(values[i]);
  }
  return out;
}

std::vector<double> parse_log_grid(const std::string& text, const std::string& what, std::int64_t& per_decade) {
  const auto a = text.find(':'), b = text.rfind(':');
  if (a == std::string::npos || a == b) {
    throw UsageError(what + " '" + text + "': expected START:STOP:PER_DECADE, for example 1e-10:1e-4:2");
  }
  const double tiny = std::numeric_limits<double>::min();
  const double start = parse_double(text.substr(0, a), what + " start", tiny, kHuge);
  const double stop = parse_double(text.substr(a + 1, b - a - 1), what + " stop", tiny, kHuge);
  per_decade = parse_int(text.substr(b + 1), what + " per decade", 1, 100);
  if (stop < start) throw UsageError(what + ": the stop " + text.substr(a + 1, b - a - 1) + " is below the start");
  std::vector<double> grid = log_grid(start, stop, per_decade);
  if (grid.size() > 200) throw UsageError(what + ": " + std::to_string(grid.size()) + " step sizes (at most 200)");
  return grid;
}

}  // namespace llcb
