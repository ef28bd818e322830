// llcbench problem --class CLASS --seed N [--json]
#include <iostream>
#include <limits>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/truth_output.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/model_class.hpp"
#include "lib/dln/problem.hpp"

namespace llcb::cli {

int cmd_problem(const std::vector<std::string>& args) {
  return guarded("problem", [&] {
    po::options_description desc("options");
    desc.add_options()("class", po::value<std::string>(),
                       "model class: tiny, 1K, 100K, 1M, 10M, 100M or custom:LMIN,LMAX,HMIN,HMAX")(
        "seed", po::value<std::string>(), "problem seed, 0..9223372036854775807")(
        "json", po::bool_switch(), "print one JSON object instead of text");
    add_common_options(desc);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench problem --class 100K --seed 7 [--json]", vm)) return 0;
    const std::string& class_text = required(vm, "class", "100K");
    const std::string& seed_text = required(vm, "seed", "7");
    const dln::ModelClass model = dln::model_class(class_text);
    const auto seed = static_cast<std::uint64_t>(
        parse_int(seed_text, "--seed", 0, std::numeric_limits<std::int64_t>::max()));
    const dln::Problem p = dln::draw_problem(model, seed);

    std::vector<std::int64_t> layer_ranks;
    std::vector<bool> cut;
    for (std::size_t s = 0; s < p.cuts.size(); ++s) {
      layer_ranks.push_back(p.layer_rank(s));
      cut.push_back(p.cuts[s].cut);
    }
    if (vm["json"].as<bool>()) {
      JsonWriter w;
      w.begin_object();
      w.field("class", p.class_name);
      w.field("seed", static_cast<std::int64_t>(p.seed));
      w.field("layers", p.layers());
      w.array("widths", p.widths);
      w.array("layer_ranks", layer_ranks);
      w.array("layer_cut", cut);
      w.field("rank", p.rank);
      w.field("n", p.n);
      write_truth_json(w, p.truth);
      w.end_object();
      std::cout << w.str() << "\n";
    } else {
      std::string ranks;
      for (std::size_t s = 0; s < layer_ranks.size(); ++s) {
        if (s) ranks += ',';
        ranks += std::to_string(layer_ranks[s]);
        if (cut[s]) ranks += '*';
      }
      std::cout << "class: " << p.class_name << "\n"
                << "seed: " << p.seed << "\n"
                << "layers: " << p.layers() << "\n"
                << "widths: " << join_ints(p.widths) << "\n"
                << "layer ranks: " << ranks << "  (* = rank-reduced)\n"
                << "rank: " << p.rank << "\n"
                << "n: " << p.n << "\n";
      write_truth_text(std::cout, p.truth);
      std::cout << p.truth.lambda.to_decimal(kTextDecimals) << "\n";
    }
    return 0;
  });
}

}  // namespace llcb::cli
