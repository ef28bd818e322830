// Printing store tables (query, reduce, the end of a sweep) as an aligned text table, CSV (header
// row, then one row per record; fields with commas or quotes are quoted) or JSON (an array of
// objects; NaN as null).
#pragma once

#include <ostream>
#include <string>

#include "lib/store/table.hpp"

namespace llcb::cli {

enum class TableFormat { kTable, kCsv, kJson };
TableFormat parse_table_format(const std::string& name);  // UsageError otherwise
void print_table(std::ostream& os, const store::Table& t, TableFormat format);
// A number as the text table shows it: 6 significant digits (%.6g), "nan" for NaN.
std::string table_number(double v);

// A sweep's summary as `sweep` and `reduce` print it: as a text table, the columns a reader
// compares (class, sampler, step_size, truth_status, count, mean/std_rel_error,
// mean_rel_error_lower, divergence_fraction, order_preservation, pending, failed, and
// ranks_per_chain when some G is not 1), then a line naming the full table; CSV and JSON carry
// every column.
void print_summary(std::ostream& os, const store::Table& summary, TableFormat format,
                   const std::string& store_path);

}  // namespace llcb::cli
