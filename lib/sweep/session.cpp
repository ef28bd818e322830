#include "lib/sweep/session.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <sstream>

#include "lib/core/error.hpp"
#include "lib/core/log.hpp"
#include "lib/core/parse.hpp"
#include "lib/core/utc.hpp"
#include "lib/reduce/reduce.hpp"
#include "lib/sweep/repair.hpp"
#include "lib/sweep/runner.hpp"
#include "lib/sweep/tables.hpp"

namespace llcb::sweep {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

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
void check_seed_recipe(const store::StoreHeader& h, const std::string& path) {
  if (h.seed_recipe == kSeedRecipe || std::find(std::begin(kPreviousSeedRecipes), std::end(kPreviousSeedRecipes),
                                                h.seed_recipe) != std::end(kPreviousSeedRecipes)) {
    return;
  }
  const bool earlier = std::find(std::begin(kEarlierSeedRecipes), std::end(kEarlierSeedRecipes),
                                 h.seed_recipe) != std::end(kEarlierSeedRecipes);
  const auto stored = parse_canonical(h.config_canonical);
  const auto factor = stored.find("chain.estimate_bound_factor");
  const std::string bound = factor == stored.end() ? "1" : factor->second;
  if (earlier && bound == "1") return;
  throw UsageError("store '" + path + "' was made by an llcbench that seeds chains differently" +
                   (earlier ? " when chain.estimate_bound_factor is not 1 (it is " + bound + " here)" : "") +
                   ": its pending jobs cannot be run with the same chains; finish it with the "
                   "version that made it, or start a new store");
}

// The keys in which this config differs from the store's ("" where none), refused unless `force`.
std::string check_store_matches(const store::StoreHeader& h, const std::string& path, const SweepConfig& config,
                                bool force) {
  check_seed_recipe(h, path);
  const auto diff = config_differences(parse_canonical(h.config_canonical), config.canonical);
  if (diff.empty()) return "";
  std::string keys;
  for (const auto& d : diff) keys += (keys.empty() ? "" : "; ") + d;
  if (!force) {
    // The bound's default changed in 0.2: a store made with another bound has other job ids.
    const bool bound = keys.find("chain.estimate_bound_factor: '") != std::string::npos;
    throw UsageError("store '" + path + "' was made by a different config (" + keys + "); " +
                     (bound ? "--set chain.estimate_bound_factor=" +
                                  parse_canonical(h.config_canonical)["chain.estimate_bound_factor"] +
                                  " continues it under the bound it was made with"
                            : "use --force-config to continue it anyway"));
  }
  log::warn("continuing a store made by a different config: {}", keys);
  return keys;
}

// The refusal of a config whose jobs (or calibrations) the store lacks; `changed` as
// check_store_matches returns it.
UsageError not_in_store(std::int64_t missing, const std::string& what, const std::string& path,
                        const std::string& changed) {
  return UsageError(std::to_string(missing) + " " + what + " of this config are not in store '" + path + "' (" +
                    (changed.empty() ? "the grid changed" : "the config changed: " + changed) +
                    "); start a new store");
}

// The refusal of a config with calibrated samplers for a store made without any.
UsageError no_calibrations(const std::string& path) {
  return UsageError("store '" + path + "' has no /calibrations: it was made without calibrated samplers; start a new store");
}

// The header of the store at `path`, or of its journal when the store cannot be read (or is gone).
store::StoreHeader stored_header(const std::string& path) {
  try {
    return store::Store::open(path, false).header();
  } catch (const Error& e) {
    const store::JournalContents journal = store::read_journal(path);
    if (!journal.has_header) throw UsageError(e.what());
    return journal.header;
  }
}

}  // namespace

