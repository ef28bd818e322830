// llcbench query FILE summary|jobs|problems|trace [--job ID] [--where key=value ...]
//                [--columns a,b,...] [--format table|csv|json]
// Reads a store (also while a sweep is writing it) and prints one of its tables.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <iostream>
#include <sstream>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/table_output.hpp"
#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"
#include "lib/reduce/reduce.hpp"
#include "lib/store/store.hpp"

namespace llcb::cli {
namespace {

// Significant digits of a number as typed ("1e-07": 1, "16.1222": 6, "0.0500": 3).
int significant_digits(const std::string& typed) {
  const std::string mantissa = typed.substr(0, typed.find_first_of("eE"));
  int digits = 0;
  bool leading = true;
  for (const char c : mantissa) {
    if (c < '0' || c > '9') continue;
    if (c != '0') leading = false;
    digits += leading ? 0 : 1;
  }
  return digits;
}

// Numbers match the way llcbench shows them (docs/cli.md, query): within a relative 1e-9 of the
// number typed (a log-spaced grid holds 1.0000000000000001e-07, which every table shows as 1e-07),
// or, typed with at most the 6 significant digits of the text table, when the value prints as
// that number there (lambda_hat=16.1222 finds 16.12219...). Integers and text match exactly.
bool matches(const store::Value& v, const std::string& want, const std::string& key) {
  if (const auto* d = std::get_if<double>(&v)) {
    if (want == "nan") return std::isnan(*d);
    const double w = parse_double(want, "--where " + key, -1e308, 1e308);
    if (std::isnan(*d)) return false;
    if (std::fabs(*d - w) <= 1e-9 * std::max(std::fabs(*d), std::fabs(w))) return true;
    return significant_digits(want) <= 6 && table_number(*d) == table_number(w);
  }
  return store::to_text(v) == want;
}

store::Table filter(const store::Table& t, const std::vector<std::string>& wheres,
                    const std::string& columns) {
  std::vector<std::pair<const store::Column*, std::string>> conds;
  for (const auto& w : wheres) {
    const auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) throw UsageError("--where '" + w + "': expected key=value");
    const std::string key = w.substr(0, eq);
    const store::Column* c = t.find(key);
    if (!c) throw UsageError("--where: no column '" + key + "'");
    std::string want = w.substr(eq + 1);
    if (std::holds_alternative<std::vector<std::int64_t>>(c->data)) {
      // Integer columns (the 0/1 flags among them) take integers, and true/false for 1/0.
      if (want == "true" || want == "false") want = want == "true" ? "1" : "0";
      std::int64_t x = 0;
      const auto [end, ec] = std::from_chars(want.data(), want.data() + want.size(), x);
      if (want.empty() || ec != std::errc() || end != want.data() + want.size()) {
        throw UsageError("--where '" + w + "': " + key + " holds integers" +
                         (key == "diverged" || key == "found" ? " (0 or 1, or false or true)" : ""));
      }
      want = std::to_string(x);
    }
    conds.emplace_back(c, want);
  }
  std::vector<std::size_t> keep;
  for (std::size_t r = 0; r < t.rows(); ++r) {
    bool ok = true;
    for (const auto& [c, want] : conds) ok = ok && matches(c->at(r), want, c->name);
    if (ok) keep.push_back(r);
  }
  std::vector<std::string> names;
  if (columns.empty()) {
    for (const auto& c : t.columns) names.push_back(c.name);
  } else {
    std::stringstream ss(columns);
    std::string n;
    while (std::getline(ss, n, ',')) {
      if (!t.find(n)) throw UsageError("--columns: no column '" + n + "'");
      names.push_back(n);
    }
  }
  store::Table out;
  for (const auto& name : names) {
    const store::Column* c = t.find(name);
    store::Column col{name, {}};
    std::visit(
        [&](const auto& v) {
          std::decay_t<decltype(v)> picked;
          for (std::size_t r : keep) picked.push_back(v[r]);
          col.data = std::move(picked);
        },
        c->data);
    out.columns.push_back(std::move(col));
  }
  return out;
}

store::Table trace_table(const store::Store& st, const std::string& job) {
  std::size_t rows = 0, chains = 0;
  std::int64_t every = 1;
  const auto data = st.trace(job, rows, chains, every);
  std::vector<std::int64_t> step, chain;
  std::vector<double> loss;
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t c = 0; c < chains; ++c) {
      step.push_back(static_cast<std::int64_t>(r) * every);
      chain.push_back(static_cast<std::int64_t>(c));
      loss.push_back(data[r * chains + c]);
    }
  }
  store::Table t;
  t.columns = {{"step", step}, {"chain", chain}, {"loss", loss}};
  return t;
}

}  // namespace

int cmd_query(const std::vector<std::string>& args) {
  return guarded("query", [&] {
    po::options_description desc("options");
    desc.add_options()("store", po::value<std::string>(), "the sweep's HDF5 store")(
        "what", po::value<std::string>(), "summary, jobs, problems, calibrations or trace")(
        "job", po::value<std::string>(), "job id (for trace)")(
        "where", po::value<std::vector<std::string>>()->composing(), "keep rows with column=value")(
        "columns", po::value<std::string>()->default_value(""), "print only these columns, comma-separated")(
        "format", po::value<std::string>()->default_value("table"), "table, csv or json");
    add_common_options(desc);
    po::positional_options_description pos;
    pos.add("store", 1).add("what", 1);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench query FILE summary|jobs|problems|calibrations|trace [--job ID] "
                           "[--where key=value ...] [--format table|csv|json]", vm, &pos)) {
      return 0;
    }
    const TableFormat format = parse_table_format(vm["format"].as<std::string>());
    const std::string& what = required(vm, "what", "jobs");
    if (what != "trace" && what != "summary" && what != "jobs" && what != "problems" && what != "calibrations") {
      throw UsageError("unknown table '" + what + "' (expected summary, jobs, problems, calibrations or trace)");
    }
    const std::string& path = required(vm, "store", "demo.h5");
    const std::string job = what == "trace" ? required(vm, "job", "JOB_ID") : "";
    store::Table t;
    read_store_retrying([&] {
      const store::Store st = store::Store::open(path, false);
      // The summary is computed from the jobs as they are now, so it is current while a sweep
      // writes the store (whose /summary is written when the sweep ends).
      if (what == "calibrations" && !st.has("calibrations")) {
        throw UsageError("store '" + path + "' has no calibrations (its config calibrates no sampler)");
      }
      t = what == "trace" ? trace_table(st, job) : what == "summary" ? reduce::summarize(st.table("jobs")) : st.table(what);
    });
    // A calibration's detail is one long JSON text: csv and json carry it, the text table names it.
    if (what == "calibrations" && format == TableFormat::kTable && vm["columns"].as<std::string>().empty()) {
      std::erase_if(t.columns, [](const store::Column& c) { return c.name == "detail"; });
    }
    std::vector<std::string> wheres;
    if (vm.count("where")) wheres = vm["where"].as<std::vector<std::string>>();
    print_table(std::cout, filter(t, wheres, vm["columns"].as<std::string>()), format);
    return 0;
  });
}

}  // namespace llcb::cli
