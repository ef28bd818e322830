#include "lib/sweep/session.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/log.hpp"
#include "lib/core/parse.hpp"
#include "lib/reduce/reduce.hpp"
#include "lib/sweep/runner.hpp"

namespace llcb::sweep {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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
               {"estimate_se", nan},
               {"diverged", zero},          {"diverged_chains", zero},
               {"divergence_step", minus},  {"divergence_reason", empty},
               {"mean_drift_noise_ratio", nan}, {"nonstationary", zero},
               {"steps_per_second", nan},   {"seconds", nan},
               {"host", empty},             {"backend", empty},
               {"precision", empty},
               {"finished", empty},         {"message", empty}};
  return t;
}

// Combines the chains of a job into its row, and lays out its decimated traces (rows x chains).
store::JobResult combine(const std::vector<estimator::ChainResult>& chains, const dln::Problem& problem,
                         std::int64_t steps, std::int64_t trace_every, std::vector<float>& trace) {
  store::JobResult r;
  r.status = "done";
  double sum = 0, raw = 0, var = 0, ratio = 0, seconds = 0, steps_run = 0;
  r.divergence_step = -1;
  for (const auto& c : chains) {
    if (c.diverged) {
      ++r.diverged_chains;
      if (r.divergence_step < 0 || c.divergence_step < r.divergence_step) {
        r.divergence_step = c.divergence_step;
        r.divergence_reason = estimator::to_string(c.reason);
      }
    } else {
      sum += c.lambda_hat;
    }
    raw += c.raw_estimate;
    var += c.estimate_se * c.estimate_se;
    ratio += c.mean_drift_noise_ratio;
    seconds += c.seconds;
    steps_run += static_cast<double>(c.steps_run);
    r.nonstationary |= c.nonstationary ? 1 : 0;
  }
  const double k = static_cast<double>(chains.size());
  const double lambda_true = problem.truth.lambda.to_double();
  r.diverged = r.diverged_chains > 0 ? 1 : 0;
  r.lambda_hat = r.diverged ? kNaN : sum / k;
  r.rel_error = (r.lambda_hat - lambda_true) / lambda_true;
  r.raw_estimate = raw / k;
  r.estimate_se = std::sqrt(var) / k;  // of the mean of k independent chains
  r.mean_drift_noise_ratio = ratio / k;
  r.seconds = seconds;
  r.steps_per_second = seconds > 0 ? steps_run / seconds : 0;
  if (r.divergence_reason.empty()) r.divergence_reason = "none";
  const auto rows = static_cast<std::size_t>((steps + trace_every - 1) / trace_every);
  trace.assign(rows * chains.size(), std::numeric_limits<float>::quiet_NaN());
  for (std::size_t c = 0; c < chains.size(); ++c) {
    const auto& t = chains[c].loss_trace;
    for (std::size_t row = 0; row < rows; ++row) {
      const std::size_t step = row * static_cast<std::size_t>(trace_every);
      if (step < t.size()) trace[row * chains.size() + c] = t[step];
    }
  }
  return r;
}

// The seed recipes of earlier versions (the store records its own). Both hashed a job's
// description with the store's own estimate_bound_factor, so their chains are this version's
// when that factor was 1 (the default then).
constexpr const char* kEarlierSeedRecipes[] = {
    "chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description) + c); "
    "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
    "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
    "(EPOC, BTCH, LANG) as in docs/problems.md",
    "chain seed of chain c of a job = splitmix64(sweep.seed XOR fnv1a64(job description without "
    "its ;ranks_per_chain=G part) + c); "
    "job id = hex(fnv1a64(job description)); problem p has seed problems.first_seed + p; "
    "Philox4x32-10 streams keyed by problem seed (ARCH, RANK, TCHR, XINP, YNOI) and chain seed "
    "(EPOC, BTCH, LANG) as in docs/problems.md",
};

// Refuses to continue a store whose remaining jobs this version would seed differently from the
// jobs already in it (--force-config does not change that: the chains would not be the same).
void check_seed_recipe(const store::Store& s) {
  const store::StoreHeader h = s.header();
  if (h.seed_recipe == kSeedRecipe) return;
  const bool earlier = std::find(std::begin(kEarlierSeedRecipes), std::end(kEarlierSeedRecipes),
                                 h.seed_recipe) != std::end(kEarlierSeedRecipes);
  const auto stored = parse_canonical(h.config_canonical);
  const auto factor = stored.find("chain.estimate_bound_factor");
  const std::string bound = factor == stored.end() ? "1" : factor->second;
  if (earlier && bound == "1") return;
  throw UsageError("store '" + s.path() + "' was made by an llcbench that seeds chains differently" +
                   (earlier ? " when chain.estimate_bound_factor is not 1 (it is " + bound + " here)" : "") +
                   ": its pending jobs cannot be run with the same chains; finish it with the "
                   "version that made it, or start a new store");
}

