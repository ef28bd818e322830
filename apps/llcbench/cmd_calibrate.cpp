// llcbench calibrate: short chains of one sampler over a log grid of step sizes on one problem,
// and the step size the rule of lib/estimator/calibration.hpp recommends from what a user has
// (never the truth, which --show-truth only prints beside). --replay applies the rule to the
// per-chain CSV of an earlier run (--chains-csv) without running anything.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include "apps/llcbench/chain_options.hpp"
#include "apps/llcbench/truth_output.hpp"
#include "lib/core/error.hpp"
#include "lib/core/json.hpp"
#include "lib/core/parse.hpp"
#include "lib/estimator/calibration.hpp"
#include "lib/samplers/registry.hpp"
#include "lib/sweep/calibration_grid.hpp"

namespace llcb::cli {
namespace {

using estimator::CalibrationChain;
using estimator::StepStats;

constexpr const char* kCsvHeader =
    "step_size,chain,lambda_hat,diverged,nonstationary,drift_noise,estimate_se,nbeta_drift";

std::vector<StepStats> read_chains_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw UsageError("--replay: cannot read '" + path + "'");
  std::string line;
  if (!std::getline(in, line) || line != kCsvHeader) {
    throw UsageError("--replay: '" + path + "' does not start with the header " + kCsvHeader);
  }
  std::map<double, std::vector<CalibrationChain>> by_step;
  for (int n = 2; std::getline(in, line); ++n) {
    if (line.empty()) continue;
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string cell; std::getline(ss, cell, ',');) f.push_back(cell);
    const std::string where = "--replay " + path + " line " + std::to_string(n);
    if (f.size() != 8) throw UsageError(where + ": expected 8 fields");
    const double step = parse_double(f[0], where + " step_size", std::numeric_limits<double>::min(), kHuge);
    // Not a number, or infinite, as any stream writes it: no usable value (NaN).
    const auto missing = [](const std::string& cell) {
      return cell.empty() || cell == "nan" || cell == "-nan" || cell == "inf" || cell == "-inf";
    };
    const auto number = [&](const std::string& cell, const char* name, double lo) {
      return missing(cell) ? std::nan("") : parse_double(cell, where + " " + name, lo, kHuge);
    };
    CalibrationChain c;
    c.lambda_hat = number(f[2], "lambda_hat", -kHuge);
    c.diverged = parse_bool(f[3], where + " diverged");
    c.nonstationary = parse_bool(f[4], where + " nonstationary");
    c.drift_noise = number(f[5], "drift_noise", 0);
    c.estimate_se = number(f[6], "estimate_se", 0);
    c.nbeta_drift = number(f[7], "nbeta_drift", -kHuge);
    by_step[step].push_back(c);
  }
  if (by_step.empty()) throw UsageError("--replay: '" + path + "' holds no chains");
  std::vector<StepStats> grid;
  for (auto& [step, chains] : by_step) grid.push_back(estimator::summarize_step(step, std::move(chains)));
  return grid;
}

void write_chains_csv(const std::string& path, const std::vector<StepStats>& grid) {
  std::ofstream out(path);
  if (!out) throw UsageError("--chains-csv: cannot open '" + path + "' for writing");
  out << kCsvHeader << "\n";
  out.precision(17);
  for (const StepStats& s : grid) {
    for (std::size_t k = 0; k < s.chains.size(); ++k) {
      const CalibrationChain& c = s.chains[k];
      out << s.step_size << "," << k + 1 << "," << c.lambda_hat << "," << (c.diverged ? "true" : "false") << ","
          << (c.nonstationary ? "true" : "false") << "," << c.drift_noise << "," << c.estimate_se << ","
          << c.nbeta_drift << "\n";
    }
  }
  if (!out) throw RuntimeError("--chains-csv: writing '" + path + "' failed");
}

