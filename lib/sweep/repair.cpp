#include "lib/sweep/repair.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <optional>

#include "lib/core/error.hpp"
#include "lib/core/log.hpp"
#include "lib/core/utc.hpp"
#include "lib/store/store.hpp"
#include "lib/sweep/calibrate.hpp"
#include "lib/sweep/grid.hpp"
#include "lib/sweep/session.hpp"
#include "lib/sweep/tables.hpp"

namespace llcb::sweep {
namespace {

// The old store, if HDF5 can open it and read its header and /jobs table.
struct OldStore {
  std::optional<store::Store> store;
  store::StoreHeader header;
  store::Table jobs;
  std::map<std::string, std::int64_t> row_of;  // job id -> row
};

// A row with a string that a killed writer left dangling (a salvaging read's marker): a
// calibration row has no checksum of its own, so such a row is not copied.
bool has_dangling_string(const store::Table& t, std::size_t row) {
  for (const auto& c : t.columns) {
    const auto* v = std::get_if<std::vector<std::string>>(&c.data);
    if (v && (*v)[row] == store::kDanglingString) return true;
  }
  return false;
}

OldStore open_old(const std::string& path) {
  OldStore old;
  if (!std::filesystem::exists(path)) {
    log::warn("repair: store '{}' is missing; rebuilding it from its journal", path);
    return old;
  }
  try {
    old.store.emplace(store::Store::open(path, false));
    old.header = old.store->header();
    old.jobs = old.store->table("jobs", true);  // a dangling string fails only its row's checksum
    const auto& ids = old.jobs.get<std::string>("job_id");
    for (std::size_t r = 0; r < ids.size(); ++r) old.row_of[ids[r]] = static_cast<std::int64_t>(r);
  } catch (const Error& e) {
    log::warn("repair: the old store cannot be read as a whole ({}); keeping what the journal holds",
              e.what());
    old.store.reset();
    old.row_of.clear();
  }
  return old;
}

// Copies a finished job of the old store into the rebuilt one if its checksum holds; false when
// the job is not finished there.
bool copy_old_job(const OldStore& old, std::int64_t old_row, const Job& job, double lambda_lower,
                  store::Store& fresh, RepairReport& report) {
  const store::Store::StoredJob s = old.store->read_job(old.jobs, old_row);
  if (s.result.status != "done" && s.result.status != "failed") return false;
  if (!s.verified) throw RuntimeError("its checksum does not hold");
  store::JobResult result = s.result;  // a store of an earlier version may lack the column
  if (!s.checksummed) result.rel_error_lower = (result.lambda_hat - lambda_lower) / lambda_lower;
  fresh.write_job(job.index, job.id, result, s.trace, false);
  ++report.from_store;
  report.unverified += s.checksummed ? 0 : 1;
  return true;
}

}  // namespace

RepairReport repair_store(const std::string& path) {
  OldStore old = open_old(path);
  store::StoreHeader header = old.header;
  if (!old.store) {
    const store::JournalContents found = store::read_journal(path);
    if (!found.has_header) {
      throw UsageError("store '" + path + "' cannot be read and has no journal to rebuild it from");
    }
    header = found.header;
  }
  store::Journal journal = store::Journal::open(path, header);
  const SweepConfig config = config_from_canonical(parse_canonical(header.config_canonical));
  const std::vector<Job> grid = make_grid(config);
  const std::vector<dln::Problem> problems = make_problems(config);
  const auto& latest = journal.latest();  // a job that ran again: its latest record

  const std::string rebuilt = path + ".repairing";
  std::error_code ignored;
  std::filesystem::remove(rebuilt, ignored);
  RepairReport report;
  report.jobs = static_cast<std::int64_t>(grid.size());
  {
    const std::vector<CalibrationUnit> units = make_calibrations(config);
    const store::Table calibrations = calibrations_table(config, units);
    const store::CalibrationShape shape = calibration_shape(config);
    store::Store fresh = store::Store::create(rebuilt, header, problems_table(problems),
                                              jobs_table(config, grid, problems), trace_shape(config),
                                              units.empty() ? nullptr : &calibrations,
                                              units.empty() ? nullptr : &shape);
    // Calibrations from the journal, else from the old file (a journal set aside lost them); one
    // that neither holds runs again on resume.
    const store::Table* old_calibrations = nullptr;
    store::Table old_table;
    if (old.store && old.store->has("calibrations")) {
      try {
        old_table = old.store->table("calibrations", true);
        old_calibrations = &old_table;
      } catch (const Error& e) {
        log::warn("repair: the old store's /calibrations cannot be read: {}", e.what());
      }
    }
    const std::vector<std::vector<std::size_t>> unit_jobs = jobs_of_calibrations(grid, units.size());
    for (const CalibrationUnit& u : units) {
      store::CalibrationRecord record;
      std::vector<float> trace;
      try {
        if (const auto it = journal.latest_calibrations().find(u.id); it != journal.latest_calibrations().end()) {
          const store::JournalCalibration c = journal.calibration_at(it->second);
          record = c.record;
          trace = c.trace;
        } else if (old_calibrations && u.index < static_cast<std::int64_t>(old_calibrations->rows()) &&
                   old_calibrations->get<std::string>("calibration_id")[static_cast<std::size_t>(u.index)] == u.id &&
                   !has_dangling_string(*old_calibrations, static_cast<std::size_t>(u.index))) {
          record = old.store->read_calibration(*old_calibrations, u.index);
          if (record.status == "done") trace = old.store->calibration_trace(u.index);
        }
        if (record.status != "done") continue;
        std::vector<std::pair<std::int64_t, double>> steps;  // checked before anything is written
        for (const std::size_t i : unit_jobs[static_cast<std::size_t>(u.index)]) {
          steps.emplace_back(grid[i].index, slot_step_size(config, record, grid[i].slot));
        }
        fresh.write_calibration(u.index, record, trace, false);
        for (const auto& [row, step] : steps) fresh.write_step_size(row, step);
      } catch (const Error& e) {
        log::warn("repair: calibration {} cannot be restored ({}); it runs again on resume", u.id, e.what());
      }
    }
    for (const Job& job : grid) {
      const double lower = problems[static_cast<std::size_t>(job.problem_index)].local.lambda_lower.to_double();
      if (const auto it = latest.find(job.id); it != latest.end()) {
        try {
          const store::JournalJob record = journal.job_at(it->second.offset);
          fresh.write_job(job.index, job.id, record.result, record.trace, false);
          ++report.from_journal;
          continue;
        } catch (const Error& e) {  // a record that verifies but does not fit this grid
          log::warn("repair: the journal's record of job {} cannot be used: {}", job.id, e.what());
        }
      }
      const auto old_row = old.row_of.find(job.id);
      try {
        if (old_row != old.row_of.end() && copy_old_job(old, old_row->second, job, lower, fresh, report)) continue;
        if (latest.count(job.id)) ++report.lost;  // finished (the journal says so), now unreadable
      } catch (const Error& e) {
        log::warn("repair: job {} (row {}) of the old store is lost: {}", job.id, old_row->second, e.what());
        ++report.lost;
      }
      ++report.pending;
    }
    fresh.write_sessions(store::session_lines(journal.sessions()));  // flushes
    fresh.close();
  }
  old.store.reset();
  if (std::filesystem::exists(path)) {
    report.damaged_path = unused_timestamped_path(path + ".damaged-");
    // A hard link keeps the damaged file under its new name; the rename then replaces FILE in one
    // step, so FILE is never missing. Where links are refused, rename the old file away first.
    if (::link(path.c_str(), report.damaged_path.c_str()) != 0 &&
        ::rename(path.c_str(), report.damaged_path.c_str()) != 0) {
      throw RuntimeError("repair: cannot keep the damaged store as '" + report.damaged_path + "': " +
                         std::strerror(errno));
    }
  }
  if (::rename(rebuilt.c_str(), path.c_str()) != 0) {
    throw RuntimeError("repair: cannot put the rebuilt store in place of '" + path + "': " +
                       std::strerror(errno) + " (it is '" + rebuilt + "')");
  }
  journal.mark_clean();
  return report;
}

std::string describe(const RepairReport& r, const std::string& path) {
  std::string s = "rebuilt '" + path + "': " + std::to_string(r.from_journal + r.from_store) + " of " +
                  std::to_string(r.jobs) + " jobs kept (" + std::to_string(r.from_journal) +
                  " from the journal, " + std::to_string(r.from_store) + " from the store";
  if (r.unverified > 0) s += ", " + std::to_string(r.unverified) + " of them without a checksum to verify";
  s += "), " + std::to_string(r.pending) + " to run";
  if (r.lost > 0) s += " (" + std::to_string(r.lost) + " of them finished before but lost)";
  if (!r.damaged_path.empty()) s += "; the damaged file is '" + r.damaged_path + "'";
  return s;
}

}  // namespace llcb::sweep
