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

}  // namespace llcb::cli
