// Model classes: the distributions learning problems are drawn from (benchmark.md section 1).
//
//   class  layers M  each width H   default n
//   tiny   2..5      2..12          1e5     (tests, demos)
//   1K     2..5      5..50          1e5
//   100K   2..10     50..500        1e6     (published)
//   1M     2..20     100..1000      1e6     (published)
//   10M    2..20     500..2000      1e6     (published)
//   100M   2..40     500..3000      1e6     (published)
//   custom:LMIN,LMAX,HMIN,HMAX      1e5     (any ranges; 1 <= LMIN <= LMAX <= 100,
//                                            1 <= HMIN <= HMAX <= 100000)
// All ranges are inclusive at both ends, as in the published table (the authors' code draws with
// an exclusive upper end; llcbench follows the table). Names are matched case-insensitively and
// reported in the canonical spelling above.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace llcb::dln {

struct ModelClass {
  std::string name;
  std::int64_t layers_min = 0, layers_max = 0;  // inclusive
  std::int64_t width_min = 0, width_max = 0;    // inclusive
  std::int64_t default_n = 0;                   // dataset size unless configured
};

// Throws UsageError for an unknown name or malformed custom ranges.
ModelClass model_class(std::string_view name);

// The built-in class names, smallest first.
std::vector<std::string> builtin_class_names();

}  // namespace llcb::dln
