// llcbench truth --widths H1,...,H_{M+1} --rank r [--json]
#include <iostream>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/truth_output.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/architecture.hpp"
#include "lib/dln/true_llc.hpp"

namespace llcb::cli {

int cmd_truth(const std::vector<std::string>& args) {
  return guarded("truth", [&] {
    po::options_description desc("options");
    desc.add_options()("widths", po::value<std::string>(),
                       "layer widths, input first: H1,H2,...,H_{M+1} (each 1..10000000)")(
        "rank", po::value<std::string>(), "rank r of the teacher product, 0..min(widths)")(
        "json", po::bool_switch(), "print one JSON object instead of text");
    add_common_options(desc);
    po::variables_map vm;
    if (!parse(args, desc, "usage: llcbench truth --widths 5,3,5 --rank 0 [--json]", vm)) return 0;
    const std::string& widths_text = required(vm, "widths", "5,3,5");
    const std::string& rank_text = required(vm, "rank", "0");
    const auto widths = parse_int_list(widths_text, "--widths", 1, dln::kMaxWidth);
    const std::int64_t rank = parse_int(rank_text, "--rank", 0, dln::kMaxWidth);
    const dln::TrueLlc t = dln::true_llc(widths, rank);

    if (vm["json"].as<bool>()) {
      JsonWriter w;
      w.begin_object();
      w.array("widths", widths);
      w.field("rank", rank);
      write_truth_json(w, t);
      w.end_object();
      std::cout << w.str() << "\n";
    } else {
      std::cout << "widths: " << join_ints(widths) << "\n"
                << "rank: " << rank << "\n";
      write_truth_text(std::cout, t);
      std::cout << t.lambda.to_decimal(kTextDecimals) << "\n";
    }
    return 0;
  });
}

}  // namespace llcb::cli
