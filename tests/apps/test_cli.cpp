// The llcbench binary as users and scripts see it: outputs, exit codes and one-line errors.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <tuple>
#include <unistd.h>

#include "lib/core/philox_blocks.hpp"

namespace {

struct Result {
  int code = -1;
  std::string out, err;
};

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs llcbench ARGS with `env` (NAME=VALUE ...) set for that command only.
Result run_with_env(const std::string& env, const std::string& args) {
  const auto dir = std::filesystem::temp_directory_path();
  const auto out = dir / ("llcb_cli_out_" + std::to_string(::getpid()));
  const auto err = dir / ("llcb_cli_err_" + std::to_string(::getpid()));
  // Whatever launcher this test runs under, llcbench sees only `env`.
  const std::string cmd = "env -u SLURM_STEP_NUM_TASKS -u SLURM_PROCID -u SLURM_NTASKS -u PMIX_RANK -u PMI_RANK "
                          "-u PALS_RANKID -u OMPI_COMM_WORLD_SIZE " + env + " " + std::string(LLCB_BINARY) + " " +
                          args + " >" + out.string() + " 2>" + err.string();
  const int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  r.out = slurp(out);
  r.err = slurp(err);
  std::filesystem::remove(out);
  std::filesystem::remove(err);
  return r;
}

Result run(const std::string& args) { return run_with_env("", args); }

std::string last_line(const std::string& s) {
  std::string t = s;
  while (!t.empty() && t.back() == '\n') t.pop_back();
  const auto pos = t.rfind('\n');
  return pos == std::string::npos ? t : t.substr(pos + 1);
}

int lines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

void expect_usage_error(const std::string& args, const std::string& fragment) {
  const Result r = run(args);
  EXPECT_EQ(r.code, 2) << args << "\n" << r.err;
  EXPECT_EQ(lines(r.err), 1) << args << "\n" << r.err;  // exactly one line
  EXPECT_NE(r.err.find(fragment), std::string::npos) << args << "\n" << r.err;
  EXPECT_EQ(r.err.find("terminate"), std::string::npos) << r.err;
}

TEST(Cli, TruthPrintsLambdaAsTheLastLine) {
  const Result r = run("truth --widths 5,3,5 --rank 0");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), "6.5");
  EXPECT_NE(r.out.find("lambda (exact): 13/2"), std::string::npos) << r.out;
  EXPECT_EQ(last_line(run("truth --widths 8,8,8,8,8,8,8,8,8 --rank 4").out), "29");
  EXPECT_EQ(last_line(run("truth --widths 4999,5000,4998,5000,4997,4996 --rank 1234").out),
            "9656595.5");
}

TEST(Cli, TruthJson) {
  const Result r = run("truth --widths 5,3,5 --rank 0 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(r.out,
            "{\"widths\":[5,3,5],\"rank\":0,\"lambda\":6.5,\"lambda_exact\":\"13/2\","
            "\"multiplicity\":2,\"d\":30,\"l\":2,\"subset\":[1,2,3],\"exact_for_teacher\":\"minimal\"}\n");
}

TEST(Cli, TruthHandlesFortyLayersOfWidth5000) {
  std::string widths = "5000";
  for (int i = 0; i < 40; ++i) widths += ",5000";
  const Result r = run("truth --widths " + widths + " --rank 0");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), "6406250");
}

TEST(Cli, TruthRejectsBadInput) {
  expect_usage_error("truth --widths 5,0,5 --rank 0", "--widths");
  expect_usage_error("truth --widths 5,-3,5 --rank 0", "negative");
  expect_usage_error("truth --widths 5,x,5 --rank 0", "not an integer");
  expect_usage_error("truth --widths 5,3.5,5 --rank 0", "not an integer");
  expect_usage_error("truth --widths '' --rank 0", "empty");
  expect_usage_error("truth --widths 5,,5 --rank 0", "empty item");
  expect_usage_error("truth --widths 5 --rank 0", "at least two widths");
  expect_usage_error("truth --widths 5,3,5 --rank 4", "cannot exceed the smallest width");
  expect_usage_error("truth --widths 5,3,5 --rank -1", "negative");
  expect_usage_error("truth --widths 5,3,5", "--rank is required");
  expect_usage_error("truth --rank 0", "--widths is required");
  expect_usage_error("truth --widths 5,3,5 --rank 0 --bogus", "bogus");
  expect_usage_error("truth --widths 5,3,5 --rank 0 --log-level loud", "log level");
}

