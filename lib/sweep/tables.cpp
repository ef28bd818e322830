#include "lib/sweep/tables.hpp"

#include <cmath>
#include <limits>

#include "lib/core/parse.hpp"

namespace llcb::sweep {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

}  // namespace

store::Table problems_table(const std::vector<dln::Problem>& problems) {
  std::vector<std::int64_t> index, seed, layers, rank, d, n, multiplicity, jrank;
  std::vector<std::string> cls, widths, exact, teacher, layer_ranks, status;
  std::vector<double> lambda, smooth, lower;
  for (std::size_t i = 0; i < problems.size(); ++i) {
    const dln::Problem& p = problems[i];
    index.push_back(static_cast<std::int64_t>(i));
    cls.push_back(p.class_name);
    seed.push_back(static_cast<std::int64_t>(p.seed));
    layers.push_back(p.layers());
    widths.push_back(join_ints(p.widths));
    rank.push_back(p.rank);
    d.push_back(p.truth.d);
    n.push_back(p.n);
    lambda.push_back(p.truth.lambda.to_double());
    exact.push_back(p.truth.lambda.to_string());
    multiplicity.push_back(p.truth.multiplicity);
    teacher.emplace_back(dln::to_string(p.teacher));
    layer_ranks.push_back(join_ints(p.local.layer_ranks));
    jrank.push_back(p.local.jacobian_rank);
    smooth.push_back(p.local.lambda_smooth.to_double());
    lower.push_back(p.local.lambda_lower.to_double());
    status.emplace_back(dln::to_string(p.local.status));
  }
  store::Table t;
  t.columns = {{"problem_index", index}, {"class", cls},     {"seed", seed},
               {"layers", layers},       {"widths", widths}, {"rank", rank},
               {"d", d},                 {"n", n},           {"lambda_true", lambda},
               {"lambda_exact", exact},  {"multiplicity", multiplicity},
               {"teacher", teacher},     {"layer_ranks", layer_ranks},
               {"jacobian_rank", jrank}, {"lambda_smooth", smooth},
               {"lambda_lower", lower},  {"truth_status", status}};
  return t;
}

store::Table jobs_table(const SweepConfig& c, const std::vector<Job>& jobs,
                        const std::vector<dln::Problem>& problems) {
  const std::size_t n = jobs.size();
  std::vector<std::int64_t> index, problem, pseed, group, chains(n, c.chains_per_job), steps(n, c.steps),
      burn(n, c.burn_in), batch(n, c.batch_size), size_n, zero(n, 0), minus(n, -1);
  std::vector<std::string> id, cls(n, c.model_class), sampler, pending(n, "pending"), empty(n),
      teacher(n, dln::to_string(c.teacher)), status;
  std::vector<double> step, gamma(n, c.gamma), nbeta, truth, smooth, lower, nan(n, kNaN);
  for (const Job& j : jobs) {
    const dln::Problem& p = problems[static_cast<std::size_t>(j.problem_index)];
    index.push_back(j.index);
    id.push_back(j.id);
    problem.push_back(j.problem_index);
    pseed.push_back(static_cast<std::int64_t>(j.problem_seed));
    sampler.push_back(c.samplers[j.sampler_index].name);
    step.push_back(j.step_size);
    group.push_back(j.ranks_per_chain);
    const double pn = static_cast<double>(p.n);
    nbeta.push_back(c.nbeta > 0 ? c.nbeta : pn / std::log(pn));
    size_n.push_back(p.n);
    truth.push_back(p.truth.lambda.to_double());
    smooth.push_back(p.local.lambda_smooth.to_double());
    lower.push_back(p.local.lambda_lower.to_double());
    status.emplace_back(dln::to_string(p.local.status));
  }
  store::Table t;
  t.columns = {{"job_index", index},        {"job_id", id},
               {"problem_index", problem},  {"class", cls},
               {"problem_seed", pseed},     {"sampler", sampler},
               {"step_size", step},         {"ranks_per_chain", group},
               {"chains", chains},
               {"steps", steps},            {"burn_in", burn},
               {"batch_size", batch},       {"gamma", gamma},
               {"nbeta", nbeta},            {"n", size_n},
               {"lambda_true", truth},      {"teacher", teacher},
               {"truth_status", status},    {"lambda_smooth", smooth},
               {"lambda_lower", lower},     {"status", pending},
               {"lambda_hat", nan},         {"rel_error", nan},
               {"rel_error_lower", nan},    {"raw_estimate", nan},
               {"estimate_se", nan},        {"checksum", zero},
               {"diverged", zero},          {"diverged_chains", zero},
               {"divergence_step", minus},  {"divergence_reason", empty},
               {"mean_drift_noise_ratio", nan}, {"nonstationary", zero},
               {"steps_per_second", nan},   {"seconds", nan},
               {"host", empty},             {"backend", empty},
               {"precision", empty},
               {"finished", empty},         {"message", empty}};
  if (c.calibrates()) {  // the slot of calibrated jobs (stores without calibrated samplers lack it)
    std::vector<std::string> slot;
    for (const Job& j : jobs) slot.push_back(slot_label(j));
    t.columns.push_back({"slot", slot});
  }
  return t;
}

store::Table calibrations_table(const SweepConfig& c, const std::vector<CalibrationUnit>& units) {
  const std::size_t n = units.size();
  std::vector<std::int64_t> index, problem, pseed, zero(n, 0);
  std::vector<std::string> id, sampler, pending(n, "pending"), empty(n);
  std::vector<double> nan(n, kNaN);
  for (const CalibrationUnit& u : units) {
    index.push_back(u.index);
    id.push_back(u.id);
    problem.push_back(u.problem_index);
    pseed.push_back(static_cast<std::int64_t>(u.problem_seed));
    sampler.push_back(c.samplers[u.sampler_index].name);
  }
  store::Table t;
  t.columns = {{"calibration_index", index}, {"calibration_id", id}, {"problem_index", problem},
               {"problem_seed", pseed},      {"sampler", sampler},   {"status", pending},
               {"found", zero},              {"step_size", nan},     {"accepted_low", nan},
               {"accepted_high", nan},       {"why", empty},         {"detail", empty},
               {"seconds", nan},             {"host", empty},        {"backend", empty},
               {"finished", empty}};
  return t;
}

}  // namespace llcb::sweep
