#include "lib/sweep/runner.hpp"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>
#include <map>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/log.hpp"
#include "lib/reduce/reduce.hpp"
#include "lib/samplers/registry.hpp"
#include "lib/store/store.hpp"

namespace llcb::sweep {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

store::Table problems_table(const std::vector<dln::Problem>& problems) {
  std::vector<std::int64_t> index, seed, layers, rank, d, n, multiplicity;
  std::vector<std::string> cls, widths, exact;
  std::vector<double> lambda;
  for (std::size_t i = 0; i < problems.size(); ++i) {
    const dln::Problem& p = problems[i];
    index.push_back(static_cast<std::int64_t>(i));
    cls.push_back(p.class_name);
    seed.push_back(static_cast<std::int64_t>(p.seed));
    layers.push_back(p.layers());
    std::string w;
    for (std::size_t j = 0; j < p.widths.size(); ++j) w += (j ? "," : "") + std::to_string(p.widths[j]);
    widths.push_back(w);
    rank.push_back(p.rank);
    d.push_back(p.truth.d);
    n.push_back(p.n);
    lambda.push_back(p.truth.lambda.to_double());
    exact.push_back(p.truth.lambda.to_string());
    multiplicity.push_back(p.truth.multiplicity);
  }
  store::Table t;
  t.columns = {{"problem_index", index}, {"class", cls},     {"seed", seed},
               {"layers", layers},       {"widths", widths}, {"rank", rank},
               {"d", d},                 {"n", n},           {"lambda_true", lambda},
               {"lambda_exact", exact},  {"multiplicity", multiplicity}};
  return t;
}

store::Table jobs_table(const SweepConfig& c, const std::vector<Job>& jobs,
                        const std::vector<dln::Problem>& problems) {
  const std::size_t n = jobs.size();
  std::vector<std::int64_t> index, problem, pseed, chains(n, c.chains_per_job), steps(n, c.steps),
      burn(n, c.burn_in), batch(n, c.batch_size), size_n, zero(n, 0), minus(n, -1);
  std::vector<std::string> id, cls(n, c.model_class), sampler, pending(n, "pending"), empty(n);
  std::vector<double> step, gamma(n, c.gamma), nbeta, truth, nan(n, kNaN);
  for (const Job& j : jobs) {
    const dln::Problem& p = problems[static_cast<std::size_t>(j.problem_index)];
    index.push_back(j.index);
    id.push_back(j.id);
    problem.push_back(j.problem_index);
    pseed.push_back(static_cast<std::int64_t>(j.problem_seed));
    sampler.push_back(c.samplers[j.sampler_index].name);
    step.push_back(j.step_size);
    const double pn = static_cast<double>(p.n);
    nbeta.push_back(c.nbeta > 0 ? c.nbeta : pn / std::log(pn));
    size_n.push_back(p.n);
    truth.push_back(p.truth.lambda.to_double());
  }
  store::Table t;
  t.columns = {{"job_index", index},        {"job_id", id},
               {"problem_index", problem},  {"class", cls},
               {"problem_seed", pseed},     {"sampler", sampler},
               {"step_size", step},         {"chains", chains},
               {"steps", steps},            {"burn_in", burn},
               {"batch_size", batch},       {"gamma", gamma},
               {"nbeta", nbeta},            {"n", size_n},
               {"lambda_true", truth},      {"status", pending},
               {"lambda_hat", nan},         {"rel_error", nan},
               {"diverged", zero},          {"diverged_chains", zero},
               {"divergence_step", minus},  {"divergence_reason", empty},
               {"mean_drift_noise_ratio", nan}, {"nonstationary", zero},
               {"steps_per_second", nan},   {"seconds", nan},
               {"host", empty},             {"backend", empty},
               {"finished", empty},         {"message", empty}};
  return t;
}

// Combines the chains of a job into its row, and lays out its decimated traces (rows x chains).
store::JobResult combine(const std::vector<estimator::ChainResult>& chains, double lambda_true,
                         std::int64_t steps, std::int64_t trace_every, std::vector<float>& trace) {
  store::JobResult r;
  r.status = "done";
  double sum = 0, ratio = 0, seconds = 0, steps_run = 0;
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
    ratio += c.mean_drift_noise_ratio;
    seconds += c.seconds;
    steps_run += static_cast<double>(c.steps_run);
    r.nonstationary |= c.nonstationary ? 1 : 0;
  }
  const double k = static_cast<double>(chains.size());
  r.diverged = r.diverged_chains > 0 ? 1 : 0;
  r.lambda_hat = r.diverged ? kNaN : sum / k;
  r.rel_error = (r.lambda_hat - lambda_true) / lambda_true;
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

void check_store_matches(const store::Store& s, const SweepConfig& config, bool force) {
  SweepConfig stored = config;
  stored.canonical = parse_canonical(s.header().config_canonical);
  const auto diff = config_differences(stored, config);
  if (diff.empty()) return;
  std::string keys;
  for (const auto& d : diff) keys += (keys.empty() ? "" : "; ") + d;
  if (!force) {
    throw UsageError("store '" + s.path() + "' was made by a different config (" + keys +
                     "); use --force-config to continue it anyway");
  }
  log::warn("continuing a store made by a different config: {}", keys);
}

}  // namespace

