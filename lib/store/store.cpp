#include "lib/store/store.hpp"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <limits>
#include <ctime>
#include <filesystem>
#include <thread>

#include "lib/core/error.hpp"
#include "lib/core/utc.hpp"
#include "lib/core/version.hpp"
#include "lib/store/h5.hpp"

namespace llcb::store {
struct Store::File {
  h5::Handle handle;
};

Store::Store(std::string path, std::unique_ptr<File> file)
    : path_(std::move(path)), file_(std::move(file)) {}
Store::Store(Store&&) noexcept = default;
Store& Store::operator=(Store&&) noexcept = default;
Store::~Store() = default;
std::int64_t Store::id() const { return file_->handle.get(); }

namespace {

void create_calibrations(hid_t root, const Table& calibrations, const CalibrationShape& shape) {
  h5::create_table(root, "calibrations", calibrations);
  const h5::Handle traces = h5::create_group(root, "calibration_traces");
  std::vector<std::int64_t> unit, steps, column, chain;
  std::vector<double> step_size;
  for (std::size_t u = 0; u < calibrations.rows(); ++u) unit.push_back(static_cast<std::int64_t>(u));
  for (std::int64_t r = 0; r < shape.rows; ++r) steps.push_back(r * shape.trace_every);
  for (const double step : shape.step_sizes) {
    for (std::int64_t c = 0; c < shape.chains; ++c) {
      column.push_back(static_cast<std::int64_t>(column.size()));
      step_size.push_back(step);
      chain.push_back(c);
    }
  }
  h5::create_cube(traces.get(), "loss", unit.size(), steps.size(), column.size());
  h5::create_scale(traces.get(), "calibration", unit);
  h5::create_scale(traces.get(), "step", steps);
  h5::create_scale(traces.get(), "column", column);
  h5::attach_scale(traces.get(), "loss", "calibration", 0);
  h5::attach_scale(traces.get(), "loss", "step", 1);
  h5::attach_scale(traces.get(), "loss", "column", 2);
  Table columns;
  columns.columns = {{"step_size", step_size}, {"chain", chain}};
  h5::create_table(traces.get(), "columns", columns);
  const h5::Handle loss(H5Dopen2(traces.get(), "loss", H5P_DEFAULT), H5Dclose, "opening the calibration traces");
  h5::write_attr(loss.get(), "trace_every", shape.trace_every);
}

}  // namespace

Store Store::create(const std::string& path, const StoreHeader& header, const Table& problems,
                    const Table& jobs, const TraceShape& shape, const Table* calibrations,
                    const CalibrationShape* calibration_shape) {
  if (std::filesystem::exists(path)) {
    throw UsageError("store '" + path + "' already exists (use --resume to continue it; it is never overwritten)");
  }
  // The store is built under a temporary name and appears under `path` only when complete, so
  // a process killed while creating it leaves no half-made store (only the temporary file, which
  // the next creation replaces).
  const std::string partial = path + ".creating";
  std::error_code ignored;
  std::filesystem::remove(partial, ignored);
  h5::Handle file;
  try {
    file = h5::create_file(partial);
  } catch (const RuntimeError&) {
    throw UsageError("cannot create store '" + path + "' (is the directory writable?)");
  }
  const hid_t root = file.get();
  h5::write_attr(root, "format_version", kFormatVersion);
  h5::write_attr(root, "llcbench_version", std::string(version()));
  h5::write_attr(root, "git_commit", std::string(git_commit()));
  h5::write_attr(root, "created", utc_iso());
  h5::write_attr(root, "config_text", header.config_text);
  h5::write_attr(root, "config_canonical", header.config_canonical);
  h5::write_attr(root, "config_hash", header.config_hash);
  h5::write_attr(root, "seed_recipe", header.seed_recipe);
  h5::create_table(root, "problems", problems);
  h5::create_table(root, "jobs", jobs);
  {
    const h5::Handle traces = h5::create_group(root, "traces");
    std::vector<std::int64_t> job, steps, chains;
    for (std::size_t j = 0; j < jobs.rows(); ++j) job.push_back(static_cast<std::int64_t>(j));
    for (std::int64_t r = 0; r < shape.rows; ++r) steps.push_back(r * shape.trace_every);
    for (std::int64_t c = 0; c < shape.chains; ++c) chains.push_back(c);
    h5::create_cube(traces.get(), "loss", job.size(), steps.size(), chains.size());
    h5::create_scale(traces.get(), "job", job);
    h5::create_scale(traces.get(), "step", steps);
    h5::create_scale(traces.get(), "chain", chains);
    h5::attach_scale(traces.get(), "loss", "job", 0);
    h5::attach_scale(traces.get(), "loss", "step", 1);
    h5::attach_scale(traces.get(), "loss", "chain", 2);
    const h5::Handle loss(H5Dopen2(traces.get(), "loss", H5P_DEFAULT), H5Dclose, "opening the traces");
    h5::write_attr(loss.get(), "trace_every", shape.trace_every);
  }
  if (calibrations && calibration_shape) create_calibrations(root, *calibrations, *calibration_shape);
  Store s(path, std::make_unique<File>(File{std::move(file)}));
  s.flush();
  // link() never replaces an existing file (rename() would): a store that appeared meanwhile
  // under `path` stays untouched.
  if (::link(partial.c_str(), path.c_str()) != 0) {
    std::filesystem::remove(partial, ignored);
    if (errno == EEXIST) throw UsageError("store '" + path + "' already exists (use --resume to continue it; it is never overwritten)");
    throw UsageError("cannot create store '" + path + "': " + std::strerror(errno));
  }
  std::filesystem::remove(partial, ignored);
  return s;
}

Store Store::open(const std::string& path, bool writable) {
  if (!std::filesystem::exists(path)) throw UsageError("store '" + path + "' does not exist");
  h5::silence_errors();
  if (H5Fis_hdf5(path.c_str()) <= 0) throw UsageError("'" + path + "' is not an HDF5 file");
  h5::Handle file;
  try {
    file = h5::open_file(path, writable);
  } catch (const RuntimeError&) {
    throw UsageError("cannot open store '" + path + "'" + (writable ? " for writing" : "") +
                     " (truncated or corrupt?)");
  }
  if (!h5::has_attr(file.get(), "format_version") || !h5::exists(file.get(), "jobs")) {
    throw UsageError("'" + path + "' is an HDF5 file but not an llcbench store");
  }
  return Store(path, std::make_unique<File>(File{std::move(file)}));
}

StoreHeader Store::header() const {
  const hid_t root = id();
  return {h5::read_string_attr(root, "config_text"), h5::read_string_attr(root, "config_canonical"),
          h5::read_string_attr(root, "config_hash"), h5::read_string_attr(root, "seed_recipe")};
}

bool Store::has(const std::string& group) const { return h5::exists(id(), group); }

Table Store::table(const std::string& group, bool salvage) const {
  if (!has(group)) throw UsageError("store '" + path_ + "' has no /" + group + " (yet)");
  try {
    return h5::read_table(id(), group, salvage);
  } catch (const RuntimeError& e) {
    throw UsageError("store '" + path_ + "': " + e.what());
  }
}

void Store::write_job(std::int64_t row, const std::string& job_id, const JobResult& result,
                      const std::vector<float>& trace, bool flush) {
  JobResult r = result;  // as it is stored, which the checksum covers
  if (r.finished.empty()) r.finished = utc_iso();
  const h5::Handle traces = h5::open_group(id(), "traces");
  const auto d = h5::dims(traces.get(), "loss");
  if (!trace.empty() && trace.size() != d[1] * d[2]) {
    throw InternalError("trace of job " + job_id + " has the wrong size");
  }
  // The whole slab of the job, so a rerun after a crash leaves nothing of a partial run.
  const std::vector<float> nan(trace.empty() ? d[1] * d[2] : 0, std::numeric_limits<float>::quiet_NaN());
  h5::write_block(traces.get(), "loss", {static_cast<std::size_t>(row), 0, 0}, {1, d[1], d[2]},
                  trace.empty() ? nan.data() : trace.data());
  const h5::Handle jobs = h5::open_group(id(), "jobs");
  const auto at = static_cast<std::size_t>(row);
  const std::pair<const char*, Value> cells[] = {
      {"lambda_hat", r.lambda_hat},
      {"rel_error", r.rel_error},
      {"diverged", r.diverged},
      {"diverged_chains", r.diverged_chains},
      {"divergence_step", r.divergence_step},
      {"divergence_reason", r.divergence_reason},
      {"mean_drift_noise_ratio", r.mean_drift_noise_ratio},
      {"nonstationary", r.nonstationary},
      {"steps_per_second", r.steps_per_second},
      {"seconds", r.seconds},
      {"host", r.host},
      {"backend", r.backend},
      {"finished", r.finished},
      {"message", r.message},
  };
  pause_for_tests();
  for (const auto& [column, value] : cells) h5::write_cell(jobs.get(), column, at, value);
  // Stores made before these columns existed go on without them (their config holds
  // chain.precision, which applied to their cuda jobs; CPU jobs always ran fp32). The checksum
  // covers the row as read_job reads it back, so a missing cell counts as its fallback.
  if (!h5::exists(jobs.get(), "precision")) r.precision.clear();
  for (const auto& [column, field] : {std::pair<const char*, double*>{"rel_error_lower", &r.rel_error_lower},
                                      {"raw_estimate", &r.raw_estimate}, {"estimate_se", &r.estimate_se}}) {
    if (!h5::exists(jobs.get(), column)) *field = std::numeric_limits<double>::quiet_NaN();
  }
  const std::pair<const char*, Value> later_cells[] = {
      {"precision", r.precision},
      {"rel_error_lower", r.rel_error_lower},
      {"raw_estimate", r.raw_estimate},
      {"estimate_se", r.estimate_se},
      {"checksum", job_checksum(r, trace)},
  };
  for (const auto& [column, value] : later_cells) {
    if (h5::exists(jobs.get(), column)) h5::write_cell(jobs.get(), column, at, value);
  }
  pause_for_tests();
  h5::write_cell(jobs.get(), "status", at, r.status);  // the commit marker, written last
  if (flush) this->flush();
}

void Store::write_trace_rows(std::int64_t row, std::size_t chain, std::size_t first_row,
                             const std::vector<float>& values) {
  const h5::Handle traces = h5::open_group(id(), "traces");
  const auto d = h5::dims(traces.get(), "loss");
  if (static_cast<std::size_t>(row) >= d[0] || chain >= d[2] || first_row + values.size() > d[1]) {
    throw InternalError("live trace rows out of range");
  }
  h5::write_block(traces.get(), "loss", {static_cast<std::size_t>(row), first_row, chain},
                  {1, values.size(), 1}, values.data());
}

std::vector<float> Store::trace(const std::string& job_id, std::size_t& rows, std::size_t& chains,
                                std::int64_t& trace_every) const {
  const Table jobs = table("jobs");
  const auto& ids = jobs.get<std::string>("job_id");
  const auto it = std::find(ids.begin(), ids.end(), job_id);
  if (it == ids.end()) throw UsageError("store '" + path_ + "' has no job '" + job_id + "'");
  const auto row = static_cast<std::size_t>(it - ids.begin());
  if (jobs.get<std::string>("status")[row] != "done") {
    throw UsageError("job '" + job_id + "' of store '" + path_ + "' is not done (no trace yet)");
  }
  return trace_row(static_cast<std::int64_t>(row), rows, chains, trace_every);
}

std::vector<float> Store::trace_row(std::int64_t job_row, std::size_t& rows, std::size_t& chains,
                                    std::int64_t& trace_every) const {
  const auto row = static_cast<std::size_t>(job_row);
  const h5::Handle traces = h5::open_group(id(), "traces");
  const auto d = h5::dims(traces.get(), "loss");
  if (row >= d[0]) throw UsageError("store '" + path_ + "' has no job row " + std::to_string(row));
  rows = d[1];
  chains = d[2];
  const h5::Handle loss(H5Dopen2(traces.get(), "loss", H5P_DEFAULT), H5Dclose, "opening the traces");
  const h5::Handle a(H5Aopen(loss.get(), "trace_every", H5P_DEFAULT), H5Aclose, "opening trace_every");
  h5::check(H5Aread(a.get(), H5T_NATIVE_INT64, &trace_every), "reading trace_every");
  return h5::read_block(traces.get(), "loss", {row, 0, 0}, {1, rows, chains});
}

void Store::pause_for_tests() const {
  if (test_pause_ > 0) std::this_thread::sleep_for(std::chrono::duration<double>(test_pause_));
}

void Store::reset_trace(std::int64_t row) {
  const h5::Handle traces = h5::open_group(id(), "traces");
  const auto d = h5::dims(traces.get(), "loss");
  const std::vector<float> nan(d[1] * d[2], std::numeric_limits<float>::quiet_NaN());
  h5::write_block(traces.get(), "loss", {static_cast<std::size_t>(row), 0, 0}, {1, d[1], d[2]}, nan.data());
}

Store::StoredJob Store::read_job(const Table& jobs, std::int64_t row) const {
  const auto r = static_cast<std::size_t>(row);
  if (r >= jobs.rows()) throw InternalError("job row out of range");
  const auto num = [&](const char* c, double fallback) {
    const Column* col = jobs.find(c);
    return col ? std::get<double>(col->at(r)) : fallback;
  };
  const auto integer = [&](const char* c, std::int64_t fallback) {
    const Column* col = jobs.find(c);
    return col ? std::get<std::int64_t>(col->at(r)) : fallback;
  };
  const auto text = [&](const char* c) {
    const Column* col = jobs.find(c);
    return col ? std::get<std::string>(col->at(r)) : std::string();
  };
  const double nan = std::numeric_limits<double>::quiet_NaN();
  StoredJob out;
  out.job_id = text("job_id");
  JobResult& j = out.result;
  j.status = text("status");
  j.lambda_hat = num("lambda_hat", nan);
  j.rel_error = num("rel_error", nan);
  j.rel_error_lower = num("rel_error_lower", nan);
  j.raw_estimate = num("raw_estimate", nan);
  j.estimate_se = num("estimate_se", nan);
  j.mean_drift_noise_ratio = num("mean_drift_noise_ratio", nan);
  j.steps_per_second = num("steps_per_second", nan);
  j.seconds = num("seconds", nan);
  j.diverged = integer("diverged", 0);
  j.diverged_chains = integer("diverged_chains", 0);
  j.divergence_step = integer("divergence_step", -1);
  j.nonstationary = integer("nonstationary", 0);
  for (const auto& [column, field] : {std::pair<const char*, std::string*>{"divergence_reason", &j.divergence_reason},
                                      {"host", &j.host}, {"backend", &j.backend}, {"precision", &j.precision},
                                      {"finished", &j.finished}, {"message", &j.message}}) {
    *field = text(column);
  }
  if (j.status == "done") {
    std::size_t rows = 0, chains = 0;
    std::int64_t every = 0;
    out.trace = trace_row(row, rows, chains, every);
  }
  out.checksummed = jobs.find("checksum") != nullptr;
  out.verified = !out.checksummed || integer("checksum", 0) == job_checksum(j, out.trace);
  return out;
}

void Store::write_calibration(std::int64_t row, const CalibrationRecord& record, const std::vector<float>& trace,
                              bool flush) {
  CalibrationRecord r = record;
  if (r.finished.empty()) r.finished = utc_iso();
  const h5::Handle traces = h5::open_group(id(), "calibration_traces");
  const auto d = h5::dims(traces.get(), "loss");
  if (trace.size() != d[1] * d[2]) throw InternalError("calibration trace of the wrong size");
  h5::write_block(traces.get(), "loss", {static_cast<std::size_t>(row), 0, 0}, {1, d[1], d[2]}, trace.data());
  const h5::Handle table = h5::open_group(id(), "calibrations");
  const auto at = static_cast<std::size_t>(row);
  const std::pair<const char*, Value> cells[] = {
      {"found", r.found},       {"step_size", r.step_size}, {"accepted_low", r.accepted_low},
      {"accepted_high", r.accepted_high}, {"why", r.why}, {"detail", r.detail},
      {"seconds", r.seconds},   {"host", r.host},           {"backend", r.backend},
      {"finished", r.finished},
  };
  pause_for_tests();
  for (const auto& [column, value] : cells) h5::write_cell(table.get(), column, at, value);
  h5::write_cell(table.get(), "status", at, r.status);  // the commit marker, written last
  if (flush) this->flush();
}

CalibrationRecord Store::read_calibration(const Table& t, std::int64_t row) const {
  const auto r = static_cast<std::size_t>(row);
  if (r >= t.rows()) throw InternalError("calibration row out of range");
  CalibrationRecord c;
  c.status = t.get<std::string>("status")[r];
  c.found = t.get<std::int64_t>("found")[r];
  c.step_size = t.get<double>("step_size")[r];
  c.accepted_low = t.get<double>("accepted_low")[r];
  c.accepted_high = t.get<double>("accepted_high")[r];
  c.why = t.get<std::string>("why")[r];
  c.detail = t.get<std::string>("detail")[r];
  c.seconds = t.get<double>("seconds")[r];
  c.host = t.get<std::string>("host")[r];
  c.backend = t.get<std::string>("backend")[r];
  c.finished = t.get<std::string>("finished")[r];
  return c;
}

std::vector<float> Store::calibration_trace(std::int64_t row) const {
  const h5::Handle traces = h5::open_group(id(), "calibration_traces");
  const auto d = h5::dims(traces.get(), "loss");
  if (static_cast<std::size_t>(row) >= d[0]) throw UsageError("store '" + path_ + "' has no calibration row " + std::to_string(row));
  return h5::read_block(traces.get(), "loss", {static_cast<std::size_t>(row), 0, 0}, {1, d[1], d[2]});
}

void Store::write_step_size(std::int64_t row, double step_size) {
  const h5::Handle jobs = h5::open_group(id(), "jobs");
  h5::write_cell(jobs.get(), "step_size", static_cast<std::size_t>(row), step_size);
}

void Store::write_summary(const Table& summary) {
  if (has("summary")) h5::remove(id(), "summary");
  h5::create_table(id(), "summary", summary);
  flush();
}

void Store::write_sessions(const std::string& lines) {
  h5::write_attr(id(), "sessions", lines);
  flush();
}

std::string Store::sessions() const {
  return h5::has_attr(id(), "sessions") ? h5::read_string_attr(id(), "sessions") : std::string();
}

void Store::flush() { h5::check(H5Fflush(id(), H5F_SCOPE_GLOBAL), "flushing " + path_); }

void Store::close() {
  if (!file_) return;
  const hid_t id = file_->handle.release();
  file_.reset();
  h5::check(H5Fclose(id), "closing " + path_);
}

}  // namespace llcb::store