TEST(Cli, TruthWithATeacherShowsTheLocalTruth) {
  // 10,8,10 rank 1: the first-layer teacher has layer ranks 1, 8 and rank(J) = 82 (docs/truth.md).
  const Result r = run("truth --widths 10,8,10 --rank 1 --teacher first-layer");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last_line(r.out), "35");  // the last line stays Aoyagi's value
  EXPECT_NE(r.out.find("layer ranks 1,8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lambda_smooth: 41\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("lambda_lower: 41\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("truth status: above;"), std::string::npos) << r.out;
  const Result m = run("truth --widths 10,8,10 --rank 1 --teacher minimal");
  EXPECT_NE(m.out.find("lambda_smooth: 9.5\n"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("truth status: exact;"), std::string::npos) << m.out;
  const Result j = run("truth --widths 10,8,10 --layer-ranks 8,1 --json");
  EXPECT_EQ(j.code, 0) << j.err;
  EXPECT_NE(j.out.find("\"rank\":1,"), std::string::npos) << j.out;  // the least layer rank
  EXPECT_NE(j.out.find("\"jacobian_rank\":82,"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"truth_status\":\"above\""), std::string::npos) << j.out;
  // Without a teacher, the text and the JSON say where the value is certified.
  EXPECT_NE(run("truth --widths 10,8,10 --rank 1").out.find("exact at a minimal teacher"), std::string::npos);
  EXPECT_NE(run("truth --widths 10,8,10 --rank 1 --json").out.find("\"exact_for_teacher\":\"minimal\""),
            std::string::npos);
}

TEST(Cli, TruthRejectsBadTeachers) {
  expect_usage_error("truth --widths 10,8,10 --rank 1 --teacher paper", "model class");
  expect_usage_error("truth --widths 10,8,10 --rank 1 --teacher smallest", "unknown teacher mode 'smallest'");
  expect_usage_error("truth --widths 10,8,10 --layer-ranks 1", "1 values for 2 layers");
  expect_usage_error("truth --widths 10,8,10 --layer-ranks 9,1", "cannot have rank 9");
  expect_usage_error("truth --widths 10,8,10 --rank 1 --layer-ranks 2,3", "general position");
  expect_usage_error("truth --widths 10,8,10 --rank 1 --teacher minimal --layer-ranks 1,1", "at most one");
}

TEST(Cli, ProblemShowsTheTeacherAndItsTruthStatus) {
  const Result r = run("problem --class 1K --seed 7 --teacher minimal");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("teacher: minimal\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("truth status: exact;"), std::string::npos) << r.out;
  const Result j = run("problem --class 1K --seed 7 --json");
  EXPECT_NE(j.out.find("\"teacher\":\"paper\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"truth_status\":"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"lambda_lower\":"), std::string::npos) << j.out;
  expect_usage_error("problem --class 1K --seed 7 --teacher first-layer", "first-layer is for --widths");
}

TEST(Cli, ProblemSeedsPrintTheDistributionOfTruthStatuses) {
  const Result c = run("problem --class 1K --seeds 1-5 --format csv");
  EXPECT_EQ(c.code, 0) << c.err;
  EXPECT_EQ(lines(c.out), 6) << c.out;  // header and five rows
  EXPECT_EQ(c.out.rfind("seed,teacher,", 0), 0u) << c.out;
  EXPECT_NE(c.out.find(",truth_status\n"), std::string::npos) << c.out;
  // Each row agrees with the single-problem output of its seed.
  const Result one = run("problem --class 1K --seed 3 --json");
  const auto status_at = one.out.find("\"truth_status\":\"") + 16;
  const std::string status = one.out.substr(status_at, one.out.find('"', status_at) - status_at);
  const auto row = c.out.find("\n3,paper,");
  ASSERT_NE(row, std::string::npos) << c.out;
  const std::string line = c.out.substr(row + 1, c.out.find('\n', row + 1) - row - 1);
  EXPECT_EQ(line.substr(line.rfind(',') + 1), status) << line;
  const Result t = run("problem --class 1K --seeds 1,2,3,4 --teacher minimal");
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("4 problems: exact 4 (100%), above 0 (0%), global 0 (0%)"), std::string::npos) << t.out;
  const Result j = run("problem --class 1K --seeds 1-2 --format json");
  EXPECT_EQ(j.out.front(), '[');
  expect_usage_error("problem --class 1K --seeds 5-1", "below the first");
  expect_usage_error("problem --class 1K --seed 1 --seeds 1-5", "not both");
  expect_usage_error("problem --class 1K --seeds 1-5 --json", "--format json");
  expect_usage_error("problem --class 1K --seeds 1-3 --teacher first-layer", "first-layer is for --widths");
}

TEST(Cli, ProblemDescribesTheDrawnProblem) {
  const Result r = run("problem --class 1K --seed 7");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("class: 1K"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("widths: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("rank: "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("d: "), std::string::npos) << r.out;

  const Result j = run("problem --class 1k --seed 7 --json");
  EXPECT_EQ(j.code, 0) << j.err;
  EXPECT_EQ(j.out.front(), '{');
  EXPECT_NE(j.out.find("\"class\":\"1K\""), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"lambda_exact\":"), std::string::npos) << j.out;
  // Same problem twice: identical output.
  EXPECT_EQ(run("problem --class 1K --seed 7 --json").out, j.out);
  // The text lambda agrees with `truth` for the drawn architecture and rank.
  const auto field = [&](const std::string& key) {
    const auto start = r.out.find(key + ": ") + key.size() + 2;
    return r.out.substr(start, r.out.find('\n', start) - start);
  };
  const Result t = run("truth --widths " + field("widths") + " --rank " + field("rank"));
  EXPECT_EQ(last_line(t.out), last_line(r.out));
}

TEST(Cli, ProblemRejectsBadInput) {
  expect_usage_error("problem --class 200K --seed 1", "unknown model class '200K'");
  expect_usage_error("problem --class 100K --seed -1", "negative");
  expect_usage_error("problem --class 100K --seed abc", "not an integer");
  expect_usage_error("problem --class 100K", "--seed is required");
  expect_usage_error("problem --seed 3", "--class is required");
  expect_usage_error("problem --class custom:5,2,3,4 --seed 1", "minimum exceeds");
}

TEST(Cli, RunPrintsTheEstimateAndJson) {
  const Result r = run("run --widths 5,4,3 --rank 1 --sampler sgld --step-size 1e-7 --steps 300 --threads 1");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_EQ(last_line(r.out).rfind("lambda_hat: ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("diverged: no"), std::string::npos) << r.out;
  const Result j = run(
      "run --class tiny --seed 1 --sampler sghmc --step-size 1e-8 --steps 300 --threads 1 --json");
  EXPECT_EQ(j.code, 0) << j.err;
  for (const char* key : {"\"lambda_hat\":", "\"lambda_true\":", "\"rel_error\":", "\"diverged\":false",
                          "\"steps\":300", "\"steps_per_second\":"}) {
    EXPECT_NE(j.out.find(key), std::string::npos) << key << " in " << j.out;
  }
  // Deterministic: the same command prints the same estimate.
  const Result j2 = run(
      "run --class tiny --seed 1 --sampler sghmc --step-size 1e-8 --steps 300 --threads 2 --json");
  const auto estimate = [](const std::string& s) { return s.substr(0, s.find(",\"lambda_true\"")); };
  EXPECT_EQ(estimate(j2.out), estimate(j.out));
}

TEST(Cli, RunShowsTheTruthStatusAndTheErrorAgainstTheLowerBound) {
  const Result r = run("run --widths 10,8,10 --rank 1 --sampler sgld --step-size 1e-7 --steps 300 --threads 1 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"truth_status\":\"above\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"lambda_lower\":41,"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"rel_error_lower\":"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"teacher\":\"first-layer\""), std::string::npos) << r.out;
  const Result m = run("run --widths 10,8,10 --rank 1 --teacher minimal --sampler sgld --step-size 1e-7 --steps 300 --threads 1");
  EXPECT_NE(m.out.find("truth status: exact;"), std::string::npos) << m.out;
  EXPECT_NE(m.out.find("layer ranks 1,1"), std::string::npos) << m.out;
  expect_usage_error("run --widths 10,8,10 --rank 1 --teacher paper --sampler sgld --step-size 1e-7", "first-layer");
}

TEST(Cli, RunReportsDivergenceAsAResult) {
  const Result r = run("run --widths 5,4,3 --rank 1 --sampler sgld --step-size 10 --steps 300 --json");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("\"lambda_hat\":null"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"diverged\":true"), std::string::npos) << r.out;
}

TEST(Cli, RunRejectsBadInput) {
  const std::string base = "run --widths 5,4,3 --rank 1 --steps 100 ";
  expect_usage_error(base + "--sampler langevin --step-size 1e-7", "unknown sampler 'langevin'");
  expect_usage_error(base + "--sampler sgld --step-size 0", "--step-size");
  expect_usage_error(base + "--sampler sgld --step-size -1e-7", "--step-size");
  expect_usage_error(base + "--sampler sgld --step-size nan", "not a finite number");
  expect_usage_error(base + "--sampler sgld --step-size inf", "not a finite number");
  expect_usage_error(base + "--sampler sgld --step-size 1e-7 --burn-in 100", "burn-in");
  expect_usage_error(base + "--sampler sgld --step-size 1e-7 --burn-in 150", "burn-in");
  expect_usage_error(base + "--sampler sgld --step-size 1e-7 --n 1000 --batch-size 1001",
                     "batch size");
  expect_usage_error(base + "--step-size 1e-7", "--sampler is required");
  expect_usage_error(base + "--sampler sgld", "--step-size is required");
  expect_usage_error("run --class tiny --widths 5,4 --rank 1 --sampler sgld --step-size 1e-7",
                     "exactly one of");
  expect_usage_error(base + "--sampler sgld --step-size 1e-7 --backend quantum", "backend 'quantum'");
  expect_usage_error(base + "--sampler sgld --step-size 1e-7 --sampling sometimes", "--sampling");
  expect_usage_error(base + "--sampler rmsprop_sgld --step-size 1e-7 --rmsprop-preset x",
                     "RMSProp preset");
  expect_usage_error(base + "--sampler sghmc --step-size 1e-7 --friction 2", "--friction");
  expect_usage_error(base + "--sampler sgld --step-size 1e-7 --lanes 0", "--lanes");
  expect_usage_error(base + "--sampler sgld --step-size 1e-7 --lanes 9", "--lanes");
}

TEST(Cli, BenchReportsSpeedAgainstTheGemmFloor) {
  const Result r = run("bench --class tiny --seed 2 --steps 50 --gemm-size 128 --copy-mib 8 --threads 1 --no-shape-floor --json");
  EXPECT_EQ(r.code, 0) << r.err;
  for (const char* key : {"\"steps_per_second\":", "\"gflops\":", "\"sgemm_gflops\":",
                          "\"bandwidth_gbs\":", "\"ms_per_step\":", "\"floor_ms_per_step\":",
                          "\"chains_per_hour\":", "\"hardware\":\"1 CPU threads, OpenBLAS "}) {
    EXPECT_NE(r.out.find(key), std::string::npos) << key << " in " << r.out;
  }
}

// The number after "key": in a JSON object (NaN if the key is missing or its value is null).
double json_number(const std::string& json, const std::string& key) {
  const auto at = json.find("\"" + key + "\":");
  if (at == std::string::npos) return std::nan("");
  const std::string rest = json.substr(at + key.size() + 3);
  return rest.rfind("null", 0) == 0 ? std::nan("") : std::strtod(rest.c_str(), nullptr);
}

// The shape floor is measured after each run, and the ratios are the medians of the paired
// ratios; the step's random draws are timed alone and shown apart, so the ratio against the floor
// with them is the smaller one.
TEST(Cli, BenchPairsTheShapeFloorWithEachRunAndShowsTheDrawsApart) {
  const std::string base = "bench --class tiny --seed 2 --steps 50 --repeats 2 --gemm-size 0 --copy-mib 0 --threads 1 ";
  const Result j = run(base + "--json");
  ASSERT_EQ(j.code, 0) << j.err;
  const double floor = json_number(j.out, "shape_floor_ms_per_step"), draws = json_number(j.out, "shape_draws_ms");
  EXPECT_GT(floor, 0) << j.out;
  EXPECT_GT(draws, 0) << j.out;
  EXPECT_GT(json_number(j.out, "shape_floor_with_draws_ms"), floor) << j.out;
  EXPECT_GT(json_number(j.out, "of_shape_floor"), json_number(j.out, "of_shape_floor_with_draws")) << j.out;
  EXPECT_GT(json_number(j.out, "of_shape_floor_with_draws"), 0) << j.out;
  const Result t = run(base);
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("x of it (median of 2 runs, each against the floor measured after it)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("shape floor with the draws: "), std::string::npos) << t.out;
  const Result off = run(base + "--no-shape-floor --json");
  ASSERT_EQ(off.code, 0) << off.err;
  for (const char* key : {"shape_floor_ms_per_step", "of_shape_floor", "shape_draws_ms", "of_shape_floor_with_draws"}) {
    EXPECT_NE(off.out.find("\"" + std::string(key) + "\":null"), std::string::npos) << key << " in " << off.out;
  }
}

// The number that follows `prefix` in s (NaN if the prefix is missing).
double number_after(const std::string& s, const std::string& prefix) {
  const auto at = s.find(prefix);
  return at == std::string::npos ? std::nan("") : std::strtod(s.c_str() + at + prefix.size(), nullptr);
}

// The core-to-core handoff (across, and each thread reading its own share as the control) is
// measured after each run where a team of threads can hand data over, and the text and the JSON
// say why not elsewhere.
TEST(Cli, BenchMeasuresTheHandoffBetweenCoresOnlyWithSeveralThreads) {
  const std::string base = "bench --class tiny --seed 2 --steps 20 --gemm-size 0 --copy-mib 0 --no-shape-floor ";
  const Result two = run(base + "--threads 2 --handoff-mib 1 --json");
  ASSERT_EQ(two.code, 0) << two.err;
  EXPECT_GT(json_number(two.out, "handoff_gbs"), 0) << two.out;
  EXPECT_GT(json_number(two.out, "handoff_own_gbs"), 0) << two.out;
  const Result text = run(base + "--threads 2 --handoff-mib 1 --repeats 2");
  ASSERT_EQ(text.code, 0) << text.err;
  EXPECT_GT(number_after(text.out, "core-to-core handoff: "), 0) << text.out;
  EXPECT_GT(number_after(text.out, " MiB array, then reads the next thread's; "), 0) << text.out;
  EXPECT_NE(text.out.find("GB/s where it reads back its own; the array's bytes over the time to write and read them, "
                          "medians over the runs, each measured right after it)"),
            std::string::npos)
      << text.out;
  const std::vector<std::pair<std::string, std::string>> not_measured = {
      {"", "--threads 1"},
      {"", "--threads 2 --handoff-mib 0"},
      {"OMP_THREAD_LIMIT=1", "--threads 2 --handoff-mib 1"},  // OpenMP gives a team of one
  };
  const std::vector<std::string> why = {"one thread", "--handoff-mib 0", "OpenMP gave the threads a team of one"};
  for (std::size_t i = 0; i < not_measured.size(); ++i) {
    const auto& [env, args] = not_measured[i];
    const Result j = run_with_env(env, base + args + " --json");
    ASSERT_EQ(j.code, 0) << args << ": " << j.err;
    EXPECT_NE(j.out.find("\"handoff_gbs\":null"), std::string::npos) << args << ": " << j.out;
    EXPECT_NE(j.out.find("\"handoff_own_gbs\":null"), std::string::npos) << args << ": " << j.out;
    const Result t = run_with_env(env, base + args);
    ASSERT_EQ(t.code, 0) << args << ": " << t.err;
    EXPECT_NE(t.out.find("core-to-core handoff: not measured (" + why[i] + ")"), std::string::npos) << t.out;
  }
  const Result bad = run(base + "--threads 2 --handoff-mib -1");
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("--handoff-mib"), std::string::npos) << bad.err;
}

// bench names how a chain shares the CPU threads (CpuBackend::schedule): on two threads the sides
// of the cut apart where they balance (100K, whose busier side has 4% more flops than the busier
// thread of the spread split), spread where they do not (1M's widths: 23% more), on layer-by-layer
// gradients and on three threads; one thread, also where OpenMP allows only one; what OpenMP
// allows, not what was asked for (OMP_THREAD_LIMIT=2 with --threads 3: a team of two).
TEST(Cli, BenchNamesHowTheThreadsShareAStep) {
  const std::string base = "bench --steps 2 --repeats 1 --gemm-size 0 --copy-mib 0 --no-shape-floor --handoff-mib 0 ";
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"", "--class 100K --seed 1 --threads 2", "sides_apart"},
      {"", "--widths 781,784,101,875,896,317,778 --rank 50 --threads 2", "spread"},
      {"", "--class 100K --seed 1 --threads 2 --gradient layered", "spread"},
      {"", "--class 100K --seed 1 --threads 3", "spread"},
      {"", "--class 100K --seed 1 --threads 1", "one_thread"},
      {"OMP_THREAD_LIMIT=1 timeout 300", "--class 100K --seed 1 --threads 2", "one_thread"},
      {"OMP_THREAD_LIMIT=2 timeout 300", "--class 100K --seed 1 --threads 3", "sides_apart"},  // a team of two
  };
  for (const auto& [env, args, want] : cases) {
    const Result j = run_with_env(env, base + args + " --json");
    ASSERT_EQ(j.code, 0) << args << ": " << j.err;
    EXPECT_NE(j.out.find("\"schedule\":\"" + want + "\""), std::string::npos) << args << ": " << j.out;
  }
  const Result apart = run(base + "--class 100K --seed 1 --threads 2");
  ASSERT_EQ(apart.code, 0) << apart.err;
  EXPECT_NE(apart.out.find("\nthreads: the two sides of the cut apart, one a thread, the update in the side below's wait\n"),
            std::string::npos)
      << apart.out;
  const Result spread = run(base + "--class 100K --seed 1 --threads 3");
  ASSERT_EQ(spread.code, 0) << spread.err;
  EXPECT_NE(spread.out.find("\nthreads: each product's blocks spread over the threads, the update's chunks where "
                            "their gradient was written\n"),
            std::string::npos)
      << spread.out;
}

