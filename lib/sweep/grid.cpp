#include "lib/sweep/grid.hpp"

#include <cmath>
#include <cstdio>

#include "lib/core/hash.hpp"
#include "lib/dln/model_class.hpp"

namespace llcb::sweep {
namespace {

std::string exact(double v) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%.17g", v);
  return buf;
}

// The chain seed hashes the description of the job as run by one rank and judged by the estimate
// bound of the versions before the bound was measured: neither the group size (a group runs the
// same chain) nor the bound (a verdict on a finished estimate) changes a chain.
constexpr double kSeedBoundFactor = 1;

// The calibration settings a calibrated job or unit depends on.
std::string describe_calibration(const SweepConfig& c) {
  const CalibrationSettings& k = c.calibration;
  return ";calibrate=" + k.grid_text + "," + std::to_string(k.steps) + "," + std::to_string(k.burn_in) + "," +
         std::to_string(k.chains) + "," + exact(k.rule.plateau_tolerance) + "," +
         exact(k.rule.max_nonstationary) + "," + k.rule.pick;
}

// step: the step size, or NaN for the slots of a calibrated sampler (and its calibration).
std::string describe(const SweepConfig& c, std::uint64_t problem_seed, const SamplerGrid& g,
                     double step, std::int64_t ranks_per_chain, double estimate_bound_factor) {
  const samplers::SamplerConfig& k = g.constants;
  std::string d = "class=" + c.model_class + ";problem_seed=" + std::to_string(problem_seed) +
                  ";n=" + std::to_string(c.n) + ";target_sigma=" + exact(c.target_sigma) +
                  ";sampler=" + g.name + ";step_size=" + (std::isnan(step) ? "calibrate" : exact(step)) +
                  ";steps=" + std::to_string(c.steps) + ";burn_in=" + std::to_string(c.burn_in) +
                  ";batch_size=" + std::to_string(c.batch_size) + ";gamma=" + exact(c.gamma) +
                  ";nbeta=" + exact(c.nbeta) + ";chains=" + std::to_string(c.chains_per_job) +
                  ";sampling=" + (c.sampling == dln::Sampling::kWithReplacement ? "with" : "without") +
                  ";divergence_factor=" + exact(c.divergence_factor) +
                  ";estimate_bound_factor=" + exact(estimate_bound_factor) +
                  ";backend=" + c.backend + ";sweep_seed=" + std::to_string(c.seed);
  d += ";beta1=" + exact(k.beta1) + ";beta2=" + exact(k.beta2) + ";alpha=" + exact(k.alpha) +
       ";v0=" + exact(k.v0) + ";bias_correction=" + (k.bias_correction ? "1" : "0") +
       ";friction=" + exact(k.friction) + ";diffusion=" + exact(k.diffusion);
  // Only when they are not the defaults of earlier versions, so the ids of jobs written before
  // these settings existed stay the same.
  if (c.teacher != dln::TeacherMode::kPaper) d += std::string(";teacher=") + dln::to_string(c.teacher);
  if (ranks_per_chain != 1) d += ";ranks_per_chain=" + std::to_string(ranks_per_chain);
  if (std::isnan(step)) d += describe_calibration(c);
  return d;
}

// A job's description: its chain's, and how its targets, loss and gradient are computed (the same
// chain, data and noise either way; stores of versions before factored targets used the product,
// of versions before the narrowest-width gradient went layer by layer, and of versions before
// sums over the batch in halves summed it whole).
std::string describe_job(const SweepConfig& c, std::uint64_t problem_seed, const SamplerGrid& g, double step,
                         std::int64_t ranks_per_chain) {
  return describe(c, problem_seed, g, step, ranks_per_chain, c.estimate_bound_factor) +
         (c.factored_targets ? ";targets=factored" : "") + (c.narrowest_gradient ? ";gradient=narrowest" : "") +
         (c.batch_halves ? ";sums=halves" : "");
}

}  // namespace

