#include "apps/llcbench/chain_options.hpp"

#include <cmath>
#include <cstdio>
#include <limits>

#include "lib/core/error.hpp"
#include "lib/core/parse.hpp"
#include "lib/dln/architecture.hpp"
#include "lib/dln/model_class.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cli {
namespace {

constexpr std::int64_t kMaxInt = std::numeric_limits<std::int64_t>::max();

bool has(const po::variables_map& vm, const char* name) { return vm.count(name) > 0; }
const std::string& text(const po::variables_map& vm, const char* name) {
  return vm[name].as<std::string>();
}

}  // namespace

void add_problem_options(po::options_description& desc) {
  desc.add_options()("class", po::value<std::string>(),
                     "model class: tiny, 1K, 100K, 1M, 10M, 100M, 1B or custom:LMIN,LMAX,HMIN,HMAX")(
      "seed", po::value<std::string>(), "problem seed (default 1)")(
      "widths", po::value<std::string>(), "explicit architecture H1,...,H_{M+1} instead of --class")(
      "rank", po::value<std::string>(), "teacher product rank with --widths")(
      "teacher", po::value<std::string>(),
      "teacher mode: paper (default) or minimal with --class; first-layer (default) or minimal "
      "with --widths (docs/truth.md)")(
      "n", po::value<std::string>(), "dataset size (default: the class's, 100000 for --widths)");
}