std::string g(double v, int digits = 4) {
  if (!std::isfinite(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*g", digits, v);
  return buf;
}

struct Truth {
  bool shown = false;
  double lambda = 0, lower = 0;
  std::string status;
};

void print_text(const std::vector<StepStats>& grid, std::size_t skipped_from, const estimator::Calibration& cal,
                const Truth& truth) {
  std::printf("%-10s %6s %8s %8s %10s %10s %10s %11s %5s%s\n", "step_size", "chains", "diverged", "drifting",
              "median", "low", "high", "drift/noise", "sound", truth.shown ? "  rel_error" : "");
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const StepStats& s = grid[i];
    if (i >= skipped_from) {
      std::printf("%-10s %6s %8s  not run: every chain diverged at a smaller step size\n", g(s.step_size, 3).c_str(), "-", "-");
      continue;
    }
    const std::string rel = truth.shown ? "  " + g((s.median - truth.lambda) / truth.lambda, 3) : "";
    std::printf("%-10s %6zu %8lld %8lld %10s %10s %10s %11s %5s%s%s\n", g(s.step_size, 3).c_str(), s.chains.size(),
                static_cast<long long>(s.diverged), static_cast<long long>(s.nonstationary), g(s.median).c_str(),
                g(s.low).c_str(), g(s.high).c_str(), g(s.drift_noise, 3).c_str(), cal.sound[i] ? "yes" : "no",
                rel.c_str(), cal.found && i == cal.chosen ? "  <- recommended" : "");
  }
  if (truth.shown) {
    std::printf("truth (not used by the rule): lambda %s, lambda_lower %s, status %s\n", g(truth.lambda, 6).c_str(),
                g(truth.lower, 6).c_str(), truth.status.c_str());
  }
  if (cal.found) {
    std::printf("recommended: %s (accepted %s..%s): %s\n", g(grid[cal.chosen].step_size, 3).c_str(),
                g(grid[cal.first].step_size, 3).c_str(), g(grid[cal.last].step_size, 3).c_str(), cal.why.c_str());
  }
}

void print_json(const sweep::CalibrationRun& run, const estimator::Calibration& cal,
                const estimator::CalibrationRule& rule, const Truth& truth, JsonWriter& w) {
  sweep::write_calibration_json(w, run, cal, rule, truth.shown ? truth.lambda : std::nan(""));
  const std::vector<StepStats>& grid = run.grid;
  w.field("found", cal.found);
  if (cal.found) {
    w.field("recommended", grid[cal.chosen].step_size);
    w.field("accepted_low", grid[cal.first].step_size);
    w.field("accepted_high", grid[cal.last].step_size);
  } else {
    w.key("recommended").null();
  }
  w.field("why", cal.why);
  if (truth.shown) {
    w.field("lambda_true", truth.lambda);
    w.field("lambda_lower", truth.lower);
    w.field("truth_status", truth.status);
  }
}

}  // namespace

