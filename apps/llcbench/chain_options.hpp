// Options shared by the commands that run chains (run, bench): which problem, which sampler and
// its constants, chain length, batch, data, backend. Defaults follow benchmark.md; docs/cli.md
// lists them.
#pragma once

#include <memory>

#include "apps/llcbench/cli.hpp"
#include "lib/backend/backend.hpp"
#include "lib/dln/problem.hpp"

namespace llcb::cli {

// --class/--seed or --widths/--rank (with --seed for the teacher), --teacher, and --n.
void add_problem_options(po::options_description& desc);
dln::Problem resolve_problem(const po::variables_map& vm);

// Sampler, chain and data options. A command's own defaults: without a --step-size (calibrate
// sets it per grid point: resolve_chain's `step_size`), --steps, and the burn-in as a fraction
// of T.
struct ChainDefaults {
  bool step_size_option = true;
  const char* steps = "50000";
  double burn_in_fraction = 0.9;
};
void add_chain_options(po::options_description& desc, const ChainDefaults& defaults = {});
backend::ChainSpec resolve_chain(const po::variables_map& vm, const dln::Problem& problem,
                                 const ChainDefaults& defaults = {}, double step_size = 0);
backend::DataSpec resolve_data(const po::variables_map& vm);

// --backend and --threads.
void add_backend_options(po::options_description& desc);
std::unique_ptr<backend::Backend> resolve_backend(const po::variables_map& vm);

}  // namespace llcb::cli
