#include "lib/dln/model_class.hpp"

#include <algorithm>
#include <cctype>

#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"

namespace llcb::dln {
namespace {

const std::vector<ModelClass>& builtin() {
  static const std::vector<ModelClass> classes = {
      {"tiny", 2, 5, 2, 12, 100'000},       {"1K", 2, 5, 5, 50, 100'000},
      {"100K", 2, 10, 50, 500, 1'000'000},  {"1M", 2, 20, 100, 1000, 1'000'000},
      {"10M", 2, 20, 500, 2000, 1'000'000}, {"100M", 2, 40, 500, 3000, 1'000'000},
      // Beyond the published classes: about 1e8..2e9 parameters, for chain groups (G >= 2).
      {"1B", 2, 8, 8000, 16000, 1'000'000},
  };
  return classes;
}

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

constexpr std::int64_t kCustomMaxLayers = 100;
constexpr std::int64_t kCustomMaxWidth = 100'000;

ModelClass custom_class(std::string_view spec) {
  const std::string what = "class 'custom:" + std::string(spec) + "'";
  const auto v = parse_int_list(spec, what, 1, kCustomMaxWidth);
  if (v.size() != 4) {
    throw UsageError(what + ": expected custom:LMIN,LMAX,HMIN,HMAX (four integers)");
  }
  if (v[0] > v[1] || v[2] > v[3]) throw UsageError(what + ": a minimum exceeds its maximum");
  if (v[1] > kCustomMaxLayers) {
    throw UsageError(what + ": at most " + std::to_string(kCustomMaxLayers) + " layers");
  }
  return ModelClass{"custom:" + join_ints(v), v[0], v[1], v[2], v[3], 100'000};
}

}  // namespace

ModelClass model_class(std::string_view name) {
  constexpr std::string_view kCustom = "custom:";
  if (name.size() > kCustom.size() && iequals(name.substr(0, kCustom.size()), kCustom)) {
    return custom_class(name.substr(kCustom.size()));
  }
  for (const auto& c : builtin()) {
    if (iequals(c.name, name)) return c;
  }
  std::string known;
  for (const auto& c : builtin()) known += c.name + ", ";
  throw UsageError("unknown model class '" + std::string(name) + "' (known: " + known +
                   "custom:LMIN,LMAX,HMIN,HMAX)");
}

std::vector<std::string> builtin_class_names() {
  std::vector<std::string> names;
  for (const auto& c : builtin()) names.push_back(c.name);
  return names;
}

}  // namespace llcb::dln