int cmd_calibrate(const std::vector<std::string>& args) {
  return guarded("calibrate", [&] {
    po::options_description desc("options");
    add_problem_options(desc);
    const ChainDefaults defaults{false, "10000", 0.5};
    add_chain_options(desc, defaults);
    add_backend_options(desc);
    const estimator::CalibrationRule fallback;
    char tolerance[32], drifting[32];
    std::snprintf(tolerance, sizeof tolerance, "%g", fallback.plateau_tolerance);
    std::snprintf(drifting, sizeof drifting, "%g", fallback.max_nonstationary);
    desc.add_options()("grid", po::value<std::string>()->default_value("1e-10:1e-4:2"),
                       "step sizes START:STOP:PER_DECADE (log-spaced)")(
        "chains", po::value<std::string>()->default_value("4"),
        "chains per step size (chain seeds S..S+K-1, S from --chain-seed)")(
        "tolerance", po::value<std::string>()->default_value(tolerance),
        "a plateau: neighbouring step sizes whose median lambda_hat differ by at most this fraction")(
        "max-drifting", po::value<std::string>()->default_value(drifting),
        "a sound step size has at most this fraction of chains whose kept window drifts")(
        "pick", po::value<std::string>()->default_value(fallback.pick),
        "the plateau's middle or upper step size")(
        "show-truth", po::bool_switch(), "print the true LLC and each step size's error beside (not used to decide)")(
        "chains-csv", po::value<std::string>(), "write every chain's diagnostics to this CSV")(
        "replay", po::value<std::string>(), "apply the rule to a --chains-csv file; runs no chain")(
        "json", po::bool_switch(), "print one JSON object instead of text")(
        "plot", po::value<std::string>(),
        "also draw the calibration into this PNG (and an SVG beside it): tools/report.py, matplotlib");
    add_common_options(desc);
    po::variables_map vm;
    if (!parse(args, desc,
               "usage: llcbench calibrate (--class C --seed N | --widths H1,... --rank R) --sampler S "
               "[--grid START:STOP:PER_DECADE] [--steps T] [--chains K] [options]\n"
               "       llcbench calibrate --replay CHAINS.csv [--tolerance X] [--pick middle|upper]",
               vm)) {
      return 0;
    }
    estimator::CalibrationRule rule;
    rule.plateau_tolerance = parse_double(vm["tolerance"].as<std::string>(), "--tolerance", 0, 10);
    rule.max_nonstationary = parse_double(vm["max-drifting"].as<std::string>(), "--max-drifting", 0, 1);
    rule.pick = vm["pick"].as<std::string>();
    estimator::validate(rule);
    const bool json = vm["json"].as<bool>();
    // The outputs' paths before any chain runs (a calibration can take minutes).
    if (vm.count("chains-csv")) check_output_file("--chains-csv", vm["chains-csv"].as<std::string>());
    if (vm.count("plot")) check_output_file("--plot", vm["plot"].as<std::string>(), ".png");

    sweep::CalibrationRun run;
    Truth truth;
    JsonWriter w;
    w.begin_object();
    if (vm.count("replay")) {
      if (vm["show-truth"].as<bool>()) throw UsageError("--show-truth needs a problem; --replay has none");
      run.grid = read_chains_csv(vm["replay"].as<std::string>());
      run.run = run.grid.size();
      w.field("replay", vm["replay"].as<std::string>());
    } else {
      const dln::Problem problem = resolve_problem(vm);
      std::int64_t per_decade = 0;
      const std::vector<double> steps = parse_log_grid(vm["grid"].as<std::string>(), "--grid", per_decade);
      const std::int64_t k = parse_int(vm["chains"].as<std::string>(), "--chains", 1, 64);
      backend::ChainSpec base = resolve_chain(vm, problem, defaults, steps.front());
      const backend::DataSpec data = resolve_data(vm);
      auto be = resolve_backend(vm);
      const std::string& sampler = samplers::sampler_info(base.sampler.kind).name;
      if (!json) {
        std::printf("problem: %s seed %llu, widths %s, d %lld\n", problem.class_name.c_str(),
                    static_cast<unsigned long long>(problem.seed), join_ints(problem.widths).c_str(),
                    static_cast<long long>(problem.truth.d));
        std::printf("calibration: %s, %lld chains of %lld steps (burn-in %lld) at each of %zu step sizes %s..%s\n",
                    sampler.c_str(), static_cast<long long>(k), static_cast<long long>(base.steps),
                    static_cast<long long>(base.burn_in), steps.size(), g(steps.front(), 3).c_str(),
                    g(steps.back(), 3).c_str());
        std::fflush(stdout);
      }
      std::vector<backend::ChainSpec> specs(static_cast<std::size_t>(k), base);
      for (std::size_t c = 0; c < specs.size(); ++c) specs[c].chain_seed = base.chain_seed + c;  // --chain-seed S: seeds S..S+K-1
      run = sweep::run_calibration_grid(*be, problem, data, specs, steps, 0);
      if (vm["show-truth"].as<bool>()) {
        truth = {true, problem.truth.lambda.to_double(), problem.local.lambda_lower.to_double(),
                 std::string(dln::to_string(problem.local.status))};
      }
      w.field("class", problem.class_name);
      w.field("seed", static_cast<std::int64_t>(problem.seed));
      w.field("teacher", std::string(dln::to_string(problem.teacher)));
      w.array("widths", problem.widths);
      w.field("d", problem.truth.d);
      w.field("sampler", sampler);
      w.field("steps", base.steps);
      w.field("burn_in", base.burn_in);
      w.field("chains", k);
      w.field("backend", be->name());
    }
    if (vm.count("chains-csv")) write_chains_csv(vm["chains-csv"].as<std::string>(), run.grid);
    const estimator::Calibration cal = sweep::judge(run, rule);
    print_json(run, cal, rule, truth, w);
    w.end_object();
    if (json) {
      std::cout << w.str() << "\n";
    } else {
      print_text(run.grid, run.run, cal, truth);
    }
    std::cout.flush();
    std::fflush(stdout);
    if (vm.count("plot")) {
      const std::string png = vm["plot"].as<std::string>();
      const std::string data = png + ".json";  // the plot's data, kept beside it
      {
        std::ofstream out(data);
        out << w.str() << "\n";
        if (!out) throw UsageError("--plot: cannot write '" + data + "'");
      }
      if (run_report_script({"--calibration", data, png}) != 0) {
        throw RuntimeError("--plot: drawing '" + png + "' failed (the line above says why)");
      }
    }
    if (!cal.found) throw RuntimeError("no step size to recommend: " + cal.why);
    return 0;
  });
}

}  // namespace llcb::cli