std::vector<Job> make_grid(const SweepConfig& config) {
  std::vector<Job> jobs;
  std::int64_t unit = 0;
  for (std::int64_t p = 0; p < config.problem_count; ++p) {
    const std::uint64_t seed = config.first_problem_seed + static_cast<std::uint64_t>(p);
    for (std::size_t s = 0; s < config.samplers.size(); ++s) {
      const SamplerGrid& sampler = config.samplers[s];
      // Calibrated: one "step size" per slot, NaN until the calibration chose one.
      std::vector<std::pair<double, std::int64_t>> steps;  // (step size, slot)
      if (sampler.calibrated) {
        const std::int64_t k = config.calibration.neighbours;
        for (std::int64_t slot = -k; slot <= k; ++slot) steps.emplace_back(std::nan(""), slot);
      } else {
        for (const double step : sampler.step_sizes) steps.emplace_back(step, 0);
      }
      for (const auto& [step, slot] : steps) {
        for (const std::int64_t g : config.ranks_per_chain) {
          Job j;
          j.index = static_cast<std::int64_t>(jobs.size());
          j.description = describe_job(config, seed, sampler, step, g);
          j.chain_key = describe(config, seed, sampler, step, 1, kSeedBoundFactor);
          if (sampler.calibrated) {
            j.description += ";slot=" + std::to_string(slot);
            j.chain_key += ";slot=" + std::to_string(slot);
            j.calibration = unit;
            j.slot = slot;
          }
          j.id = hex64(fnv1a64(j.description));
          j.problem_index = p;
          j.problem_seed = seed;
          j.sampler_index = s;
          j.step_size = step;
          j.ranks_per_chain = g;
          jobs.push_back(std::move(j));
        }
      }
      unit += sampler.calibrated ? 1 : 0;
    }
  }
  return jobs;
}

std::vector<CalibrationUnit> make_calibrations(const SweepConfig& config) {
  std::vector<CalibrationUnit> units;
  for (std::int64_t p = 0; p < config.problem_count; ++p) {
    const std::uint64_t seed = config.first_problem_seed + static_cast<std::uint64_t>(p);
    for (std::size_t s = 0; s < config.samplers.size(); ++s) {
      if (!config.samplers[s].calibrated) continue;
      CalibrationUnit u;
      u.index = static_cast<std::int64_t>(units.size());
      // Everything its result depends on, the estimate bound and the targets path included.
      u.description = "calibration;" + describe_job(config, seed, config.samplers[s], std::nan(""), 1);
      u.id = hex64(fnv1a64(u.description));
      u.problem_index = p;
      u.problem_seed = seed;
      u.sampler_index = s;
      units.push_back(std::move(u));
    }
  }
  return units;
}

std::vector<std::vector<std::size_t>> jobs_of_calibrations(const std::vector<Job>& grid, std::size_t units) {
  std::vector<std::vector<std::size_t>> out(units);
  for (std::size_t i = 0; i < grid.size(); ++i) {
    if (grid[i].calibration >= 0) out.at(static_cast<std::size_t>(grid[i].calibration)).push_back(i);
  }
  return out;
}

std::string slot_label(const Job& job) {
  if (job.calibration < 0) return "";
  if (job.slot == 0) return "calibrated";
  return "calibrated" + std::string(job.slot > 0 ? "+" : "") + std::to_string(job.slot);
}

dln::Problem make_problem(const SweepConfig& config, std::int64_t problem_index,
                          dln::LocalTruthMode local) {
  dln::Problem p = dln::draw_problem(dln::model_class(config.model_class),
                                     config.first_problem_seed + static_cast<std::uint64_t>(problem_index),
                                     config.teacher, local);
  if (config.n > 0) p.n = config.n;
  return p;
}

std::vector<dln::Problem> make_problems(const SweepConfig& config) {
  std::vector<std::uint64_t> seeds;
  for (std::int64_t p = 0; p < config.problem_count; ++p) {
    seeds.push_back(config.first_problem_seed + static_cast<std::uint64_t>(p));
  }
  std::vector<dln::Problem> all = dln::draw_problems(dln::model_class(config.model_class), seeds, config.teacher);
  if (config.n > 0) {
    for (auto& p : all) p.n = config.n;
  }
  return all;
}

std::uint64_t chain_seed(const SweepConfig& config, const Job& job, std::int64_t chain) {
  return splitmix64((config.seed ^ fnv1a64(job.chain_key)) + static_cast<std::uint64_t>(chain));
}

std::vector<backend::ChainSpec> chain_specs(const SweepConfig& config, const Job& job,
                                            const dln::Problem& problem) {
  std::vector<backend::ChainSpec> specs;
  for (std::int64_t c = 0; c < config.chains_per_job; ++c) {
    backend::ChainSpec s;
    s.sampler = config.samplers[job.sampler_index].constants;
    s.sampler.step_size = job.step_size;
    s.sampler.gamma = config.gamma;
    const double n = static_cast<double>(problem.n);
    s.sampler.nbeta = config.nbeta > 0 ? config.nbeta : n / std::log(n);
    s.steps = config.steps;
    s.burn_in = config.burn_in;
    s.batch_size = config.batch_size;
    s.chain_seed = chain_seed(config, job, c);
    s.sampling = config.sampling;
    s.divergence_factor = config.divergence_factor;
    s.estimate_bound_factor = config.estimate_bound_factor;
    s.diag_every = config.diag_every;
    s.drift_check_every = config.drift_check_every;
    s.test_drift_at_step = config.drift_at_step;
    backend::validate(s, problem);
    specs.push_back(s);
  }
  return specs;
}

}  // namespace llcb::sweep