void check_store_matches(const store::Store& s, const SweepConfig& config, bool force) {
  check_seed_recipe(s);
  const auto diff = config_differences(parse_canonical(s.header().config_canonical), config.canonical);
  if (diff.empty()) return;
  std::string keys;
  for (const auto& d : diff) keys += (keys.empty() ? "" : "; ") + d;
  if (!force) {
    // The bound's default changed in 0.2: a store made with another bound has other job ids.
    const bool bound = keys.find("chain.estimate_bound_factor: '") != std::string::npos;
    throw UsageError("store '" + s.path() + "' was made by a different config (" + keys + "); " +
                     (bound ? "--set chain.estimate_bound_factor=" +
                                  parse_canonical(s.header().config_canonical)["chain.estimate_bound_factor"] +
                                  " continues it under the bound it was made with"
                            : "use --force-config to continue it anyway"));
  }
  log::warn("continuing a store made by a different config: {}", keys);
}

}  // namespace

store::TraceShape trace_shape(const SweepConfig& config) {
  return {(config.steps + config.trace_every - 1) / config.trace_every, config.chains_per_job,
          config.trace_every};
}

namespace {

JobOutcome failed_outcome(const std::string& message) {
  JobOutcome out;
  out.result.status = "failed";
  out.result.lambda_hat = kNaN;
  out.result.rel_error = kNaN;
  out.result.raw_estimate = kNaN;
  out.result.estimate_se = kNaN;
  out.result.mean_drift_noise_ratio = kNaN;
  out.result.divergence_reason = "none";
  out.result.message = message;
  return out;
}

}  // namespace

std::vector<std::size_t> bundle_of(const std::vector<const Job*>& todo, std::size_t first,
                                   std::int64_t bundle) {
  std::vector<std::size_t> picked = {first};
  const Job& lead = *todo[first];
  if (lead.ranks_per_chain != 1) return picked;
  for (std::size_t i = 0; i < todo.size() && static_cast<std::int64_t>(picked.size()) < bundle; ++i) {
    const Job& j = *todo[i];
    if (i != first && j.problem_index == lead.problem_index && j.sampler_index == lead.sampler_index &&
        j.ranks_per_chain == 1) {
      picked.push_back(i);
    }
  }
  return picked;
}

std::vector<JobOutcome> run_jobs(const SweepConfig& config, const std::vector<const Job*>& jobs,
                                 const dln::Problem& problem, backend::Backend& backend,
                                 const JobTraceListener* listener, backend::ChainGroup* group) {
  const std::int64_t members = group ? group->size() : 1;
  for (const Job* job : jobs) {
    if (members != job->ranks_per_chain || (members > 1 && jobs.size() > 1)) {
      throw InternalError("job " + job->id + " needs a group of " + std::to_string(job->ranks_per_chain) +
                          " ranks and runs alone in it, got " + std::to_string(members) + " ranks and " +
                          std::to_string(jobs.size()) + " jobs");
    }
  }
  std::vector<JobOutcome> out(jobs.size());
  // The chains of every job that runs, in job order; owner[k] = the position of chain k's job.
  std::vector<backend::ChainSpec> specs;
  std::vector<std::size_t> owner;
  for (std::size_t i = 0; i < jobs.size(); ++i) {
    if (jobs[i]->index == config.fail_job) {
      out[i] = failed_outcome("injected fault (test.fail_job)");
      continue;
    }
    for (const auto& s : chain_specs(config, *jobs[i], problem)) {
      specs.push_back(s);
      owner.push_back(i);
    }
  }
  backend::TraceListener raw;
  if (listener && listener->on_losses) {
    raw.interval_seconds = listener->interval_seconds;
    raw.on_losses = [&](std::size_t k, std::int64_t first, const float* losses, std::size_t n) {
      const std::size_t first_chain =
          static_cast<std::size_t>(std::find(owner.begin(), owner.end(), owner[k]) - owner.begin());
      listener->on_losses(*jobs[owner[k]], k - first_chain, first, losses, n);
    };
  }
  if (!specs.empty()) {
    std::vector<estimator::ChainResult> chains;
    std::string error;
    try {
      chains = backend.run(problem, backend::DataSpec{config.target_sigma}, specs,
                           raw.on_losses ? &raw : nullptr, group);
    } catch (const UsageError&) {
      throw;
    } catch (const std::exception& e) {
      error = e.what();
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (jobs[i]->index == config.fail_job) continue;
      if (!error.empty()) {
        out[i] = failed_outcome(error);
        continue;
      }
      std::vector<estimator::ChainResult> mine;
      bool complete = true;
      for (std::size_t k = 0; k < owner.size(); ++k) {
        if (owner[k] != i) continue;
        if (k >= chains.size() || chains[k].interrupted) complete = false;
        if (k < chains.size()) mine.push_back(chains[k]);
      }
      if (!complete) {
        out[i].interrupted = true;
        continue;
      }
      out[i].result = combine(mine, problem, config.steps, config.trace_every, out[i].trace);
    }
  }
  for (auto& o : out) {
    o.result.backend = backend.name();
    o.result.precision = backend.precision();
  }
  return out;
}