std::map<std::string, std::string> stored_config(const std::string& path) {
  if (!std::filesystem::exists(path) && !store::read_journal(path).has_header) return {};
  try {
    return parse_canonical(stored_header(path).config_canonical);
  } catch (const Error&) {
    return {};  // unreadable: the session says why when it opens it
  }
}

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
    if (jobs[i]->calibration >= 0 && std::isnan(jobs[i]->step_size)) {
      out[i] = failed_outcome("its calibration found no step size (see /calibrations)");
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
      chains = backend.run(problem, data_spec(config), specs,
                           raw.on_losses ? &raw : nullptr, group);
    } catch (const UsageError&) {
      throw;
    } catch (const DeviceLostError&) {
      throw;  // the device runs nothing more: end this worker, not fail every later job
    } catch (const std::exception& e) {
      error = e.what();
    }
    for (std::size_t i = 0; i < jobs.size(); ++i) {
      if (std::find(owner.begin(), owner.end(), i) == owner.end()) continue;  // failed above
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

SweepSession::SweepSession(const SweepConfig& config, const std::string& store_path,
                           const SessionOptions& options)
    : config_(config), grid_(make_grid(config)), units_(make_calibrations(config)), calibrated_(units_.size()),
      unit_jobs_(jobs_of_calibrations(grid_, units_.size())), path_(store_path), host_(options.host) {
  const bool exists = std::filesystem::exists(store_path);
  if (exists && !options.resume) {
    throw UsageError("store '" + store_path +
                     "' already exists; use --resume to continue it (it is never overwritten)");
  }
  lock_.emplace(store::StoreLock::acquire(store_path, "sweep", options.force_lock));
  // A store deleted (or lost) while its journal lives is rebuilt from the journal by --resume.
  const bool rebuild = !exists && options.resume && store::read_journal(store_path).has_header;
  if (exists || rebuild) {
    // The config first: a store that this config may not continue is not touched, not even repaired.
    changed_ = check_store_matches(stored_header(store_path), store_path, config, options.force_config);
    if (!changed_.empty()) check_rows_read_only();
    recover(exists);
  } else {
    std::vector<dln::Problem> all = make_problems(config);
    for (std::int64_t p = 0; p < config.problem_count; ++p) problems_.emplace(p, all[static_cast<std::size_t>(p)]);
    for (const Job& j : grid_) {  // validate every setting before creating anything
      if (j.index == 0 || grid_[static_cast<std::size_t>(j.index) - 1].problem_index != j.problem_index) {
        Job probe = j;  // the first job of each problem (a calibrated one at its first grid step size)
        if (std::isnan(probe.step_size)) probe.step_size = config.calibration.grid.front();
        chain_specs(config, probe, all[static_cast<std::size_t>(j.problem_index)]);
      }
    }
    store::StoreHeader h{config.text, format_canonical(config.canonical), config.hash, kSeedRecipe};
    const store::Table calibrations = calibrations_table(config, units_);
    const store::CalibrationShape shape = calibration_shape(config);
    store_.emplace(store::Store::create(store_path, h, problems_table(all), jobs_table(config, grid_, all),
                                        trace_shape(config), units_.empty() ? nullptr : &calibrations,
                                        units_.empty() ? nullptr : &shape));
    journal_.emplace(store::Journal::create(store_path, h));
  }
  journal_->begin_session("sweep", host_, ::getpid(), options.ranks);
  store_->write_sessions(store::session_lines(journal_->sessions()));
  if (config.test_write_pause > 0) store_->set_test_pause(config.test_write_pause);
  const store::Table jobs = store_->table("jobs");
  const auto& ids = jobs.get<std::string>("job_id");
  const auto& status = jobs.get<std::string>("status");
  lambda_true_ = jobs.get<double>("lambda_true");
  // Stores written before truth statuses existed record Aoyagi's value only.
  lambda_lower_ = jobs.find("lambda_lower") ? jobs.get<double>("lambda_lower") : lambda_true_;
  truth_status_ = jobs.find("truth_status") ? jobs.get<std::string>("truth_status")
                                            : std::vector<std::string>(lambda_true_.size());
  for (std::size_t r = 0; r < ids.size(); ++r) row_of_[ids[r]] = r;
  if (!units_.empty()) {
    if (!store_->has("calibrations")) {
      throw no_calibrations(store_path);
    }
    // A store its last writer did not close: its calibrations as the journal has them.
    if (recovered_ && rewrite_calibrations_from_journal() > 0) store_->flush();
    load_calibrations();
  }
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
  if (missing > 0) throw not_in_store(missing, "jobs", store_path, changed_);
  if (skipped_ > 0) log::info("resuming: {} of {} jobs already done", skipped_, grid_.size());
}

const dln::Problem& SweepSession::problem(std::int64_t index) {
  auto it = problems_.find(index);
  if (it == problems_.end()) it = problems_.emplace(index, make_problem(config_, index)).first;
  return it->second;
}

SweepSession::~SweepSession() = default;

// A config continued with --force-config may have jobs or calibrations the store has no rows for:
// refused here, before anything is written or repaired. The rows are the store's, read only; where
// the store cannot be read (damaged, or gone while its journal lives) they are those of the config
// it was made with (its journal's header), which a repair would rebuild.
void SweepSession::check_rows_read_only() const {
  std::set<std::string> ids;
  std::vector<std::string> calibration_ids;
  bool has_calibrations = false;
  try {
    const store::Store st = store::Store::open(path_, false);
    const store::Table jobs = st.table("jobs");
    const auto& job_ids = jobs.get<std::string>("job_id");
    ids.insert(job_ids.begin(), job_ids.end());
    has_calibrations = st.has("calibrations");
    if (has_calibrations) calibration_ids = st.table("calibrations").get<std::string>("calibration_id");
  } catch (const Error&) {
    ids.clear();
    const SweepConfig made = config_from_canonical(parse_canonical(stored_header(path_).config_canonical));
    for (const Job& j : make_grid(made)) ids.insert(j.id);
    const std::vector<CalibrationUnit> units = make_calibrations(made);
    has_calibrations = !units.empty();
    for (const CalibrationUnit& u : units) calibration_ids.push_back(u.id);
  }
  const auto missing = std::count_if(grid_.begin(), grid_.end(), [&](const Job& j) { return !ids.count(j.id); });
  if (missing > 0) throw not_in_store(missing, "jobs", path_, changed_);
  if (units_.empty()) return;
  if (!has_calibrations) {
    throw no_calibrations(path_);
  }
  const auto absent = std::count_if(units_.begin(), units_.end(), [&](const CalibrationUnit& u) {
    return u.index >= static_cast<std::int64_t>(calibration_ids.size()) ||
           calibration_ids[static_cast<std::size_t>(u.index)] != u.id;
  });
  if (absent > 0) throw not_in_store(absent, "calibrations", path_, changed_);
}

// The recorded calibrations of the store (every unit of the config must have its row), and the
// step sizes of their jobs.
void SweepSession::load_calibrations() {
  const store::Table table = store_->table("calibrations");
  const auto& ids = table.get<std::string>("calibration_id");
  for (const CalibrationUnit& u : units_) {
    const auto it = std::find(ids.begin(), ids.end(), u.id);
    if (it == ids.end() || it - ids.begin() != u.index) {
      throw UsageError("calibration " + u.id + " of this config is not in store '" + path_ +
                       "' (the grid changed); start a new store");
    }
    store::CalibrationRecord r = store_->read_calibration(table, u.index);
    if (r.status != "done") continue;
    calibrated_[static_cast<std::size_t>(u.index)] = std::move(r);
    try {
      resolve_steps(u);
    } catch (const Error& e) {
      // A row no journal record restored (a store whose journal was set aside) and that does not
      // hold: the calibration runs again (deterministic: it chooses the same).
      log::warn("store '{}': calibration {} does not hold ({}); it runs again", path_, u.id, e.what());
      calibrated_[static_cast<std::size_t>(u.index)] = store::CalibrationRecord{};
      for (const std::size_t i : unit_jobs_[static_cast<std::size_t>(u.index)]) grid_[i].step_size = std::nan("");
    }
  }
}

void SweepSession::resolve_steps(const CalibrationUnit& unit) {
  const store::CalibrationRecord& r = calibrated_.at(static_cast<std::size_t>(unit.index));
  for (const std::size_t i : unit_jobs_[static_cast<std::size_t>(unit.index)]) {
    grid_[i].step_size = slot_step_size(config_, r, grid_[i].slot);
  }
}

void SweepSession::write_step_sizes(const CalibrationUnit& unit) {
  for (const std::size_t i : unit_jobs_[static_cast<std::size_t>(unit.index)]) {
    store_->write_step_size(static_cast<std::int64_t>(row_of_.at(grid_[i].id)), grid_[i].step_size);
  }
}

// Every calibration of the journal into its row (and its jobs' step sizes), as its latest record
// has it: calibrations are few, so they are written again whole rather than compared. Returns how
// many; not flushed.
std::int64_t SweepSession::rewrite_calibrations_from_journal() {
  std::int64_t n = 0;
  for (const auto& [id, offset] : journal_->latest_calibrations()) {
    const store::JournalCalibration c = journal_->calibration_at(offset);
    const auto unit = std::find_if(units_.begin(), units_.end(), [&](const CalibrationUnit& u) { return u.id == id; });
    if (unit == units_.end() || unit->index != c.row) {
      // Not a calibration of this config (resumed with --force-config and other [calibrate]
      // keys): the check of the config's calibrations against the store says so.
      log::warn("store '{}': calibration {} of the journal is not one of this config's", path_, id);
      continue;
    }
    store_->write_calibration(c.row, c.record, c.trace, false);
    calibrated_[static_cast<std::size_t>(c.row)] = c.record;
    resolve_steps(*unit);
    write_step_sizes(*unit);
    ++n;
  }
  return n;
}

// A store whose last writer did not close it: every job of the journal must be in the store as
// its latest journal record has it (the same checksum), and every other finished job must verify.
// A job whose row differs from its latest record (killed between the two writes, or a torn row)
// is written again from that record; a finished job that neither verifies nor is in the journal,
// a journal job the store has no row for, or any HDF5 error means the store is damaged, and it is
// rebuilt from its config and journal (repair.hpp). So is a store that is gone (`exists` false).
void SweepSession::recover(bool exists) {
  std::string damage = "the file is missing";
  if (exists) {
    try {
      store_.emplace(store::Store::open(path_, true));
      journal_.emplace(store::Journal::open(path_, store_->header()));
      // Every table's strings must resolve (lib/store/vlen_strings.hpp: a writer killed between a
      // row and the flush of its strings' heap leaves a row referring to a string the file
      // lacks), also in a store closed cleanly since: else it is rebuilt below.
      for (const char* t : {"jobs", "problems", "calibrations"}) {
        if (store_->has(t)) store_->table(t);
      }
      if (!journal_->dirty()) return;
      log::warn("store '{}' was not closed by its last writer: checking it against its journal ({} "
                "finished jobs there)", path_, journal_->latest().size());
      recovered_ = true;
      check_against_journal();
      return;
    } catch (const Error& e) {
      damage = e.what();
    }
  }
  store_.reset();
  journal_.reset();
  if (!store::read_journal(path_).has_header) {
    // Not a store this version wrote (or one from before journals): nothing to repair it from.
    throw UsageError(damage);
  }
  if (exists) log::warn("store '{}' is damaged ({}); rebuilding it from its config and journal", path_, damage);
  recovered_ = true;
  const RepairReport report = repair_store(path_);
  log::warn("{}", describe(report, path_));
  store_.emplace(store::Store::open(path_, true));
  journal_.emplace(store::Journal::open(path_, store_->header()));
}

// One pass over /jobs against the journal: every journal job whose row differs from its latest
// record (another checksum, or a row that fails its own) is written again from that record. A
// finished job outside the journal must verify, and every journal job must have a row; otherwise
// the store is damaged (RuntimeError). Returns the rows written again (flushed once); `verified`
// counts the finished rows that hold.
std::int64_t SweepSession::rewrite_rows_from_journal(std::int64_t& verified) {
  const auto& latest = journal_->latest();
  const store::Table jobs = store_->table("jobs");
  const auto& ids = jobs.get<std::string>("job_id");
  const auto& status = jobs.get<std::string>("status");
  const auto* sums = jobs.find("checksum") ? &jobs.get<std::int64_t>("checksum") : nullptr;
  std::int64_t rewritten = 0;
  std::set<std::string> rows;
  for (std::size_t r = 0; r < ids.size(); ++r) {
    rows.insert(ids[r]);
    const bool finished = status[r] == "done" || status[r] == "failed";
    const bool sound = finished && store_->read_job(jobs, static_cast<std::int64_t>(r)).verified;
    const auto it = latest.find(ids[r]);
    if (it == latest.end()) {
      // Finished before the store had a journal (an earlier version), or never finished.
      if (finished && !sound) throw RuntimeError("job " + ids[r] + " fails its checksum and is not in the journal");
      verified += sound ? 1 : 0;
      continue;
    }
    if (sound && sums && (*sums)[r] == it->second.checksum) {
      ++verified;
      continue;
    }
    const store::JournalJob record = journal_->job_at(it->second.offset);
    store_->write_job(static_cast<std::int64_t>(r), record.job_id, record.result, record.trace, false);
    ++rewritten;
  }
  for (const auto& [id, entry] : latest) {
    if (!rows.count(id)) throw RuntimeError("job " + id + " of the journal has no row in the store's /jobs");
  }
  if (rewritten > 0) store_->flush();
  return rewritten;
}

void SweepSession::check_against_journal() {
  std::int64_t verified = 0;
  const std::int64_t rewritten = rewrite_rows_from_journal(verified);
  store_->close();
  store_.emplace(store::Store::open(path_, true));
  log::info("store '{}' checked: {} finished jobs verify, {} written again from the journal", path_, verified,
            rewritten);
}

void SweepSession::fail(const std::string& why, bool journal) {
  journal_ok_ = journal_ok_ && !journal;
  if (!failed_.empty()) return;
  failed_ = why;
  log::error("the store '{}' can no longer be written ({}); stopping the sweep: every job that "
             "finished before this is in the store or its journal, and --resume repairs the store",
             path_, why);
}

bool SweepSession::lock_held() {
  if (!lock_ || !lock_->lost()) return true;
  hdf5_ok_ = false;
  fail("another process took the store's lock over", true);
  return false;
}

bool SweepSession::can_record() {
  lock_held();
  return journal_ok_ || hdf5_ok_;
}

std::string SweepSession::failed() const { return failed_; }

void SweepSession::record_chunk(const Job& job, std::size_t chain, std::int64_t first_step,
                                const float* losses, std::size_t n) {
  const std::int64_t every = config_.trace_every;
  std::int64_t step = (first_step + every - 1) / every * every;  // first kept step in the chunk
  std::vector<float> rows;
  for (; step < first_step + static_cast<std::int64_t>(n); step += every) {
    rows.push_back(losses[step - first_step]);
  }
  if (!failed_.empty() || !lock_held()) return;
  const std::size_t row = row_of_.at(job.id);
  try {
    // The job's trace may be a chunk that a killed writer left half written: replace it whole
    // before writing parts of it (which would make HDF5 decompress it).
    if (reset_rows_.insert(row).second) store_->reset_trace(static_cast<std::int64_t>(row));
    if (!rows.empty()) {
      store_->write_trace_rows(static_cast<std::int64_t>(row), chain,
                               static_cast<std::size_t>(step / every) - rows.size(), rows);
    }
    const auto now = std::chrono::steady_clock::now();
    if (std::chrono::duration<double>(now - last_flush_).count() >= 2.0) {
      store_->flush();
      last_flush_ = now;
    }
  } catch (const Error& e) {
    hdf5_ok_ = false;
    fail(std::string("writing live rows of job ") + job.id + ": " + e.what());
  }
}

bool SweepSession::record(const Job& job, store::JobResult result, const std::vector<float>& trace,
                          const std::string& host, const std::string& backend) {
  result.host = host;
  if (!backend.empty()) result.backend = backend;
  result.finished = utc_iso();  // here, so that the journal and the store hold the same row
  const double lower = truth(job).lambda_lower;
  result.rel_error_lower = (result.lambda_hat - lower) / lower;
  const auto row = static_cast<std::int64_t>(row_of_.at(job.id));
  if (!lock_held()) return false;
  bool journaled = false;
  if (journal_ok_) {
    try {
      journal_->append_job({row, job.id, result, trace});
      journaled = true;
    } catch (const Error& e) {
      fail(std::string("journaling job ") + job.id + ": " + e.what(), true);
    }
  }
  // After a failed HDF5 write the file is left alone (the resume writes the job from the
  // journal); after a failed journal write the HDF5 file may still take the job.
  if (!hdf5_ok_) return journaled;
  try {
    store_->write_job(row, job.id, result, trace);
  } catch (const Error& e) {
    hdf5_ok_ = false;
    fail(std::string("writing job ") + job.id + ": " + e.what());
    return journaled;
  }
  last_flush_ = std::chrono::steady_clock::now();
  return true;
}

bool SweepSession::record_calibration(const CalibrationUnit& unit, store::CalibrationRecord record,
                                     const std::vector<float>& trace, const std::string& host) {
  record.host = host;
  record.finished = utc_iso();
  if (!lock_held()) return false;
  bool journaled = false;
  if (journal_ok_) {
    try {
      journal_->append_calibration({unit.index, unit.id, record, trace});
      journaled = true;
    } catch (const Error& e) {
      fail("journaling calibration " + unit.id + ": " + e.what(), true);
    }
  }
  if (!journaled && !hdf5_ok_) return false;
  calibrated_[static_cast<std::size_t>(unit.index)] = record;
  resolve_steps(unit);
  if (!hdf5_ok_) return journaled;
  try {
    store_->write_calibration(unit.index, record, trace, false);
    write_step_sizes(unit);
    store_->flush();
  } catch (const Error& e) {
    hdf5_ok_ = false;
    fail("writing calibration " + unit.id + ": " + e.what());
    return journaled;
  }
  last_flush_ = std::chrono::steady_clock::now();
  return true;
}

// Every journal job's row as its latest record has it, before a store that this session found
// unclosed is called clean: a store once left unclosed can hand a variable-length string's heap
// slot that a row points at to a later write (seen once: a finished row's divergence_reason read
// another job's "loss" after such a resume), which only a comparison with the journal shows.
// Rows that differ are written again, until none does; every journal job must still have its
// row. A store that will not settle is left unclosed for the next resume to repair.
void SweepSession::settle_rows() {
  // Only a store with every column of this version stores a row exactly as its journal record
  // has it (an older store drops the cells it lacks, so their checksums differ by design).
  const store::Table columns = store_->table("jobs");
  for (const char* c : {"checksum", "precision", "rel_error_lower", "raw_estimate", "estimate_se"}) {
    if (!columns.find(c)) return;
  }
  if (rewrite_calibrations_from_journal() > 0) store_->flush();
  for (int pass = 0; pass < 4; ++pass) {
    std::int64_t verified = 0;
    const std::int64_t rewritten = rewrite_rows_from_journal(verified);
    if (rewritten == 0) return;
    log::warn("store '{}': {} finished rows differed from the journal and were written again", path_, rewritten);
  }
  throw RuntimeError("rows keep differing from the journal");
}

store::Table SweepSession::finish() {
  store::Table summary;
  try {
    summary = reduce::summarize(store_->table("jobs"));
    if (!failed_.empty() || !lock_held()) return summary;
    if (recovered_) {
      settle_rows();
      summary = reduce::summarize(store_->table("jobs"));
    }
    store_->write_summary(summary);
    store_->close();
    store_.reset();
    journal_->mark_clean();
  } catch (const std::exception& e) {
    fail(std::string("closing the store: ") + e.what() + " (the store is left for --resume to check)");
  }
  return summary;
}

}  // namespace llcb::sweep
