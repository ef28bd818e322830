// llcbench run: one chain on one problem; prints lambda_hat, the true lambda, the relative error,
// divergence and speed (text, or one JSON object with --json).
#include <cmath>
#include <fstream>
#include <iostream>

#include "apps/llcbench/chain_options.hpp"
#include "apps/llcbench/truth_output.hpp"
#include "lib/core/error.hpp"
#include "lib/core/json.hpp"
#include "lib/core/parse.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cli {
namespace {

void write_trace(const std::string& path, const estimator::ChainResult& r) {
  std::ofstream out(path);
  if (!out) throw UsageError("--trace: cannot open '" + path + "' for writing");
  out << "step,loss\n";
  out.precision(9);
  for (std::size_t t = 0; t < r.loss_trace.size(); ++t) out << t << "," << r.loss_trace[t] << "\n";
  if (!out) throw RuntimeError("--trace: writing '" + path + "' failed");
}

}  // namespace

int cmd_run(const std::vector<std::string>& args) {
  return guarded("run", [&] {
    po::options_description desc("options");
    add_problem_options(desc);
    add_chain_options(desc);
    add_backend_options(desc);
    desc.add_options()("json", po::bool_switch(), "print one JSON object instead of text")(
        "trace", po::value<std::string>(), "write the loss trace to this CSV file (step,loss)");
    add_common_options(desc);
    po::variables_map vm;
    if (!parse(args, desc,
               "usage: llcbench run (--class C --seed N | --widths H1,... --rank R) --sampler S "
               "--step-size EPS [options]",
               vm)) {
      return 0;
    }
    const dln::Problem problem = resolve_problem(vm);
    const backend::ChainSpec spec = resolve_chain(vm, problem);
    const backend::DataSpec data = resolve_data(vm);
    auto be = resolve_backend(vm);
    const auto result = be->run(problem, data, std::span(&spec, 1)).front();
    if (vm.count("trace")) write_trace(vm["trace"].as<std::string>(), result);

    const double lambda = problem.truth.lambda.to_double();
    const double rel = (result.lambda_hat - lambda) / lambda;
    const double lower = problem.local.lambda_lower.to_double();
    const double rel_lower = (result.lambda_hat - lower) / lower;
    const std::string& sampler = samplers::sampler_info(spec.sampler.kind).name;
    if (vm["json"].as<bool>()) {
      JsonWriter w;
      w.begin_object();
      w.field("lambda_hat", result.lambda_hat);
      w.field("lambda_true", lambda);
      w.field("rel_error", rel);
      w.field("truth_status", std::string(dln::to_string(problem.local.status)));
      w.field("lambda_smooth", problem.local.lambda_smooth.to_double());
      w.field("lambda_lower", lower);
      w.field("rel_error_lower", rel_lower);
      w.field("diverged", result.diverged);
      w.field("divergence_reason", estimator::to_string(result.reason));
      w.field("divergence_step", result.divergence_step);
      w.field("last_finite_loss", result.last_finite_loss);
      w.field("steps", spec.steps);
      w.field("steps_run", result.steps_run);
      w.field("burn_in", spec.burn_in);
      w.field("steps_per_second", result.steps_per_second);
      w.field("seconds", result.seconds);
      w.field("raw_estimate", result.raw_estimate);
      w.field("estimate_se", result.estimate_se);
      w.field("mean_loss", result.mean_loss);
      w.field("loss_variance", result.loss_variance);
      w.field("mean_drift_noise_ratio", result.mean_drift_noise_ratio);
      w.field("final_distance", result.final_distance);
      w.field("loss_slope", result.loss_slope);
      w.field("nbeta_drift", result.nbeta_drift);
      w.field("nonstationary", result.nonstationary);
      w.field("sampler", sampler);
      w.field("step_size", spec.sampler.step_size);
      w.field("nbeta", spec.sampler.nbeta);
      w.field("gamma", spec.sampler.gamma);
      w.field("batch_size", spec.batch_size);
      w.field("chain_seed", static_cast<std::int64_t>(spec.chain_seed));
      w.field("class", problem.class_name);
      w.field("seed", static_cast<std::int64_t>(problem.seed));
      w.field("teacher", std::string(dln::to_string(problem.teacher)));
      w.array("widths", problem.widths);
      w.array("layer_ranks", problem.local.layer_ranks);
      w.field("rank", problem.rank);
      w.field("d", problem.truth.d);
      w.field("n", problem.n);
      w.field("backend", be->name());
      w.end_object();
      std::cout << w.str() << "\n";
      return 0;
    }
    std::cout << "problem: " << problem.class_name << " seed " << problem.seed << ", widths "
              << join_ints(problem.widths) << ", rank " << problem.rank << ", d "
              << problem.truth.d << ", n " << problem.n << "\n"
              << "teacher: " << dln::to_string(problem.teacher) << ", layer ranks "
              << join_ints(problem.local.layer_ranks) << "\n"
              << "chain: " << sampler << ", step size " << spec.sampler.step_size << ", nbeta "
              << spec.sampler.nbeta << ", batch " << spec.batch_size << ", " << spec.steps
              << " steps (burn-in " << spec.burn_in << ")\n";
    if (result.diverged) {
      std::cout << "diverged: yes (" << estimator::to_string(result.reason) << " at step "
                << result.divergence_step << ", last finite loss " << result.last_finite_loss
                << ", raw estimate " << result.raw_estimate << ")\n";
    } else {
      std::cout << "diverged: no\n";
    }
    std::cout << "diagnostics: mean |drift|/|noise| " << result.mean_drift_noise_ratio
              << ", final ||w - w*|| " << result.final_distance << ", nbeta * loss drift over the "
              << "kept window " << result.nbeta_drift
              << (result.nonstationary ? " (NOT STATIONARY: lengthen the chain or burn-in)" : "")
              << "\n"
              << "steps/s: " << result.steps_per_second << " (" << be->name() << ")\n"
              << "standard error of the estimate: " << result.estimate_se << " (batch means)\n"
              << "truth status: " << dln::to_string(problem.local.status) << "; "
              << status_sentence(problem.local, problem.truth) << "\n"
              << "lambda_lower: " << lower << " (rel_error_lower " << rel_lower << ")\n"
              << "lambda_true: " << lambda << "\n"
              << "rel_error: " << rel << "\n"
              << "lambda_hat: " << result.lambda_hat << "\n";
    return 0;
  });
}

}  // namespace llcb::cli
