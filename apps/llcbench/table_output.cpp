#include "apps/llcbench/table_output.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "lib/core/error.hpp"
#include "lib/core/json.hpp"

namespace llcb::cli {
namespace {

std::string csv_field(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) {
    if (c == '"') q += '"';
    q += c;
  }
  return q + "\"";
}

// Short, readable cells for the text table: doubles with 6 significant digits.
std::string cell(const store::Value& v) {
  if (const auto* d = std::get_if<double>(&v)) return table_number(*d);
  return store::to_text(v);
}

}  // namespace

std::string table_number(double v) {
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

TableFormat parse_table_format(const std::string& name) {
  if (name == "table") return TableFormat::kTable;
  if (name == "csv") return TableFormat::kCsv;
  if (name == "json") return TableFormat::kJson;
  throw UsageError("--format: '" + name + "' is not table, csv or json");
}

void print_table(std::ostream& os, const store::Table& t, TableFormat format) {
  const std::size_t rows = t.rows();
  if (format == TableFormat::kCsv) {
    for (std::size_t c = 0; c < t.columns.size(); ++c) os << (c ? "," : "") << csv_field(t.columns[c].name);
    os << "\n";
    for (std::size_t r = 0; r < rows; ++r) {
      for (std::size_t c = 0; c < t.columns.size(); ++c) {
        os << (c ? "," : "") << csv_field(store::to_text(t.columns[c].at(r)));
      }
      os << "\n";
    }
    return;
  }
  if (format == TableFormat::kJson) {
    JsonWriter w;
    w.begin_array();
    for (std::size_t r = 0; r < rows; ++r) {
      w.begin_object();
      for (const auto& col : t.columns) {
        w.key(col.name);
        std::visit([&](const auto& x) { w.value(x); }, col.at(r));
      }
      w.end_object();
    }
    w.end_array();
    os << w.str() << "\n";
    return;
  }
  std::vector<std::size_t> width;
  for (const auto& col : t.columns) {
    std::size_t w = col.name.size();
    for (std::size_t r = 0; r < rows; ++r) w = std::max(w, cell(col.at(r)).size());
    width.push_back(w);
  }
  for (std::size_t c = 0; c < t.columns.size(); ++c) {
    os << (c ? "  " : "") << t.columns[c].name << std::string(width[c] - t.columns[c].name.size(), ' ');
  }
  os << "\n";
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < t.columns.size(); ++c) {
      const std::string s = cell(t.columns[c].at(r));
      os << (c ? "  " : "") << s << std::string(width[c] - s.size(), ' ');
    }
    os << "\n";
  }
}

void print_summary(std::ostream& os, const store::Table& summary, TableFormat format,
                   const std::string& store_path) {
  if (format != TableFormat::kTable) {
    print_table(os, summary, format);
    return;
  }
  // slot: only sweeps with calibrated samplers have it (step_size is then the slot's median).
  std::vector<std::string> names = {"class", "sampler", "slot", "step_size", "truth_status", "count",
                                     "mean_rel_error", "std_rel_error", "mean_rel_error_lower",
                                     "divergence_fraction", "order_preservation", "pending", "failed"};
  if (const auto* g = summary.find("ranks_per_chain")) {
    const auto& v = std::get<std::vector<std::int64_t>>(g->data);
    if (std::any_of(v.begin(), v.end(), [](std::int64_t x) { return x != 1; })) names.push_back("ranks_per_chain");
  }
  store::Table view;
  for (const auto& name : names) {
    if (const auto* c = summary.find(name)) view.columns.push_back(*c);
  }
  print_table(os, view, format);
  os << "(truth_status: all = every problem against Aoyagi's value; exact, above, global = "
        "docs/truth.md. Every column: llcbench query "
     << store_path << " summary)\n";
  if (summary.find("slot")) {
    os << "(slot calibrated: the step size each problem's calibration chose, +-k: k grid points above or below; "
          "step_size: their median. The choices: llcbench query "
       << store_path << " calibrations)\n";
  }
}

}  // namespace llcb::cli
