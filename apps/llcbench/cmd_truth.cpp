// llcbench truth --widths H1,...,H_{M+1} --rank r [--teacher MODE | --layer-ranks k1,...] [--json]
// Aoyagi's value for (widths, r), and with a teacher (a mode or the layer ranks) the local truth
// at a teacher of those layer ranks in general position (docs/truth.md).
#include <algorithm>
#include <iostream>
#include <optional>

#include "apps/llcbench/cli.hpp"
#include "apps/llcbench/truth_output.hpp"
#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/architecture.hpp"
#include "lib/dln/problem.hpp"
#include "lib/dln/true_llc.hpp"

namespace llcb::cli {
namespace {

void check_layer_ranks(const std::vector<std::int64_t>& widths, const std::vector<std::int64_t>& ranks,
                       std::int64_t rank) {
  if (ranks.size() + 1 != widths.size()) {
    throw UsageError("--layer-ranks: " + std::to_string(ranks.size()) + " values for " +
                     std::to_string(widths.size() - 1) + " layers");
  }
  for (std::size_t s = 0; s < ranks.size(); ++s) {
    const std::int64_t full = std::min(widths[s], widths[s + 1]);
    if (ranks[s] > full) {
      throw UsageError("--layer-ranks: layer " + std::to_string(s + 1) + " maps " +
                       std::to_string(widths[s]) + " to " + std::to_string(widths[s + 1]) +
                       " and cannot have rank " + std::to_string(ranks[s]));
    }
  }
  const std::int64_t product = *std::min_element(ranks.begin(), ranks.end());
  if (product != rank) {
    throw UsageError("--layer-ranks " + join_ints(ranks) + " give a product of rank " +
                     std::to_string(product) + " in general position, not --rank " +
                     std::to_string(rank));
  }
}

}  // namespace

int cmd_truth(const std::vector<std::string>& args) {
  return guarded("truth", [&] {
    po::options_description desc("options");
    desc.add_options()("widths", po::value<std::string>(),
                       "layer widths, input first: H1,H2,...,H_{M+1} (each 1..10000000)")(
        "rank", po::value<std::string>(),
        "rank r of the teacher product, 0..min(widths) (default with --layer-ranks: their least)")(
        "teacher", po::value<std::string>(),
        "also the local truth at a teacher: first-layer (layer 1 cut to rank r) or minimal (every "
        "layer of rank r)")(
        "layer-ranks", po::value<std::string>(),
        "also the local truth at a teacher with these layer ranks, in general position")(
        "json", po::bool_switch(), "print one JSON object instead of text");
    add_common_options(desc);
    po::variables_map vm;
    if (!parse(args, desc,
               "usage: llcbench truth --widths 5,3,5 --rank 0 [--teacher first-layer|minimal | "
               "--layer-ranks K1,...] [--json]",
               vm)) {
      return 0;
    }
    const std::string& widths_text = required(vm, "widths", "5,3,5");
    const auto widths = parse_int_list(widths_text, "--widths", 1, dln::kMaxWidth);
    if (vm.count("teacher") && vm.count("layer-ranks")) {
      throw UsageError("give at most one of --teacher and --layer-ranks");
    }
    std::optional<std::vector<std::int64_t>> layer_ranks;
    if (vm.count("layer-ranks")) {
      layer_ranks = parse_int_list(vm["layer-ranks"].as<std::string>(), "--layer-ranks", 0, dln::kMaxWidth);
    }
    const std::int64_t rank =
        vm.count("rank") || !layer_ranks
            ? parse_int(required(vm, "rank", "0"), "--rank", 0, dln::kMaxWidth)
            : (layer_ranks->empty() ? 0 : *std::min_element(layer_ranks->begin(), layer_ranks->end()));
    const dln::TrueLlc t = dln::true_llc(widths, rank);
    std::string teacher;
    if (vm.count("teacher")) {
      const dln::TeacherMode mode = dln::parse_teacher_mode(vm["teacher"].as<std::string>(), "--teacher");
      layer_ranks = dln::architecture_layer_ranks(widths, rank, mode);
      teacher = dln::to_string(mode);
    } else if (layer_ranks) {
      check_layer_ranks(widths, *layer_ranks, rank);
      teacher = "layer ranks";
    }
    std::optional<dln::LocalTruth> local;
    if (layer_ranks) {
      local = dln::local_truth(widths, rank, *layer_ranks,
                               dln::generic_partial_ranks(widths, *layer_ranks), t.lambda);
    }

    if (vm["json"].as<bool>()) {
      JsonWriter w;
      w.begin_object();
      w.array("widths", widths);
      w.field("rank", rank);
      write_truth_json(w, t);
      if (local) {
        w.field("teacher", teacher);
        w.array("layer_ranks", local->layer_ranks);
        write_local_json(w, *local);
      } else {
        w.field("exact_for_teacher", std::string("minimal"));  // a lower bound at any other
      }
      w.end_object();
      std::cout << w.str() << "\n";
    } else {
      std::cout << "widths: " << join_ints(widths) << "\n"
                << "rank: " << rank << "\n";
      write_truth_text(std::cout, t);
      if (local) {
        std::cout << "teacher: " << teacher << ", layer ranks " << join_ints(local->layer_ranks)
                  << " (general position)\n";
        write_local_text(std::cout, *local, t);
      } else {
        std::cout << "truth status: exact at a minimal teacher (every layer of rank " << rank
                  << "); elsewhere a lower bound (--teacher or --layer-ranks tells)\n";
      }
      std::cout << t.lambda.to_decimal(kTextDecimals) << "\n";
    }
    return 0;
  });
}

}  // namespace llcb::cli