SweepSession::SweepSession(const SweepConfig& config, const std::string& store_path, bool resume,
                           bool force_config)
    : config_(config), grid_(make_grid(config)) {
  const bool exists = std::filesystem::exists(store_path);
  if (exists && !resume) {
    throw UsageError("store '" + store_path +
                     "' already exists; use --resume to continue it (it is never overwritten)");
  }
  if (exists) {
    store_.emplace(store::Store::open(store_path, true));
    check_store_matches(*store_, config, force_config);
  } else {
    std::vector<dln::Problem> all = make_problems(config);
    for (std::int64_t p = 0; p < config.problem_count; ++p) problems_.emplace(p, all[static_cast<std::size_t>(p)]);
    for (const Job& j : grid_) {  // validate every setting before creating anything
      if (j.sampler_index == 0 && j.step_size == config.samplers[0].step_sizes.front()) {
        chain_specs(config, j, all[static_cast<std::size_t>(j.problem_index)]);
      }
    }
    store::StoreHeader h{config.text, format_canonical(config.canonical), config.hash, kSeedRecipe};
    store_.emplace(store::Store::create(store_path, h, problems_table(all),
                                        jobs_table(config, grid_, all), trace_shape(config)));
  }
  const store::Table jobs = store_->table("jobs");
  const auto& ids = jobs.get<std::string>("job_id");
  const auto& status = jobs.get<std::string>("status");
  lambda_true_ = jobs.get<double>("lambda_true");
  // Stores written before truth statuses existed record Aoyagi's value only.
  lambda_lower_ = jobs.find("lambda_lower") ? jobs.get<double>("lambda_lower") : lambda_true_;
  truth_status_ = jobs.find("truth_status") ? jobs.get<std::string>("truth_status")
                                            : std::vector<std::string>(lambda_true_.size());
  for (std::size_t r = 0; r < ids.size(); ++r) row_of_[ids[r]] = r;
  std::int64_t missing = 0;
  for (const Job& j : grid_) {
    const auto it = row_of_.find(j.id);
    if (it == row_of_.end()) {
      ++missing;
    } else if (status[it->second] == "done") {
      ++skipped_;
    } else {
      todo_.push_back(&j);
    }
  }
  if (missing > 0) {
    throw UsageError(std::to_string(missing) + " jobs of this config are not in store '" +
                     store_path + "' (the grid changed); start a new store");
  }
  if (skipped_ > 0) log::info("resuming: {} of {} jobs already done", skipped_, grid_.size());
}

const dln::Problem& SweepSession::problem(std::int64_t index) {
  auto it = problems_.find(index);
  if (it == problems_.end()) it = problems_.emplace(index, make_problem(config_, index)).first;
  return it->second;
}

void SweepSession::record_chunk(const Job& job, std::size_t chain, std::int64_t first_step,
                                const float* losses, std::size_t n) {
  const std::int64_t every = config_.trace_every;
  std::int64_t step = (first_step + every - 1) / every * every;  // first kept step in the chunk
  std::vector<float> rows;
  for (; step < first_step + static_cast<std::int64_t>(n); step += every) {
    rows.push_back(losses[step - first_step]);
  }
  if (!rows.empty()) {
    store_->write_trace_rows(static_cast<std::int64_t>(row_of_.at(job.id)), chain,
                             static_cast<std::size_t>(step / every) - rows.size(), rows);
  }
  const auto now = std::chrono::steady_clock::now();
  if (std::chrono::duration<double>(now - last_flush_).count() >= 2.0) {
    store_->flush();
    last_flush_ = now;
  }
}

void SweepSession::record(const Job& job, store::JobResult result, const std::vector<float>& trace,
                          const std::string& host, const std::string& backend) {
  result.host = host;
  if (!backend.empty()) result.backend = backend;
  const double lower = truth(job).lambda_lower;
  result.rel_error_lower = (result.lambda_hat - lower) / lower;
  store_->write_job(static_cast<std::int64_t>(row_of_.at(job.id)), job.id, result, trace);
  last_flush_ = std::chrono::steady_clock::now();
}

store::Table SweepSession::finish() {
  store::Table summary = reduce::summarize(store_->table("jobs"));
  store_->write_summary(summary);
  return summary;
}

}  // namespace llcb::sweep
