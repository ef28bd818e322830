#include "lib/samplers/registry.hpp"

#include <cmath>
#include <sstream>

#include "lib/core/error.hpp"

namespace llcb::samplers {

const std::vector<SamplerInfo>& all_samplers() {
  static const std::vector<SamplerInfo> list = {
      {"sgld", SamplerKind::kSgld, 0, "stochastic gradient Langevin dynamics"},
      {"rmsprop_sgld", SamplerKind::kRmspropSgld, 1, "SGLD preconditioned by RMSProp"},
      {"adam_sgld", SamplerKind::kAdamSgld, 2, "RMSPropSGLD with an Adam first moment"},
      {"sghmc", SamplerKind::kSghmc, 1, "stochastic gradient Hamiltonian Monte Carlo"},
      {"sgnht", SamplerKind::kSgnht, 1, "stochastic gradient Nose-Hoover thermostat"},
  };
  return list;
}

const SamplerInfo& find_sampler(std::string_view name) {
  for (const auto& s : all_samplers()) {
    if (s.name == name) return s;
  }
  std::string known;
  for (const auto& s : all_samplers()) known += (known.empty() ? "" : ", ") + s.name;
  throw UsageError("unknown sampler '" + std::string(name) + "' (known: " + known + ")");
}

const SamplerInfo& sampler_info(SamplerKind kind) {
  for (const auto& s : all_samplers()) {
    if (s.kind == kind) return s;
  }
  throw InternalError("sampler kind without a registry entry");
}

void apply_rmsprop_preset(SamplerConfig& c, const std::string& preset) {
  if (preset == "paper") {
    c.beta2 = 0.999;
    c.alpha = 1e-8;
    c.v0 = 1.0;
    c.bias_correction = true;
  } else if (preset == "devinterp") {
    c.beta2 = 0.99;
    c.alpha = 0.1;
    c.v0 = 0.0;
    c.bias_correction = false;
  } else {
    throw UsageError("unknown RMSProp preset '" + preset + "' (known: paper, devinterp)");
  }
}

namespace {

void require(bool ok, const std::string& what, double value, const std::string& expected) {
  if (ok) return;
  std::ostringstream os;
  os << what << " is " << value << ", expected " << expected;
  throw UsageError(os.str());
}

}  // namespace

void validate(const SamplerConfig& c) {
  require(std::isfinite(c.step_size) && c.step_size > 0, "step size", c.step_size,
          "a finite number > 0");
  require(std::isfinite(c.nbeta) && c.nbeta > 0, "nbeta", c.nbeta, "a finite number > 0");
  require(std::isfinite(c.gamma) && c.gamma >= 0, "gamma", c.gamma, "a finite number >= 0");
  require(c.beta1 >= 0 && c.beta1 < 1, "beta1", c.beta1, "a number in [0, 1)");
  require(c.beta2 >= 0 && c.beta2 < 1, "beta2", c.beta2, "a number in [0, 1)");
  require(std::isfinite(c.alpha) && c.alpha >= 0, "alpha", c.alpha, "a finite number >= 0");
  require(std::isfinite(c.v0) && c.v0 >= 0, "v0", c.v0, "a finite number >= 0");
  require(c.friction > 0 && c.friction <= 1, "friction", c.friction, "a number in (0, 1]");
  require(std::isfinite(c.diffusion) && c.diffusion > 0, "diffusion", c.diffusion,
          "a finite number > 0 (at 0 SGNHT injects no noise and does not sample)");
  if (c.kind == SamplerKind::kRmspropSgld || c.kind == SamplerKind::kAdamSgld) {
    require(c.alpha > 0 || c.v0 > 0, "alpha", c.alpha,
            "> 0 when v0 = 0 (otherwise the first preconditioner divides by zero)");
  }
}

ChainScalars initial_scalars(const SamplerConfig& c) {
  ChainScalars s;
  if (c.kind == SamplerKind::kSgnht) s.thermostat = c.diffusion;
  return s;
}

}  // namespace llcb::samplers
