// llcbench problem --class CLASS (--seed N | --seeds A-B) [--teacher paper|minimal] [--json]
//                  [--format table|csv|json]
// One problem in full (architecture, ranks, Aoyagi's value and the local truth at the teacher),
// or with --seeds one row per problem and, as a table, the distribution of truth statuses: what
// a class's teachers certify, without running a chain.
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <limits>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/table_output.hpp"
#include "apps/llcbench/truth_output.hpp"
#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/model_class.hpp"
#include "lib/dln/problem.hpp"

namespace llcb::cli {
namespace {

constexpr std::int64_t kMaxSeed = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kMaxSeeds = 1'000'000;

// "A-B" (inclusive) or a comma-separated list.
std::vector<std::uint64_t> parse_seeds(const std::string& text) {
  std::vector<std::uint64_t> seeds;
  const auto dash = text.find('-', 1);  // a leading '-' is a negative seed, refused below
  if (dash != std::string::npos) {
    const std::int64_t first = parse_int(text.substr(0, dash), "--seeds (first)", 0, kMaxSeed);
    const std::int64_t last = parse_int(text.substr(dash + 1), "--seeds (last)", 0, kMaxSeed);
    if (last < first) throw UsageError("--seeds '" + text + "': the last seed is below the first");
    if (last - first >= kMaxSeeds) {
      throw UsageError("--seeds '" + text + "': at most " + std::to_string(kMaxSeeds) + " seeds");
    }
    for (std::int64_t s = first; s <= last; ++s) seeds.push_back(static_cast<std::uint64_t>(s));
    return seeds;
  }
  for (const std::int64_t s : parse_int_list(text, "--seeds", 0, kMaxSeed)) {
    if (std::find(seeds.begin(), seeds.end(), static_cast<std::uint64_t>(s)) != seeds.end()) {
      throw UsageError("--seeds '" + text + "' lists seed " + std::to_string(s) + " twice");
    }
    seeds.push_back(static_cast<std::uint64_t>(s));
  }
  return seeds;
}

// "2*,69*,18" (rank-reduced layers starred).
std::string starred_layer_ranks(const dln::Problem& p) {
  std::string out;
  for (std::size_t s = 0; s < p.cuts.size(); ++s) {
    if (s) out += ',';
    out += std::to_string(p.local.layer_ranks[s]);
    if (p.cuts[s].cut) out += '*';
  }
  return out;
}

void print_one(const dln::Problem& p, bool json) {
  std::vector<bool> cut;
  for (const auto& c : p.cuts) cut.push_back(c.cut);
  if (json) {
    JsonWriter w;
    w.begin_object();
    w.field("class", p.class_name);
    w.field("seed", static_cast<std::int64_t>(p.seed));
    w.field("teacher", std::string(dln::to_string(p.teacher)));
    w.field("layers", p.layers());
    w.array("widths", p.widths);
    w.array("layer_ranks", p.local.layer_ranks);
    w.array("layer_cut", cut);
    w.field("rank", p.rank);
    w.field("n", p.n);
    write_truth_json(w, p.truth);
    write_local_json(w, p.local);
    w.end_object();
    std::cout << w.str() << "\n";
    return;
  }
  std::cout << "class: " << p.class_name << "\n"
            << "seed: " << p.seed << "\n"
            << "teacher: " << dln::to_string(p.teacher) << "\n"
            << "layers: " << p.layers() << "\n"
            << "widths: " << join_ints(p.widths) << "\n"
            << "layer ranks: " << starred_layer_ranks(p) << "  (* = rank-reduced)\n"
            << "rank: " << p.rank << "\n"
            << "n: " << p.n << "\n";
  write_truth_text(std::cout, p.truth);
  write_local_text(std::cout, p.local, p.truth);
  std::cout << p.truth.lambda.to_decimal(kTextDecimals) << "\n";
}

store::Table distribution(const std::vector<dln::Problem>& problems) {
  std::vector<std::int64_t> seed, layers, rank, d, jrank;
  std::vector<std::string> teacher, widths, ranks, status;
  std::vector<double> lambda, smooth, lower, ratio;
  for (const dln::Problem& p : problems) {
    seed.push_back(static_cast<std::int64_t>(p.seed));
    teacher.emplace_back(dln::to_string(p.teacher));
    layers.push_back(p.layers());
    widths.push_back(join_ints(p.widths));
    ranks.push_back(join_ints(p.local.layer_ranks));
    rank.push_back(p.rank);
    d.push_back(p.truth.d);
    jrank.push_back(p.local.jacobian_rank);
    lambda.push_back(p.truth.lambda.to_double());
    smooth.push_back(p.local.lambda_smooth.to_double());
    lower.push_back(p.local.lambda_lower.to_double());
    ratio.push_back(p.truth.lambda == 0 ? 1.0 : lower.back() / lambda.back());
    status.emplace_back(dln::to_string(p.local.status));
  }
  store::Table t;
  t.columns = {{"seed", seed},         {"teacher", teacher},         {"layers", layers},
               {"widths", widths},     {"layer_ranks", ranks},       {"rank", rank},
               {"d", d},               {"jacobian_rank", jrank},     {"lambda", lambda},
               {"lambda_smooth", smooth}, {"lambda_lower", lower},   {"lower_over_lambda", ratio},
               {"truth_status", status}};
  return t;
}

// The footer of the table: how often each status occurs and how far lambda_lower is above
// Aoyagi's value.
void print_distribution_summary(const store::Table& t) {
  const auto& status = t.get<std::string>("truth_status");
  const auto& ratio = t.get<double>("lower_over_lambda");
  const auto total = static_cast<double>(status.size());
  std::cout << "\n" << status.size() << (status.size() == 1 ? " problem:" : " problems:");
  for (const char* s : {"exact", "above", "global"}) {
    const auto k = std::count(status.begin(), status.end(), s);
    char buf[64];
    std::snprintf(buf, sizeof buf, " %s %lld (%.0f%%)", s, static_cast<long long>(k), 100.0 * k / total);
    std::cout << buf << (s[0] == 'g' ? "\n" : ",");
  }
  std::vector<double> above;
  for (std::size_t i = 0; i < ratio.size(); ++i) {
    if (status[i] == "above") above.push_back(ratio[i]);
  }
  if (!above.empty()) {
    std::sort(above.begin(), above.end());
    char buf[160];
    std::snprintf(buf, sizeof buf,
                  "where above: lambda_lower / lambda median %.3g, max %.3g (Aoyagi's value "
                  "understates the local LLC at the teacher)\n",
                  above[above.size() / 2], above.back());
    std::cout << buf;
  }
}

}  // namespace

int cmd_problem(const std::vector<std::string>& args) {
  return guarded("problem", [&] {
    po::options_description desc("options");
    desc.add_options()("class", po::value<std::string>(),
                       "model class: tiny, 1K, 100K, 1M, 10M, 100M, 1B or custom:LMIN,LMAX,HMIN,HMAX")(
        "seed", po::value<std::string>(), "problem seed, 0..9223372036854775807")(
        "seeds", po::value<std::string>(),
        "many problems, one row each: A-B (inclusive) or a comma-separated list")(
        "teacher", po::value<std::string>()->default_value("paper"),
        "paper (the published draw) or minimal (every layer cut to the product rank)")(
        "json", po::bool_switch(), "print one JSON object instead of text (with --seed)")(
        "format", po::value<std::string>()->default_value("table"),
        "with --seeds: table (with the distribution of truth statuses), csv or json");
    add_common_options(desc);
    po::variables_map vm;
    if (!parse(args, desc,
               "usage: llcbench problem --class 100K (--seed 7 [--json] | --seeds 1-100 "
               "[--format table|csv|json]) [--teacher paper|minimal]",
               vm)) {
      return 0;
    }
    const std::string& class_text = required(vm, "class", "100K");
    const dln::ModelClass model = dln::model_class(class_text);
    const dln::TeacherMode teacher = dln::parse_teacher_mode(vm["teacher"].as<std::string>(), "--teacher");
    if (!vm.count("seed") && !vm.count("seeds")) {
      throw UsageError("--seed is required (for example --seed 7), or --seeds 1-100 for many problems");
    }
    if (vm.count("seed") && vm.count("seeds")) {
      throw UsageError("give one of --seed (one problem) and --seeds (a distribution), not both");
    }
    if (vm.count("seed")) {
      if (!vm["format"].defaulted()) throw UsageError("--format goes with --seeds; with --seed use --json");
      const auto seed = static_cast<std::uint64_t>(parse_int(vm["seed"].as<std::string>(), "--seed", 0, kMaxSeed));
      print_one(dln::draw_problem(model, seed, teacher), vm["json"].as<bool>());
      return 0;
    }
    if (vm["json"].as<bool>()) throw UsageError("--json goes with --seed; with --seeds use --format json");
    const TableFormat format = parse_table_format(vm["format"].as<std::string>());
    const std::vector<std::uint64_t> seeds = parse_seeds(vm["seeds"].as<std::string>());
    const store::Table t = distribution(dln::draw_problems(model, seeds, teacher));
    print_table(std::cout, t, format);
    if (format == TableFormat::kTable) print_distribution_summary(t);
    return 0;
  });
}

}  // namespace llcb::cli