// OpenBLAS's OpenMP build waits for every thread it was told to use, so where OpenMP allows fewer
// (OMP_THREAD_LIMIT) a threaded product used to wait forever: 100K's problem, and its chains on
// one or two threads, hung at the first product big enough to thread. The thread limit now holds
// OpenBLAS too (dln::set_blas_threads, dln::hold_blas_to_openmp), as do OMP_MAX_ACTIVE_LEVELS=0
// (every team one thread) and OMP_DYNAMIC (teams OpenMP sizes as it goes, turned off).
TEST(Cli, AnOpenMpThreadLimitHoldsOpenBlasToo) {
  for (const std::string args : {"problem --class 100K --seed 1",
                                  "run --class 100K --seed 1 --sampler sgld --step-size 1e-6 --steps 3 --threads 1",
                                  "run --class 100K --seed 1 --sampler sgld --step-size 1e-6 --steps 3 --threads 2"}) {
    for (const std::string env : {"OMP_MAX_ACTIVE_LEVELS=0 timeout 300", "OMP_DYNAMIC=true timeout 300"}) {
      const Result r = run_with_env(env, args);
      EXPECT_EQ(r.code, 0) << env << " " << args << ": " << r.err;
    }
    // Under `timeout`, so that a hang fails the test (exit 124) instead of stopping the suite.
    const Result r = run_with_env("OMP_THREAD_LIMIT=1 timeout 300", args);
    EXPECT_EQ(r.code, 0) << args << ": " << r.err;
  }
}

