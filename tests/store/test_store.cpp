// The store: round trip of tables, jobs and traces; refusal to overwrite; bad files.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "lib/core/error.hpp"
#include "lib/store/store.hpp"

namespace llcb::store {
namespace {

namespace fs = std::filesystem;

fs::path temp(const std::string& name) {
  return fs::temp_directory_path() / ("llcb_store_" + std::to_string(::getpid()) + "_" + name);
}

Table small_jobs() {
  Table t;
  t.columns = {{"job_id", std::vector<std::string>{"a1", "b2"}},
               {"status", std::vector<std::string>{"pending", "pending"}},
               {"lambda_hat", std::vector<double>{NAN, NAN}},
               {"rel_error", std::vector<double>{NAN, NAN}},
               {"diverged", std::vector<std::int64_t>{0, 0}},
               {"diverged_chains", std::vector<std::int64_t>{0, 0}},
               {"divergence_step", std::vector<std::int64_t>{-1, -1}},
               {"divergence_reason", std::vector<std::string>{"", ""}},
               {"mean_drift_noise_ratio", std::vector<double>{NAN, NAN}},
               {"nonstationary", std::vector<std::int64_t>{0, 0}},
               {"steps_per_second", std::vector<double>{NAN, NAN}},
               {"seconds", std::vector<double>{NAN, NAN}},
               {"host", std::vector<std::string>{"", ""}},
               {"backend", std::vector<std::string>{"", ""}},
               {"finished", std::vector<std::string>{"", ""}},
               {"message", std::vector<std::string>{"", ""}}};
  return t;
}

TEST(Store, RoundTripOfTablesJobsAndTraces) {
  const fs::path p = temp("roundtrip.h5");
  fs::remove(p);
  Table problems;
  problems.columns = {{"problem_index", std::vector<std::int64_t>{0}},
                      {"widths", std::vector<std::string>{"5,3,5"}},
                      {"lambda_true", std::vector<double>{6.5}}};
  {
    Store s = Store::create(p, {"text", "a=1\n", "hash", "recipe"}, problems, small_jobs(), {3, 2, 10});
    JobResult r;
    r.status = "done";
    r.lambda_hat = 6.25;
    r.rel_error = -0.25 / 6.5;
    r.divergence_reason = "none";
    r.host = "h";
    r.backend = "cpu";
    const std::vector<float> trace = {1, 2, 3, 4, 5, 6};  // 3 rows x 2 chains
    s.write_job(1, "b2", r, trace);
    s.write_job(1, "b2", r, trace);  // a rerun replaces the trace
    EXPECT_THROW(s.write_job(0, "a1", r, {1, 2}), InternalError);  // wrong shape
  }
  const Store s = Store::open(p, false);
  EXPECT_EQ(s.header().config_canonical, "a=1\n");
  EXPECT_EQ(s.header().seed_recipe, "recipe");
  const Table jobs = s.table("jobs");
  EXPECT_EQ(jobs.get<std::string>("status"), (std::vector<std::string>{"pending", "done"}));
  EXPECT_EQ(jobs.get<double>("lambda_hat")[1], 6.25);
  EXPECT_TRUE(std::isnan(jobs.get<double>("lambda_hat")[0]));
  EXPECT_EQ(jobs.get<std::string>("host")[1], "h");
  EXPECT_EQ(s.table("problems").get<std::string>("widths")[0], "5,3,5");
  std::size_t rows = 0, chains = 0;
  std::int64_t every = 0;
  EXPECT_EQ(s.trace("b2", rows, chains, every), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(rows, 3u);
  EXPECT_EQ(chains, 2u);
  EXPECT_EQ(every, 10);
  EXPECT_THROW(s.trace("a1", rows, chains, every), UsageError);
  EXPECT_THROW(s.table("summary"), UsageError);
  EXPECT_FALSE(jobs.find("precision"));  // a store older than that column takes results without it
  fs::remove(p);
}

TEST(Store, LaterResultColumnsAreWrittenWhereTheStoreHasThem) {
  const fs::path p = temp("precision.h5");
  fs::remove(p);
  Table jobs = small_jobs();
  jobs.columns.push_back({"precision", std::vector<std::string>{"", ""}});
  jobs.columns.push_back({"raw_estimate", std::vector<double>{NAN, NAN}});
  Table problems;
  problems.columns = {{"problem_index", std::vector<std::int64_t>{0}}};
  {
    Store s = Store::create(p, {"text", "a=1\n", "hash", "recipe"}, problems, jobs, {1, 1, 1});
    JobResult r;
    r.status = "done";
    r.precision = "tf32";
    r.raw_estimate = 12.5;
    r.rel_error_lower = 0.25;  // this store has no rel_error_lower column: the cell is skipped
    s.write_job(0, "a1", r, {1.0f});
  }
  const Table read = Store::open(p, false).table("jobs");
  EXPECT_EQ(read.get<std::string>("precision"), (std::vector<std::string>{"tf32", ""}));
  EXPECT_EQ(read.get<double>("raw_estimate")[0], 12.5);
  EXPECT_FALSE(read.find("rel_error_lower"));
  fs::remove(p);
}

// Strings are decoded from the file's heap collections, not by HDF5 (lib/store/vlen_strings.hpp;
// tests/python/test_damaged_strings.py shows that path is the one taken): what was written reads
// back exactly, across many collections, objects of every padding, one string larger than a
// collection, empty strings, UTF-8, and cells rewritten 20 times each (each rewrite frees an
// object and adds one).
TEST(Store, StringsReadBackExactlyAsWritten) {
  const fs::path p = temp("strings.h5");
  fs::remove(p);
  std::vector<std::string> widths;
  for (int i = 0; i < 3000; ++i) widths.push_back(std::string(static_cast<std::size_t>(i % 23), 'a' + i % 26));
  widths[5] = "\u03bb\u0302 = 1.5 \u2713";  // UTF-8
  widths[7] = std::string(20000, 'w');           // larger than a collection of the default size
  Table problems;
  problems.columns = {{"widths", widths}, {"index", std::vector<std::int64_t>(widths.size(), 1)}};
  Table jobs = small_jobs();
  std::vector<std::string> messages(2);
  {
    Store s = Store::create(p, {"text", "a=1\n", "hash", "recipe"}, problems, jobs, {1, 1, 1});
    JobResult r;
    r.status = "done";
    for (int k = 0; k < 40; ++k) {
      r.message = std::string(static_cast<std::size_t>(7 * k + 1), static_cast<char>('A' + k % 26));
      r.host = k % 2 ? "" : "node" + std::to_string(k);
      s.write_job(k % 2, k % 2 ? "b2" : "a1", r, {1.0f});
      messages[static_cast<std::size_t>(k % 2)] = r.message;
    }
  }
  const Store s = Store::open(p, false);
  EXPECT_EQ(s.table("problems").get<std::string>("widths"), widths);
  const Table read = s.table("jobs");
  EXPECT_EQ(read.get<std::string>("message"), messages);
  EXPECT_EQ(read.get<std::string>("host"), (std::vector<std::string>{"node38", ""}));
  EXPECT_EQ(read.get<std::string>("job_id"), (std::vector<std::string>{"a1", "b2"}));
  EXPECT_EQ(read.get<std::string>("divergence_reason"), (std::vector<std::string>{"", ""}));
  fs::remove(p);
}

TEST(Store, NeverOverwritesAndRefusesBadFiles) {
  const fs::path p = temp("exists.h5");
  { std::ofstream(p) << "precious data"; }
  EXPECT_THROW(Store::create(p, {}, Table{}, small_jobs(), {1, 1, 1}), UsageError);
  std::ifstream in(p);
  std::string content;
  std::getline(in, content);
  EXPECT_EQ(content, "precious data");  // untouched
  EXPECT_THROW(Store::open(p, false), UsageError);  // not HDF5
  fs::remove(p);
  EXPECT_THROW(Store::open(temp("missing.h5"), false), UsageError);
  EXPECT_THROW(Store::create("/nonexistent-dir/x.h5", {}, Table{}, small_jobs(), {1, 1, 1}), UsageError);
}

// A creation killed half-way leaves only PATH.creating: PATH does not exist, so nothing reads a
// half-made store, and the next creation replaces the leftover.
TEST(Store, ACreationLeftoverIsNoStoreAndIsReplaced) {
  const fs::path p = temp("created.h5");
  const fs::path partial = p.string() + ".creating";
  { std::ofstream(partial) << "half-made store of a killed process"; }
  EXPECT_FALSE(fs::exists(p));
  {
    Store s = Store::create(p, {"text", "a=1\n", "hash", "recipe"}, Table{}, small_jobs(), {1, 1, 1});
  }
  EXPECT_TRUE(fs::exists(p));
  EXPECT_FALSE(fs::exists(partial));
  EXPECT_EQ(Store::open(p, false).table("jobs").rows(), small_jobs().rows());
  fs::remove(p);
}

TEST(Store, AJobsChecksumCoversItsTraceAndResults) {
  const fs::path p = temp("checksum.h5");
  fs::remove(p);
  Table jobs = small_jobs();  // without rel_error_lower and precision: the checksum covers the row as read back
  jobs.columns.push_back({"raw_estimate", std::vector<double>{NAN, NAN}});
  jobs.columns.push_back({"estimate_se", std::vector<double>{NAN, NAN}});
  jobs.columns.push_back({"checksum", std::vector<std::int64_t>{0, 0}});
  Store s = Store::create(p, {"t", "c", "h", "r"}, Table{}, jobs, {2, 1, 1});
  JobResult r;
  r.status = "done";
  r.lambda_hat = 4.25;
  s.write_job(0, "a", r, {1.0f, 2.0f});
  Table t = s.table("jobs");
  Store::StoredJob j = s.read_job(t, 0);
  EXPECT_TRUE(j.checksummed);
  EXPECT_TRUE(j.verified);
  EXPECT_EQ(j.trace, (std::vector<float>{1.0f, 2.0f}));
  s.write_trace_rows(0, 0, 1, {9.0f});  // the trace changes behind the checksum's back
  t = s.table("jobs");
  EXPECT_FALSE(s.read_job(t, 0).verified);
  s.reset_trace(0);
  EXPECT_TRUE(std::isnan(s.read_job(s.table("jobs"), 0).trace[0]));
  s.close();
  EXPECT_NO_THROW(Store::open(p, false));
  fs::remove(p);
}

// Every cell a finished job writes is covered: a killed writer that tore any one of them leaves a
// row that fails its checksum.
TEST(Store, TheChecksumCoversEveryCellOfAFinishedJob) {
  JobResult base;
  base.status = "done";
  const std::vector<float> trace = {1.0f, 2.0f};
  const std::int64_t sum = job_checksum(base, trace);
  const std::vector<std::function<void(JobResult&)>> changes = {
      [](JobResult& r) { r.lambda_hat = 1; },          [](JobResult& r) { r.rel_error = 1; },
      [](JobResult& r) { r.raw_estimate = 1; },        [](JobResult& r) { r.estimate_se = 1; },
      [](JobResult& r) { r.rel_error_lower = 1; },     [](JobResult& r) { r.mean_drift_noise_ratio = 1; },
      [](JobResult& r) { r.steps_per_second = 1; },    [](JobResult& r) { r.seconds = 1; },
      [](JobResult& r) { r.diverged = 1; },            [](JobResult& r) { r.diverged_chains = 1; },
      [](JobResult& r) { r.divergence_step = 7; },     [](JobResult& r) { r.nonstationary = 1; },
      [](JobResult& r) { r.status = "failed"; },       [](JobResult& r) { r.divergence_reason = "x"; },
      [](JobResult& r) { r.host = "x"; },              [](JobResult& r) { r.backend = "x"; },
      [](JobResult& r) { r.precision = "x"; },         [](JobResult& r) { r.finished = "x"; },
      [](JobResult& r) { r.message = "x"; },
  };
  for (std::size_t i = 0; i < changes.size(); ++i) {
    JobResult r = base;
    changes[i](r);
    EXPECT_NE(job_checksum(r, trace), sum) << "change " << i;
  }
  EXPECT_NE(job_checksum(base, {1.0f, 2.5f}), sum);
}

TEST(Store, TruncatedStoreIsAUsageError) {
  const fs::path p = temp("truncated.h5");
  fs::remove(p);
  { Store::create(p, {"t", "c", "h", "r"}, Table{}, small_jobs(), {1, 1, 1}); }
  fs::resize_file(p, fs::file_size(p) / 2);
  EXPECT_THROW(
      {
        const Store s = Store::open(p, false);
        s.table("jobs");
      },
      UsageError);
  fs::remove(p);
}

}  // namespace
}  // namespace llcb::store