dln::Problem resolve_problem(const po::variables_map& vm) {
  const auto seed = static_cast<std::uint64_t>(
      has(vm, "seed") ? parse_int(text(vm, "seed"), "--seed", 0, kMaxInt) : 1);
  dln::Problem p;
  if (has(vm, "class") == has(vm, "widths")) {
    throw UsageError("give exactly one of --class (with --seed) and --widths (with --rank)");
  }
  const bool by_class = has(vm, "class");
  const dln::TeacherMode teacher =
      has(vm, "teacher") ? dln::parse_teacher_mode(text(vm, "teacher"), "--teacher")
                         : (by_class ? dln::TeacherMode::kPaper : dln::TeacherMode::kFirstLayer);
  if (by_class) {
    if (has(vm, "rank")) throw UsageError("--rank goes with --widths, not with --class");
    p = dln::draw_problem(dln::model_class(text(vm, "class")), seed, teacher);
  } else {
    const auto widths = parse_int_list(text(vm, "widths"), "--widths", 1, dln::kMaxWidth);
    const std::string& rank = required(vm, "rank", "2");
    p = dln::problem_from_architecture(widths, parse_int(rank, "--rank", 0, dln::kMaxWidth), seed,
                                       100'000, teacher);
  }
  if (has(vm, "n")) p.n = parse_int(text(vm, "n"), "--n", 2, kMaxInt / 4);
  return p;
}

void add_chain_options(po::options_description& desc, const ChainDefaults& defaults) {
  desc.add_options()("sampler", po::value<std::string>(), "sgld, rmsprop_sgld, adam_sgld, sghmc or sgnht");
  if (defaults.step_size_option) desc.add_options()("step-size", po::value<std::string>(), "step size eps (> 0)");
  char burn_in_help[80];
  std::snprintf(burn_in_help, sizeof burn_in_help, "losses of steps t >= burn-in are kept (default %g T)",
                defaults.burn_in_fraction);
  desc.add_options()(
      "steps", po::value<std::string>()->default_value(defaults.steps), "chain length T")(
      "burn-in", po::value<std::string>(), burn_in_help)(
      "batch-size", po::value<std::string>()->default_value("500"), "minibatch size m")(
      "nbeta", po::value<std::string>(), "n * beta (default n / ln n)")(
      "gamma", po::value<std::string>()->default_value("1"), "localisation strength")(
      "chain-seed", po::value<std::string>()->default_value("1"), "seed of the chain's noise and batches")(
      "sampling", po::value<std::string>()->default_value("without_replacement"),
      "minibatches: without_replacement (shuffled epochs) or with_replacement")(
      "rmsprop-preset", po::value<std::string>()->default_value("paper"),
      "RMSProp/Adam constants: paper or devinterp (individual keys below override)")(
      "beta1", po::value<std::string>(), "AdamSGLD first-moment decay (0.9)")(
      "beta2", po::value<std::string>(), "second-moment decay b2 (paper 0.999)")(
      "alpha", po::value<std::string>(), "a, added to sqrt(v) (paper 1e-8)")(
      "v0", po::value<std::string>(), "initial second moment (paper 1)")(
      "bias-correction", po::value<std::string>(), "on or off (paper on)")(
      "friction", po::value<std::string>()->default_value("0.01"), "SGHMC friction alpha")(
      "diffusion", po::value<std::string>()->default_value("0.01"), "SGNHT diffusion A")(
      "target-sigma", po::value<std::string>()->default_value("0"), "target noise sigma")(
      "targets", po::value<std::string>()->default_value("factored"),
      "targets through the teacher's rank-r factors (factored) or its product (product)")(
      "gradient", po::value<std::string>()->default_value("narrowest"),
      "loss and gradient through the narrowest width (narrowest) or layer by layer (layered)")(
      "batch-sums", po::value<std::string>()->default_value("halves"),
      "cpu backend: sum the batch's gradient in two halves, one a thread (halves), or whole (whole)")(
      "divergence-factor", po::value<std::string>()->default_value("100"),
      "diverged when nbeta (L - L*) exceeds this many times d/2")(
      "estimate-bound-factor", po::value<std::string>()->default_value("2"),
      "diverged when lambda_hat exceeds this many times d/2")(
      "diag-every", po::value<std::string>()->default_value("0"),
      "diagnostic decimation in steps (0: steps / 1000)");
}

backend::ChainSpec resolve_chain(const po::variables_map& vm, const dln::Problem& problem,
                                 const ChainDefaults& defaults, double step_size) {
  backend::ChainSpec s;
  s.sampler.kind = samplers::find_sampler(required(vm, "sampler", "sgld")).kind;
  s.sampler.step_size = step_size > 0 ? step_size
                                      : parse_double(required(vm, "step-size", "1e-6"), "--step-size",
                                                     std::numeric_limits<double>::min(), kHuge);
  s.steps = parse_int(text(vm, "steps"), "--steps", 1, kMaxInt / 4);
  s.burn_in = has(vm, "burn-in") ? parse_int(text(vm, "burn-in"), "--burn-in", 0, kMaxInt)
                                 : static_cast<std::int64_t>(defaults.burn_in_fraction * static_cast<double>(s.steps));
  s.batch_size = parse_int(text(vm, "batch-size"), "--batch-size", 1, kMaxInt);
  const double n = static_cast<double>(problem.n);
  s.sampler.nbeta = has(vm, "nbeta") ? parse_double(text(vm, "nbeta"), "--nbeta", 0, kHuge)
                                     : n / std::log(n);
  s.sampler.gamma = parse_double(text(vm, "gamma"), "--gamma", 0, kHuge);
  s.chain_seed = static_cast<std::uint64_t>(parse_int(text(vm, "chain-seed"), "--chain-seed", 0, kMaxInt));
  s.sampling = dln::parse_sampling(text(vm, "sampling"), "--sampling");
  samplers::apply_rmsprop_preset(s.sampler, text(vm, "rmsprop-preset"));
  if (has(vm, "beta1")) s.sampler.beta1 = parse_double(text(vm, "beta1"), "--beta1", 0, 1);
  if (has(vm, "beta2")) s.sampler.beta2 = parse_double(text(vm, "beta2"), "--beta2", 0, 1);
  if (has(vm, "alpha")) s.sampler.alpha = parse_double(text(vm, "alpha"), "--alpha", 0, kHuge);
  if (has(vm, "v0")) s.sampler.v0 = parse_double(text(vm, "v0"), "--v0", 0, kHuge);
  if (has(vm, "bias-correction")) {
    s.sampler.bias_correction = parse_bool(text(vm, "bias-correction"), "--bias-correction");
  }
  s.sampler.friction = parse_double(text(vm, "friction"), "--friction", 0, 1);
  s.sampler.diffusion = parse_double(text(vm, "diffusion"), "--diffusion", 0, kHuge);
  s.divergence_factor = parse_double(text(vm, "divergence-factor"), "--divergence-factor", 0, kHuge);
  s.estimate_bound_factor =
      parse_double(text(vm, "estimate-bound-factor"), "--estimate-bound-factor", 0, kHuge);
  s.diag_every = parse_int(text(vm, "diag-every"), "--diag-every", 0, kMaxInt);
  backend::validate(s, problem);
  return s;
}

backend::DataSpec resolve_data(const po::variables_map& vm) {
  backend::DataSpec d;
  d.target_sigma = parse_double(text(vm, "target-sigma"), "--target-sigma", 0, kHuge);
  d.factored_targets = backend::parse_targets(text(vm, "targets"), "--targets");
  d.narrowest_gradient = backend::parse_gradient(text(vm, "gradient"), "--gradient");
  d.batch_halves = backend::parse_batch_sums(text(vm, "batch-sums"), "--batch-sums");
  return d;
}

void add_backend_options(po::options_description& desc) {
  desc.add_options()("backend", po::value<std::string>()->default_value("cpu"), "cpu or cuda")(
      "threads", po::value<std::string>()->default_value("0"),
      "CPU threads (0: every hardware thread)")(
      "device", po::value<std::string>()->default_value("0"), "CUDA device index")(
      "precision", po::value<std::string>()->default_value("fp32"), "CUDA GEMMs: fp32 or tf32")(
      "graphs", po::value<std::string>()->default_value("on"),
      "CUDA: replay steps as graphs (on) or launch kernels one by one (off)")(
      "lanes", po::value<std::string>()->default_value("8"),
      "CUDA: concurrent GEMM streams for batched chains (1 to 8)");
}

std::unique_ptr<backend::Backend> resolve_backend(const po::variables_map& vm) {
  backend::BackendOptions o;
  o.name = text(vm, "backend");
  o.threads = static_cast<int>(parse_int(text(vm, "threads"), "--threads", 0, 4096));
  o.device = static_cast<int>(parse_int(text(vm, "device"), "--device", 0, 4096));
  o.precision = text(vm, "precision");
  o.graphs = parse_bool(text(vm, "graphs"), "--graphs");
  o.gemm_lanes = static_cast<int>(parse_int(text(vm, "lanes"), "--lanes", 1, 8));
  return backend::make_backend(o);
}

}  // namespace llcb::cli