// LLCB_DRAWS caps the instructions the random draws run on (in a build without AVX-512; a build
// for AVX-512 draws through it whatever the cap): bench names the path taken (its hardware line
// and JSON's random_draws), every path gives the same trace byte for byte (the noise and the
// inputs of a 1K chain, both samplers' kinds of update), and a value it does not take is a
// one-line usage error.
TEST(Cli, EveryDrawPathGivesTheSameTrace) {
  using llcb::DrawPath;
  const auto tmp = std::filesystem::temp_directory_path() / ("llcb_cli_draws_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  for (const std::string path : {"", "avx512", "avx2", "scalar"}) {
    DrawPath cap = DrawPath::kAvx512;
    ASSERT_TRUE(llcb::draws_cap(path.c_str(), cap));
#if defined(__AVX512F__)
    const DrawPath want = DrawPath::kAvx512;  // the build's own code is AVX-512 throughout
#else
    const DrawPath want = llcb::capped_draw_path(path.c_str());
#endif
    const std::string bench = "bench --class tiny --steps 5 --repeats 1 --gemm-size 0 --copy-mib 0 --no-shape-floor";
    const Result r = run_with_env("LLCB_DRAWS=" + path, bench);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(r.out.find(std::string(" kernels, random draws ") + llcb::draw_path_name(want) + ")\n"),
              std::string::npos)
        << "LLCB_DRAWS=" << path << "\n" << r.out;
    const Result j = run_with_env("LLCB_DRAWS=" + path, bench + " --json");
    ASSERT_EQ(j.code, 0) << j.err;
    EXPECT_NE(j.out.find(std::string("\"random_draws\":\"") + llcb::draw_path_name(want) + "\""), std::string::npos)
        << "LLCB_DRAWS=" << path << "\n" << j.out;
  }
  for (const std::string sampler : {"sgld", "sgnht"}) {
    std::string first;
    for (const std::string path : {"", "avx512", "avx2", "scalar"}) {
      const std::string trace = (tmp / (sampler + path + ".csv")).string();
      const Result r = run_with_env("LLCB_DRAWS=" + path, "run --class 1K --seed 3 --sampler " + sampler +
                                                              " --step-size 1e-5 --steps 40 --threads 2 --trace " + trace);
      ASSERT_EQ(r.code, 0) << path << ": " << r.err;
      const std::string got = slurp(trace);
      ASSERT_GT(got.size(), 100u);
      if (first.empty()) first = got;
      EXPECT_EQ(got, first) << sampler << ", LLCB_DRAWS=" << path;
    }
  }
  const Result bad = run_with_env("LLCB_DRAWS=avx1024", "problem --class tiny");
  EXPECT_EQ(bad.code, 2);
  EXPECT_EQ(lines(bad.err), 1) << bad.err;
  EXPECT_NE(bad.err.find("LLCB_DRAWS is 'avx1024'"), std::string::npos) << bad.err;
  std::filesystem::remove_all(tmp);
}

