// The HDF5 result store of a sweep (schema: docs/store.md). Only this class touches HDF5.
//
// Layout: root attributes (format_version, llcbench_version, git_commit, config_text,
// config_canonical, config_hash, created, seed_recipe, sessions); /problems and /jobs as column groups
// (one 1-D dataset per column, same length, strings UTF-8); /traces/loss float32
// (job, step, chain), one chunk per job, with the dimension scales /traces/job, /traces/step and
// /traces/chain; /summary written by the reducer.
//
// Durability (docs/store.md): a store is built under PATH.creating and linked to PATH only when
// complete (a process killed while creating it leaves no store at PATH); the /jobs table is
// created whole (every job "pending") then; a finished job writes its trace, its result cells and
// their checksum, then its status cell last, then flushes the whole file (H5Fflush global). HDF5
// promises nothing about a file whose writer is killed between two flushes (a chunk or metadata
// block may be half written), so the writer (lib/sweep/session.hpp) also keeps a journal
// (journal.hpp) from which a damaged store is repaired, and takes the store's lock (lock.hpp).
// Never overwrites an existing file.
//
// Not thread-safe; one writer process. Readers may open the file while a sweep writes it
// (file locking is off); they see every job flushed before they read.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <memory>
#include "lib/store/calibration_record.hpp"
#include "lib/store/job_result.hpp"
#include "lib/store/journal.hpp"
#include "lib/store/table.hpp"

namespace llcb::store {

constexpr std::int64_t kFormatVersion = 1;

// The shape every job's trace has: rows = ceil(steps / trace_every), one column per chain.
// /traces/job (job index), /traces/step (k * trace_every) and /traces/chain (0..chains-1) are
// dimension scales of /traces/loss, so netCDF readers (xarray with h5netcdf) see named,
// labelled dimensions.
struct TraceShape {
  std::int64_t rows = 0, chains = 0, trace_every = 1;
};

// The calibration traces: rows = ceil(calibrate.steps / trace_every), a column per chain of each
// grid point (step_sizes ascending), `chains` chains a point.
struct CalibrationShape {
  std::int64_t rows = 0, trace_every = 1, chains = 0;
  std::vector<double> step_sizes;
};

// What a string cell that a killed writer left dangling reads as in a salvaging read
// (Store::table(group, true)).
inline constexpr const char* kDanglingString = "\x01(a string the file does not hold)";

class Store {
 public:
  // Creates a new store; UsageError if the path exists or cannot be created.
  // `calibrations` (a table with a row per calibration) and `calibration_shape`: only for a sweep
  // with calibrated samplers.
  static Store create(const std::string& path, const StoreHeader& header, const Table& problems,
                      const Table& jobs, const TraceShape& shape, const Table* calibrations = nullptr,
                      const CalibrationShape* calibration_shape = nullptr);
  // Opens an existing store; UsageError if it is missing, not HDF5, or not an llcbench store.
  static Store open(const std::string& path, bool writable);

  StoreHeader header() const;
  // "problems", "jobs", "summary". A string that a killed writer left dangling makes the store
  // damaged (UsageError naming the column); with `salvage` (a repair) it reads as
  // kDanglingString, which no job id, status or checksummed result equals, and the other rows
  // as stored.
  Table table(const std::string& group, bool salvage = false) const;
  bool has(const std::string& group) const;

  // Writes a finished job: its trace (TraceShape rows x chains, row-major; empty for a failed
  // job, whose trace is reset to NaN), then its results and their checksum (where the store has
  // that column), then its status; flushes unless `flush` is off (a repair writing many jobs
  // into a file that replaces the store only once it is closed).
  void write_job(std::int64_t row, const std::string& job_id, const JobResult& result,
                 const std::vector<float>& trace, bool flush = true);
  // Sets a job's whole trace to NaN, one write of whole chunks (HDF5 then reads nothing of the
  // old ones: a chunk left half written by a killed writer is replaced, not decompressed).
  void reset_trace(std::int64_t row);
  // Row `row` of /jobs as a JobResult with its trace (rows x chains; empty when the job is not
  // done), and whether its checksum holds (true for stores without the checksum column).
  struct StoredJob {
    std::string job_id;
    JobResult result;
    std::vector<float> trace;
    bool verified = false;   // the checksum column exists and matches
    bool checksummed = false;
  };
  StoredJob read_job(const Table& jobs, std::int64_t row) const;  // jobs = table("jobs")
  // Test only: write_job pauses this long before its result cells and before its status cell, so
  // that a test's kills land inside a write more often.
  void set_test_pause(double seconds) { test_pause_ = seconds; }
  // Rows [first_row, first_row + values.size()) of chain `chain` of the running job in /jobs row
  // `row`, for live progress. Not flushed here (write_job is).
  void write_trace_rows(std::int64_t row, std::size_t chain, std::size_t first_row,
                        const std::vector<float>& values);
  // Row `row` of /traces/loss whatever the job's status (a running job shows the rows streamed
  // so far, NaN elsewhere): rows x chains, row-major.
  std::vector<float> trace_row(std::int64_t row, std::size_t& rows, std::size_t& chains,
                               std::int64_t& trace_every) const;
  // The trace of a job (by id): rows x chains, row-major; UsageError for an unknown job or one
  // that is not done.
  std::vector<float> trace(const std::string& job_id, std::size_t& rows, std::size_t& chains,
                           std::int64_t& trace_every) const;
  // Writes a finished calibration: its trace (CalibrationShape rows x columns, row-major; NaN
  // where a grid point did not run), its cells, then its status last; flushes unless `flush` is off.
  void write_calibration(std::int64_t row, const CalibrationRecord& record, const std::vector<float>& trace,
                         bool flush = true);
  // Row `row` of /calibrations (calibrations = table("calibrations")); status "pending" when not done.
  CalibrationRecord read_calibration(const Table& calibrations, std::int64_t row) const;
  // Row `row` of /calibration_traces/loss: rows x columns, row-major (NaN until it is written).
  std::vector<float> calibration_trace(std::int64_t row) const;
  // The step_size cell of /jobs row `row` (a calibrated job's, once its calibration chose); not flushed.
  void write_step_size(std::int64_t row, double step_size);

  void write_summary(const Table& summary);
  // Replaces the root attribute `sessions` (session_lines of the journal: who wrote the store,
  // when, with how many ranks) and flushes.
  void write_sessions(const std::string& lines);
  std::string sessions() const;  // "" for a store written before sessions were recorded
  void flush();
  // Closes the file; RuntimeError when HDF5 cannot (the store must then be repaired). The Store
  // is unusable afterwards.
  void close();
  const std::string& path() const { return path_; }

  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

 private:
  struct File;  // the open HDF5 file (store.cpp), so HDF5 headers stay inside lib/store
  Store(std::string path, std::unique_ptr<File> file);
  std::int64_t id() const;
  void pause_for_tests() const;
  std::string path_;
  std::unique_ptr<File> file_;
  double test_pause_ = 0;
};

}  // namespace llcb::store