std::map<std::string, std::string> parse_canonical(const std::string& text) {
  std::map<std::string, std::string> m;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    const auto eq = line.find('=');
    if (eq != std::string::npos) m[line.substr(0, eq)] = line.substr(eq + 1);
  }
  return m;
}

std::string format_canonical(const std::map<std::string, std::string>& canonical) {
  std::string out;
  for (const auto& [k, v] : canonical) out += k + "=" + v + "\n";
  return out;
}

RunSummary run_sweep(const SweepConfig& config, const RunOptions& options) {
  const std::vector<Job> grid = make_grid(config);
  RunSummary summary;
  summary.total = static_cast<std::int64_t>(grid.size());

  std::map<std::int64_t, dln::Problem> problems;  // drawn lazily when resuming
  const auto problem = [&](std::int64_t i) -> const dln::Problem& {
    auto it = problems.find(i);
    if (it == problems.end()) it = problems.emplace(i, make_problem(config, i)).first;
    return it->second;
  };

  const bool exists = std::filesystem::exists(options.store_path);
  if (exists && !options.resume) {
    throw UsageError("store '" + options.store_path +
                     "' already exists; use --resume to continue it (it is never overwritten)");
  }
  std::optional<store::Store> st;
  if (exists) {
    st.emplace(store::Store::open(options.store_path, true));
    check_store_matches(*st, config, options.force_config);
  } else {
    std::vector<dln::Problem> all;
    for (std::int64_t p = 0; p < config.problem_count; ++p) all.push_back(problem(p));
    for (const Job& j : grid) {  // validate every setting before creating anything
      if (j.sampler_index == 0 && j.step_size == config.samplers[0].step_sizes.front()) {
        chain_specs(config, j, all[static_cast<std::size_t>(j.problem_index)]);
      }
    }
    store::StoreHeader h{config.text, format_canonical(config.canonical), config.hash, kSeedRecipe};
    const store::TraceShape shape{(config.steps + config.trace_every - 1) / config.trace_every,
                                  config.chains_per_job, config.trace_every};
    st.emplace(store::Store::create(options.store_path, h, problems_table(all),
                                    jobs_table(config, grid, all), shape));
  }

  const store::Table jobs = st->table("jobs");
  const auto& ids = jobs.get<std::string>("job_id");
  const auto& status = jobs.get<std::string>("status");
  std::map<std::string, std::size_t> row_of;
  for (std::size_t r = 0; r < ids.size(); ++r) row_of[ids[r]] = r;
  std::vector<const Job*> todo;
  std::int64_t missing = 0;
  for (const Job& j : grid) {
    const auto it = row_of.find(j.id);
    if (it == row_of.end()) {
      ++missing;
      continue;
    }
    if (status[it->second] == "done") {
      ++summary.skipped;
    } else {
      todo.push_back(&j);
    }
  }
  if (missing > 0) {
    throw UsageError(std::to_string(missing) + " jobs of this config are not in store '" +
                     options.store_path + "' (the grid changed); start a new store");
  }
  if (summary.skipped > 0) log::info("resuming: {} of {} jobs already done", summary.skipped, summary.total);

  backend::BackendOptions bo;
  bo.name = config.backend;
  bo.threads = config.threads;
  bo.stop = options.stop;
  auto be = backend::make_backend(bo);

  Progress progress;
  progress.total = summary.total;
  progress.done = summary.skipped;
  progress.to_run = static_cast<std::int64_t>(todo.size());
  const auto start = std::chrono::steady_clock::now();
  for (const Job* j : todo) {
    if (options.stop && options.stop->load()) {
      summary.interrupted = true;
      break;
    }
    const dln::Problem& p = problem(j->problem_index);
    const auto specs = chain_specs(config, *j, p);
    store::JobResult result;
    std::vector<float> trace;
    const double lambda_true = p.truth.lambda.to_double();
    try {
      const auto chains = be->run(p, backend::DataSpec{config.target_sigma}, specs);
      if (chains.size() < specs.size() || chains.back().interrupted) {
        summary.interrupted = true;
        break;
      }
      result = combine(chains, lambda_true, config.steps, config.trace_every, trace);
    } catch (const UsageError&) {
      throw;
    } catch (const std::exception& e) {
      result = store::JobResult{};
      result.status = "failed";
      result.lambda_hat = kNaN;
      result.rel_error = kNaN;
      result.mean_drift_noise_ratio = kNaN;
      result.divergence_reason = "none";
      result.message = e.what();
      trace.clear();
    }
    result.host = options.host;
    result.backend = be->name();
    st->write_job(static_cast<std::int64_t>(row_of.at(j->id)), j->id, result, trace);
    ++summary.ran;
    summary.failed += result.status == "failed";
    ++progress.done;
    ++progress.ran;
    progress.elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    progress.chains_per_second =
        static_cast<double>(progress.ran * config.chains_per_job) / std::max(progress.elapsed, 1e-9);
    progress.eta_seconds = progress.elapsed / static_cast<double>(progress.ran) *
                           static_cast<double>(progress.to_run - progress.ran);
    progress.job = j;
    progress.lambda_hat = result.lambda_hat;
    progress.lambda_true = lambda_true;
    progress.failed = result.status == "failed";
    progress.message = result.message;
    if (options.on_progress) options.on_progress(progress);
  }
  summary.done = progress.done;
  summary.summary = reduce::summarize(st->table("jobs"));
  st->write_summary(summary.summary);
  return summary;
}

}  // namespace llcb::sweep