// --batch-sums names how the CPU sums over the batch, in bench's data path and JSON; a batch of
// 200 has two halves, so `run` gives another (close) estimate either way; a bad value is a
// one-line usage error.
TEST(Cli, BatchSumsAreNamedAndChecked) {
  const std::string bench = "bench --class tiny --seed 2 --steps 20 --gemm-size 0 --copy-mib 0 --no-shape-floor --threads 2 ";
  for (const std::string v : {"halves", "whole"}) {
    const Result j = run(bench + "--batch-sums " + v + " --json");
    ASSERT_EQ(j.code, 0) << j.err;
    EXPECT_NE(j.out.find("\"batch_sums\":\"" + v + "\""), std::string::npos) << j.out;
    const Result t = run(bench + "--batch-sums " + v);
    ASSERT_EQ(t.code, 0) << t.err;
    EXPECT_NE(t.out.find(", the batch summed " + std::string(v == "halves" ? "in halves" : "whole") + "\n"),
              std::string::npos) << t.out;
  }
  EXPECT_NE(run(bench + "--json").out.find("\"batch_sums\":\"halves\""), std::string::npos);  // the default
  const std::string chain =
      "run --class tiny --seed 2 --sampler sgld --step-size 1e-6 --steps 300 --batch-size 200 --threads 2 --json ";
  const Result halves = run(chain + "--batch-sums halves"), whole = run(chain + "--batch-sums whole");
  ASSERT_EQ(halves.code, 0) << halves.err;
  ASSERT_EQ(whole.code, 0) << whole.err;
  EXPECT_NE(json_number(halves.out, "lambda_hat"), json_number(whole.out, "lambda_hat"));
  // The same chain to fp32 rounding over 300 steps: well within 1% (a wrong sum is off by order 1).
  EXPECT_NEAR(json_number(halves.out, "lambda_hat"), json_number(whole.out, "lambda_hat"),
              0.01 * std::abs(json_number(whole.out, "lambda_hat")));
  for (const std::string& cmd : {bench, chain}) {
    const Result bad = run(cmd + "--batch-sums thirds");
    EXPECT_EQ(bad.code, 2) << cmd;
    EXPECT_NE(bad.err.find("--batch-sums is 'thirds', expected halves or whole"), std::string::npos) << bad.err;
    EXPECT_EQ(std::count(bad.err.begin(), bad.err.end(), '\n'), 1) << bad.err;
  }
}

