// The job grid of a sweep: the cartesian product problems x samplers x step sizes x
// ranks_per_chain, expensive axes outermost (a worker that keeps a problem reuses its teacher). A job runs `chain.chains` chains.
//
// A job's id is the FNV-1a hash of its canonical description (every setting that affects its
// result, numbers printed exactly), so the same config yields the same ids in any run and
// whatever the order of keys in the file. Chain c of a job has seed
//   splitmix64(sweep seed ^ fnv1a64(chain key) + c),
// the chain key being the description with ranks_per_chain 1 and estimate_bound_factor 1: a job
// run by a chain group of G ranks runs the same chain (data and noise) as with G = 1, and the
// estimate bound (a verdict on the finished estimate) never changes a chain: jobs of versions
// whose bound was 1 keep their chains.
// (the "seed recipe" the store records); its minibatches and noise then follow the chain-seed
// streams of lib/core/streams.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/sweep/config.hpp"

namespace llcb::sweep {

// What the store records as a job's truth (docs/truth.md): Aoyagi's value, lambda_lower and the
// truth status ("" in stores written before statuses existed, where lambda_lower = lambda_true).
struct JobTruth {
  double lambda_true = 0, lambda_lower = 0;
  std::string status;
};

struct Job {
  std::int64_t index = 0;          // position in the grid
  std::string id;                  // 16 hex digits
  std::string description;
  std::string chain_key;           // what the chain seeds hash (below)
  std::int64_t problem_index = 0;  // 0 .. problems.count - 1
  std::uint64_t problem_seed = 0;
  std::size_t sampler_index = 0;   // into SweepConfig::samplers
  double step_size = 0;
  std::int64_t ranks_per_chain = 1;  // G > 1: a chain group of G worker ranks runs it (mpi/)
};

constexpr const char* kSeedRecipe =
    "chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
    "its ;ranks_per_chain=G part and with estimate_bound_factor=1) + c); "
    "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
    "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
    "(EPOC, BTCH, LANG) as in docs/problems.md";

std::vector<Job> make_grid(const SweepConfig& config);

// The problem of index p (drawn from the class, seed and teacher mode; n set from the config).
dln::Problem make_problem(const SweepConfig& config, std::int64_t problem_index,
                          dln::LocalTruthMode local = dln::LocalTruthMode::kCompute);

// Every problem of the sweep, drawn in parallel (dln::draw_problems).
std::vector<dln::Problem> make_problems(const SweepConfig& config);

std::uint64_t chain_seed(const SweepConfig& config, const Job& job, std::int64_t chain);

// The chain specs of a job on its problem; throws UsageError if they are invalid (batch > n).
std::vector<backend::ChainSpec> chain_specs(const SweepConfig& config, const Job& job,
                                            const dln::Problem& problem);

}  // namespace llcb::sweep
