// The job grid of a sweep: the cartesian product problems x samplers x step sizes x
// ranks_per_chain, expensive axes outermost (a worker that keeps a problem reuses its teacher). A job runs `chain.chains` chains.
// A sampler whose grid is `calibrate` has slots instead of step sizes: slot s of problem p runs
// the step size that p's calibration chose, moved s points along the calibration grid (s from
// -calibrate.neighbours to +neighbours); its step size is known once that calibration is
// recorded (the session fills it in). Its description says "step_size=calibrate;slot=s" and the
// calibration settings, so its id is fixed before any calibration ran.
//
// A job's id is the FNV-1a hash of its canonical description (every setting that affects its
// result, numbers printed exactly, and its data path: ";targets=factored" where its targets go
// through the teacher's factors, ";gradient=narrowest" where its gradient goes through the
// narrowest width, ";sums=halves" where the CPU sums the batch in halves), so the same config
// yields the same ids in any run and whatever the order of keys in the file. Chain c of a job
// has seed
//   splitmix64(sweep seed ^ fnv1a64(chain key) + c),
// the chain key being the description with ranks_per_chain 1, estimate_bound_factor 1 and no
// data-path parts: a job run by a chain group of G ranks runs the same chain (data and noise) as
// with G = 1, the estimate bound (a verdict on the finished estimate) never changes a chain (jobs
// of versions whose bound was 1 keep their chains), and every data path draws the same data and
// noise. (A calibration's chains are seeded from its whole description, data path included.)
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
  std::int64_t calibration = -1;   // calibrated: the index of its CalibrationUnit; -1 otherwise
  std::int64_t slot = 0;           // calibrated: the grid points from the chosen step size
};

// The calibration of one calibrated sampler on one problem (docs/calibration.md "In a sweep"):
// calibrate.chains chains at each step size of calibrate.grid. Chain c (the same at every step
// size, so that the step sizes are compared on common noise) has seed
//   splitmix64(sweep seed ^ fnv1a64(description) + c).
struct CalibrationUnit {
  std::int64_t index = 0;
  std::string id;                  // 16 hex digits: fnv1a64 of the description
  std::string description;
  std::int64_t problem_index = 0;
  std::uint64_t problem_seed = 0;
  std::size_t sampler_index = 0;
};

// The calibration units of a config (problem-major, samplers in config order); empty when no
// sampler is calibrated. Job::calibration indexes this list.
std::vector<CalibrationUnit> make_calibrations(const SweepConfig& config);

// The grid positions of each calibration unit's jobs: [unit] -> job indices, in grid order (one
// pass over the grid, so that a session or a repair does not scan it once per unit).
std::vector<std::vector<std::size_t>> jobs_of_calibrations(const std::vector<Job>& grid, std::size_t units);

// The text a job's slot shows in tables: "" for a fixed step size, else "calibrated",
// "calibrated-1", "calibrated+2", ...
std::string slot_label(const Job& job);

constexpr const char* kSeedRecipe =
    "chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
    "its ;ranks_per_chain=G, ;targets=factored, ;gradient=narrowest and ;sums=halves parts and with "
    "estimate_bound_factor=1) + c); "
    "chain seed of chain c of a calibration = splitmix64(sweep.seed XOR fnv1a64(its description) + c) "
    "at every step size; "
    "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
    "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
    "(EPOC, BTCH, LANG) as in docs/problems.md";
// The recipes of the versions before, whose chains are this version's for any estimate bound:
// the one before sums over the batch in halves and the one before the narrowest-width gradient
// (their descriptions never have those parts), and the one before calibrations and factored
// targets. Stores they made continue as they are.
constexpr const char* kPreviousSeedRecipes[] = {
    "chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
    "its ;ranks_per_chain=G, ;targets=factored and ;gradient=narrowest parts and with "
    "estimate_bound_factor=1) + c); "
    "chain seed of chain c of a calibration = splitmix64(sweep.seed XOR fnv1a64(its description) + c) "
    "at every step size; "
    "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
    "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
    "(EPOC, BTCH, LANG) as in docs/problems.md",
    "chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
    "its ;ranks_per_chain=G and ;targets=factored parts and with estimate_bound_factor=1) + c); "
    "chain seed of chain c of a calibration = splitmix64(sweep.seed XOR fnv1a64(its description) + c) "
    "at every step size; "
    "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
    "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
    "(EPOC, BTCH, LANG) as in docs/problems.md",
    "chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
    "its ;ranks_per_chain=G part and with estimate_bound_factor=1) + c); "
    "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
    "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
    "(EPOC, BTCH, LANG) as in docs/problems.md",
};

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