// A skipped measurement is null in the JSON and "not measured" in the text, never a 0 and
// never a step floor computed without it.
TEST(Cli, BenchSaysWhatItDidNotMeasure) {
  const std::string base = "bench --class tiny --seed 2 --steps 50 --threads 1 ";
  const Result j = run(base + "--gemm-size 64 --copy-mib 0 --json");
  EXPECT_EQ(j.code, 0) << j.err;
  EXPECT_NE(j.out.find("\"bandwidth_gbs\":null"), std::string::npos) << j.out;
  EXPECT_NE(j.out.find("\"floor_ms_per_step\":null"), std::string::npos) << j.out;
  EXPECT_EQ(j.out.find("\"sgemm_gflops\":null"), std::string::npos) << j.out;
  const Result t = run(base + "--gemm-size 0 --copy-mib 0");
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_NE(t.out.find("sgemm floor: not measured (--gemm-size 0)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("copy bandwidth: not measured (--copy-mib 0)"), std::string::npos) << t.out;
  EXPECT_NE(t.out.find("step floor: not computed"), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("update bytes at the bandwidth"), std::string::npos) << t.out;
}

TEST(Cli, APrecisionLlcbenchDoesNotHaveIsRefusedEverywhere) {
  for (const char* cmd : {"run --class tiny --seed 1 --sampler sgld --step-size 1e-7 --steps 100",
                          "bench --class tiny --seed 1 --steps 10 --gemm-size 0 --copy-mib 0"}) {
    const Result r = run(std::string(cmd) + " --precision fp16");
    EXPECT_EQ(r.code, 2) << cmd;
    EXPECT_NE(r.err.find("precision 'fp16' is not one llcbench has: fp32 or tf32"), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "") << cmd;
  }
}

// calibrate: the rule on synthetic chains (--replay runs nothing), a real calibration that is
// deterministic, and the refusals.
TEST(Cli, CalibrateRecommendsFromAPlateauAndRefusesWithoutOne) {
  const auto tmp = std::filesystem::temp_directory_path() / ("llcb_cli_cal_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const auto csv = [&](const std::string& name, const std::string& rows) {
    const std::string path = (tmp / name).string();
    std::ofstream(path) << "step_size,chain,lambda_hat,diverged,nonstationary,drift_noise,estimate_se,nbeta_drift\n" << rows;
    return path;
  };
  // lambda_hat 5, 8, 10, 10.4, 10.6 then diverged: at 10% a grid point the plateau is 1e-8..1e-6,
  // its middle 1e-7; at the default 30%, 8 -> 10 joins it.
  const std::string plateau = csv("plateau.csv",
      "1e-10,1,5,false,false,0.01,0.1,0\n1e-10,2,5.1,false,false,0.01,0.1,0\n1e-9,1,8,false,false,0.02,0.1,0\n"
      "1e-9,2,8,false,false,0.02,0.1,0\n1e-8,1,10,false,false,0.05,0.1,0\n1e-8,2,10,false,false,0.05,0.1,0\n"
      "1e-7,1,10.4,false,false,0.1,0.1,0\n1e-7,2,10.4,false,false,0.1,0.1,0\n1e-6,1,10.6,false,false,0.3,0.1,0\n"
      "1e-6,2,10.6,false,false,0.3,0.1,0\n1e-5,1,nan,true,false,nan,0.1,0\n1e-5,2,nan,true,false,nan,0.1,0\n");
  const Result r = run("calibrate --replay " + plateau + " --tolerance 0.1");
  EXPECT_EQ(r.code, 0) << r.err;
  EXPECT_NE(r.out.find("recommended: 1e-07 (accepted 1e-08..1e-06)"), std::string::npos) << r.out;
  EXPECT_NE(run("calibrate --replay " + plateau + " --tolerance 0.1 --pick upper").out.find("recommended: 1e-06"), std::string::npos);
  EXPECT_NE(run("calibrate --replay " + plateau).out.find("(accepted 1e-09..1e-06)"), std::string::npos);
  const Result j = run("calibrate --replay " + plateau + " --tolerance 0.1 --json");
  EXPECT_NE(j.out.find("\"recommended\":1e-07"), std::string::npos) << j.out;
  // No plateau, and every chain diverged: no pick, exit 1, one line saying why; the table is printed.
  const Result none = run("calibrate --replay " + csv("none.csv",
      "1e-9,1,1,false,false,0,0.1,0\n1e-8,1,2,false,false,0,0.1,0\n1e-7,1,4,false,false,0,0.1,0\n"));
  EXPECT_EQ(none.code, 1);
  EXPECT_EQ(lines(none.err), 1) << none.err;
  EXPECT_NE(none.err.find("no step size to recommend: no plateau"), std::string::npos) << none.err;
  EXPECT_EQ(none.out.find("recommended"), std::string::npos) << none.out;
  const Result dead = run("calibrate --replay " + csv("dead.csv", "1e-7,1,nan,true,false,nan,0.1,0\n1e-6,1,nan,true,false,nan,0.1,0\n"));
  EXPECT_EQ(dead.code, 1);
  EXPECT_NE(dead.err.find("every chain diverged at every step size (down to 1e-07)"), std::string::npos) << dead.err;
  // Bad input: exit 2, one line.
  expect_usage_error("calibrate --replay " + csv("bad.csv", "1e-7,1,x,false,false,0,0.1,0\n"), "lambda_hat");
  expect_usage_error("calibrate --replay /nonexistent.csv", "cannot read");
  expect_usage_error("calibrate --class tiny --sampler sgld --grid 1e-5:1e-7:2", "below the start");
  expect_usage_error("calibrate --class tiny --sampler sgld --grid 1e-7", "START:STOP:PER_DECADE");
  expect_usage_error("calibrate --class tiny --sampler sgld --tolerance 0", "tolerance");
  expect_usage_error("calibrate --class tiny --sampler sgld --pick lowest", "pick");
  expect_usage_error("calibrate --replay " + plateau + " --show-truth", "--show-truth");
  // A real calibration, twice: the same output (chains seeded 1..K), and it stops at divergence.
  const std::string cal = "calibrate --class tiny --seed 2 --sampler sgld --steps 2000 --chains 2 --threads 1 "
                          "--grid 1e-8:1e2:1 --json --show-truth";
  const Result a = run(cal), b2 = run(cal);
  EXPECT_EQ(a.out, b2.out);
  EXPECT_NE(a.out.find("\"lambda_true\":9"), std::string::npos) << a.out;
  EXPECT_NE(a.out.find("\"run\":false"), std::string::npos) << "huge step sizes are not run: " << a.out;
  std::filesystem::remove_all(tmp);
}

TEST(Cli, SweepStoresTheTruthStatusOfEveryProblemAndJob) {
  const auto tmp = std::filesystem::temp_directory_path() / ("llcb_cli_truth_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string cfg = (tmp / "c.ini").string();
  // tiny seeds 1-4: seed 2 (5,3,4 rank 3) is on the minimal stratum, the others are "global".
  std::ofstream(cfg) << "[sweep]\nsamplers = sgld\nthreads = 1\n[problems]\nclass = tiny\ncount = 4\n"
                        "[chain]\nsteps = 200\nbatch_size = 10\n[sgld]\nstep_sizes = 1e-7\n";
  const std::string paper = (tmp / "paper.h5").string(), minimal = (tmp / "minimal.h5").string();
  ASSERT_EQ(run("sweep " + cfg + " --store " + paper + " --log-level warn").code, 0);
  const Result problems = run("query " + paper + " problems --format csv --columns seed,teacher,truth_status");
  EXPECT_EQ(problems.out, "seed,teacher,truth_status\n1,paper,global\n2,paper,exact\n3,paper,global\n4,paper,global\n");
  const Result exact = run("query " + paper + " jobs --where truth_status=exact --format csv "
                           "--columns problem_seed,rel_error,rel_error_lower");
  ASSERT_EQ(lines(exact.out), 2) << exact.out;
  const std::string row = exact.out.substr(exact.out.find('\n') + 1);
  const auto a = row.find(','), b = row.rfind(',');
  EXPECT_EQ(row.substr(0, a), "2");
  EXPECT_EQ(row.substr(a + 1, b - a - 1), row.substr(b + 1, row.size() - b - 2));  // lower = Aoyagi
  const Result jobs = run("query " + paper + " jobs --format json --columns raw_estimate,estimate_se");
  EXPECT_EQ(jobs.out.find("null"), std::string::npos) << jobs.out;  // finite for every done job
  const Result summary = run("query " + paper + " summary --format csv --columns truth_status,count");
  EXPECT_EQ(summary.out, "truth_status,count\nall,4\nexact,1\nglobal,3\n");
  ASSERT_EQ(run("sweep " + cfg + " --store " + minimal + " --set problems.teacher=minimal --log-level warn").code, 0);
  EXPECT_EQ(run("query " + minimal + " summary --format csv --columns truth_status,count,teacher").out,
            "truth_status,count,teacher\nall,4,minimal\nexact,4,minimal\n");
  std::filesystem::remove_all(tmp);
}

// A log-spaced grid stores 1.0000000000000001e-07 where every table shows 1e-07: --where finds
// numbers as they are shown (a relative 1e-9, or the text table's 6 digits), and no neighbour.
TEST(Cli, QueryWhereMatchesNumbersAsTheyAreShown) {
  const auto tmp = std::filesystem::temp_directory_path() / ("llcb_cli_where_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string cfg = (tmp / "c.ini").string(), store = (tmp / "w.h5").string();
  std::ofstream(cfg) << "[sweep]\nsamplers = sgld\nthreads = 1\n[problems]\nclass = tiny\ncount = 2\n"
                        "[chain]\nsteps = 200\nbatch_size = 10\n"
                        "[sgld]\nstep_sizes = 1.0000000000000001e-07, 1.0000001e-07, 1.2e-07\n";
  ASSERT_EQ(run("sweep " + cfg + " --store " + store + " --log-level warn").code, 0);
  const std::string q = "query " + store + " jobs --format csv --columns step_size,lambda_hat ";
  // Both 1.0000000000000001e-07 and 1.0000001e-07 show as 1e-07 in the text table.
  EXPECT_EQ(lines(run(q + "--where step_size=1e-7").out), 5);
  // More digits tell them apart: a relative 1e-9 only.
  const Result one = run(q + "--where step_size=1.0000000000000001e-07");
  EXPECT_EQ(lines(one.out), 3) << one.out;  // header + the two problems
  EXPECT_NE(one.out.find("1.0000000000000001e-07,"), std::string::npos) << one.out;
  EXPECT_EQ(lines(run(q + "--where step_size=1.0000001e-07").out), 3);
  EXPECT_EQ(lines(run(q + "--where step_size=1.00000000000e-07").out), 3);  // 12 digits: the same value
  EXPECT_EQ(lines(run(q + "--where step_size=1.2e-7").out), 3);
  // A value copied from the text table (6 significant digits) finds its row.
  const std::string row = one.out.substr(one.out.find('\n') + 1);
  const double lambda = std::stod(row.substr(row.find(',') + 1));
  char shown[32];
  std::snprintf(shown, sizeof shown, "%.6g", lambda);
  const Result by_lambda = run(q + "--where lambda_hat=" + shown + " --where step_size=1.0000000000000001e-07");
  EXPECT_EQ(lines(by_lambda.out), 2) << shown << "\n" << by_lambda.out;
  EXPECT_EQ(lines(run(q + "--where step_size=2e-7").out), 1);  // the header only
  // Integer columns take integers, and true/false for the 0/1 flags; anything else is an error,
  // not an empty table.
  EXPECT_EQ(lines(run(q + "--where diverged=false").out), 7);
  EXPECT_EQ(run(q + "--where diverged=false").out, run(q + "--where diverged=0").out);
  EXPECT_EQ(lines(run(q + "--where diverged=true").out), 1);
  EXPECT_EQ(lines(run(q + "--where problem_seed=01").out), 4);
  expect_usage_error(q + "--where problem_seed=abc", "problem_seed holds integers");
  expect_usage_error(q + "--where diverged=no", "diverged holds integers (0 or 1, or false or true)");
  std::filesystem::remove_all(tmp);
}

TEST(Cli, SweepQueryAndReduceRejectBadInput) {
  const auto tmp = std::filesystem::temp_directory_path() / ("llcb_cli_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string cfg = (tmp / "c.ini").string();
  std::ofstream(cfg) << "[sweep]\nsamplers = sgld\n[problems]\nclass = tiny\n[chain]\nsteps = 50\n"
                        "batch_size = 10\n[sgld]\nstep_sizes = 1e-7\n";
  const std::string not_h5 = (tmp / "text.h5").string();
  std::ofstream(not_h5) << "not hdf5";
  const std::string q = " --log-level warn";
  expect_usage_error("sweep /nonexistent.ini --store x.h5" + q, "cannot read config file '/nonexistent.ini': No such file");
  expect_usage_error("sweep " + tmp.string() + " --store x.h5" + q, "': it is a directory");
  expect_usage_error("sweep " + cfg + q, "--store is required");
  expect_usage_error("sweep " + cfg + " --store /nonexistent-dir/s.h5" + q, "cannot create store");
  expect_usage_error("sweep " + cfg + " --store " + not_h5 + q, "already exists");
  expect_usage_error("sweep " + cfg + " --store " + not_h5 + " --resume" + q, "not an HDF5 file");
  expect_usage_error("sweep " + cfg + " --store s.h5 --set chain.bogus=1" + q, "chain.bogus");
  expect_usage_error("sweep " + cfg + " --store s.h5 --set chain.precision=fp16" + q, "chain.precision");
  expect_usage_error("sweep " + cfg + " --store s.h5 --set chain.ranks_per_chain=2" + q,
                     "needs 2 worker ranks: run under mpirun -np 3");
  expect_usage_error("sweep " + cfg + " --store s.h5 --set chain.ranks_per_chain=1,1" + q,
                     "lists 1 twice");
  expect_usage_error("query " + not_h5 + " jobs", "not an HDF5 file");
  expect_usage_error("query /nonexistent.h5 jobs", "does not exist");
  expect_usage_error("reduce " + not_h5, "not an HDF5 file");
  expect_usage_error("status " + not_h5, "not an HDF5 file");
  expect_usage_error("status", "--store is required");
  EXPECT_EQ(slurp(not_h5), "not hdf5");  // never touched

  const std::string store = (tmp / "ok.h5").string();
  const Result s = run("sweep " + cfg + " --store " + store + " --format csv" + q);
  EXPECT_EQ(s.code, 0) << s.err;
  EXPECT_EQ(s.out.rfind("class,sampler,step_size,truth_status,count,", 0), 0u) << s.out;
  expect_usage_error("query " + store + " tables", "unknown table 'tables'");
  expect_usage_error("query " + store + " jobs --where nosuch=1", "no column 'nosuch'");
  expect_usage_error("query " + store + " jobs --format xml", "--format");
  expect_usage_error("query " + store + " trace --job 0000", "has no job '0000'");
  const Result jobs = run("query " + store + " jobs --format csv --columns job_id,status,diverged");
  EXPECT_EQ(jobs.code, 0) << jobs.err;
  EXPECT_EQ(lines(jobs.out), 2);  // header and the one job
  EXPECT_NE(jobs.out.find(",done,0"), std::string::npos) << jobs.out;
  const Result st = run("status " + store);
  EXPECT_EQ(st.code, 0) << st.err;
  EXPECT_EQ(st.out, "jobs: 1 (done 1, failed 0, pending 0)\nstate: finished\n");
  std::filesystem::remove_all(tmp);
}

// srun without MPI starts every task as a sweep of its own: task 0 refuses in one line, the others
// quietly, all with exit 2, before the store exists. A batch script (no SLURM_STEP_NUM_TASKS) and a
// one-task step run the sweep as usual.
TEST(Cli, ASlurmStepOfSeveralTasksWithoutMpiIsRefused) {
  const auto tmp = std::filesystem::temp_directory_path() / ("llcb_cli_slurm_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string cfg = (tmp / "c.ini").string(), store = (tmp / "s.h5").string();
  std::ofstream(cfg) << "[sweep]\nsamplers = sgld\nthreads = 1\n[problems]\nclass = tiny\n[chain]\nsteps = 50\n"
                        "batch_size = 10\n[sgld]\nstep_sizes = 1e-7\n";
  const std::string sweep = "sweep " + cfg + " --store " + store + " --log-level=warn";
  const Result task0 = run_with_env("SLURM_STEP_NUM_TASKS=3 SLURM_PROCID=0", sweep);
  EXPECT_EQ(task0.code, 2);
  EXPECT_EQ(lines(task0.err), 1) << task0.err;
  EXPECT_NE(task0.err.find("tasks of a Slurm step"), std::string::npos) << task0.err;
  EXPECT_NE(task0.err.find("srun"), std::string::npos) << task0.err;  // --mpi=pmix, or -n 1 without MPI
  const Result task2 = run_with_env("SLURM_STEP_NUM_TASKS=3 SLURM_PROCID=2", sweep);
  EXPECT_EQ(task2.code, 2);
  EXPECT_EQ(task2.err, "");
  EXPECT_FALSE(std::filesystem::exists(store));
  EXPECT_FALSE(std::filesystem::exists(store + ".journal"));
  EXPECT_EQ(run_with_env("SLURM_NTASKS=3 SLURM_PROCID=0", sweep).code, 0);  // the batch script's own shell
  EXPECT_TRUE(std::filesystem::exists(store));
  const std::string again = "sweep " + cfg + " --store " + store + " --resume --log-level warn";
  EXPECT_EQ(run_with_env("SLURM_STEP_NUM_TASKS=1 SLURM_PROCID=0", again).code, 0);
  std::filesystem::remove_all(tmp);
}

// sweep's log level defaults to info (its progress lines) and takes both spellings of the option.
TEST(Cli, SweepLogLevelDefaultsToInfoAndTakesEitherSpelling) {
  const Result help = run("sweep --help");
  EXPECT_NE(help.out.find("--log-level arg (=info)"), std::string::npos) << help.out;
  const auto tmp = std::filesystem::temp_directory_path() / ("llcb_cli_level_" + std::to_string(::getpid()));
  std::filesystem::create_directories(tmp);
  const std::string cfg = (tmp / "c.ini").string();
  std::ofstream(cfg) << "[sweep]\nsamplers = sgld\nthreads = 1\n[problems]\nclass = tiny\n[chain]\nsteps = 50\n"
                        "batch_size = 10\n[sgld]\nstep_sizes = 1e-7\n";
  const Result info = run("sweep " + cfg + " --store " + (tmp / "a.h5").string());
  EXPECT_NE(info.err.find("[info]"), std::string::npos) << info.err;  // progress lines by default
  const Result quiet = run("sweep " + cfg + " --store " + (tmp / "b.h5").string() + " --log-level=warn");
  EXPECT_EQ(quiet.code, 0) << quiet.err;
  EXPECT_EQ(quiet.err.find("[info]"), std::string::npos) << quiet.err;
  std::filesystem::remove_all(tmp);
  expect_usage_error("sweep /nonexistent.ini --store x.h5 --log-level=warn", "cannot read config file");
  expect_usage_error("sweep /nonexistent.ini --store x.h5 --log-level error", "cannot read config file");
}

// An option whose value is left out before another option says so, wherever it stands (Boost
// took the next option as the value).
TEST(Cli, AMissingValueBeforeAnotherOptionIsNamed) {
  expect_usage_error("run --class tiny --sampler sgld --steps --json",
                     "the required argument for option '--steps' is missing");
  expect_usage_error("run --class tiny --sampler --step-size 1e-7",
                     "the required argument for option '--sampler' is missing");
  expect_usage_error("run --class tiny --sampler sgld --step-size 1e-7 --steps",
                     "the required argument for option '--steps' is missing");
  // An abbreviation, which Boost accepts, too.
  expect_usage_error("run --class tiny --sampler sgld --step-si --steps 100",
                     "the required argument for option '--step-si' is missing");
  // Values that merely start with one dash are values.
  expect_usage_error("run --class tiny --seed 2 --sampler sgld --step-size -1", "--step-size: '-1' is out of range");
}

// calibrate's output files are checked before any chain runs: a directory, a missing directory or
// a plot that is not a PNG is refused at once (a default calibration runs for minutes), and
// nothing is written.
TEST(Cli, CalibrateChecksItsOutputFilesFirst) {
  namespace fs = std::filesystem;
  const fs::path d = fs::temp_directory_path() / ("llcb_cli_outputs_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  const std::string base = "calibrate --class tiny --seed 2 --sampler sgld --steps 200000 --chains 64 ";
  expect_usage_error(base + "--plot " + d.string() + "/", "is a directory; give a file name ending in .png");
  expect_usage_error(base + "--plot " + d.string(), "is a directory");
  expect_usage_error(base + "--plot " + (d / "fig.svg").string(), "must end in .png");
  expect_usage_error(base + "--plot " + (d / "missing" / "x.png").string(), "does not exist");
  expect_usage_error(base + "--chains-csv " + d.string(), "--chains-csv: '" + d.string() + "' is a directory");
  expect_usage_error(base + "--plot ''", "--plot: the file name is empty");
  // A file that exists and can be written is fine wherever it lies (/dev/null: /dev is not writable
  // to everyone): the calibration runs.
  EXPECT_EQ(run("calibrate --class tiny --seed 1 --sampler sgld --steps 200 --chains 1 --grid 1e-8:1e-7:1 "
                "--chains-csv /dev/null --log-level error").err.find("--chains-csv"),
            std::string::npos);
  EXPECT_TRUE(fs::is_empty(d));
  fs::remove_all(d);
}

// An error quoting bytes that cannot be printed (a newline, a control character, a byte that is
// not UTF-8, as a damaged store's names hold) stays one readable line; UTF-8 passes as it is.
TEST(Cli, AnErrorIsOneLineWhateverBytesItQuotes) {
  expect_usage_error("run --sampler sgld --step-size 1e-7 --class \"$(printf 'ti\\nny\\001\\377')\"",
                     "unknown model class 'ti\\x0any\\x01\\xff'");
  expect_usage_error("run --sampler sgld --step-size 1e-7 --class t\xc3\xafny", "unknown model class 't\xc3\xafny'");
  // C1 controls (U+0085 here) and overlong forms are not printable either.
  expect_usage_error("run --sampler sgld --step-size 1e-7 --class \"$(printf 't\\302\\205\\340\\200\\200y')\"",
                     "unknown model class 't\\xc2\\x85\\xe0\\x80\\x80y'");
}

TEST(Cli, ProblemRefusesOptionsItWouldIgnore) {
  expect_usage_error("problem --class tiny --seeds 1,2,1", "--seeds '1,2,1' lists seed 1 twice");
  expect_usage_error("problem --class tiny --seed 1 --format csv", "--format goes with --seeds");
  EXPECT_EQ(run("problem --class tiny --seeds 1,2 --format csv").code, 0);
}

TEST(Cli, TopLevelUsageVersionAndHelp) {
  expect_usage_error("frobnicate", "unknown command 'frobnicate'");
  const Result none = run("");
  EXPECT_EQ(none.code, 2);
  const Result v = run("--version");
  EXPECT_EQ(v.code, 0);
  EXPECT_EQ(v.out.rfind("llcbench ", 0), 0u) << v.out;
  for (const std::string cmd : {"truth", "problem", "run", "bench", "sweep", "query", "reduce"}) {
    const Result h = run(cmd + " --help");
    EXPECT_EQ(h.code, 0) << cmd;
    EXPECT_NE(h.out.find("usage: llcbench " + cmd), std::string::npos) << h.out;
  }
  EXPECT_EQ(run("--help").code, 0);
}

}  // namespace
