// SGNHT (Ding et al. 2014), momentum p_0 = 0, thermostat z_0 = A (diffusion):
//   p <- p - z p - eps (nbeta g + gamma (w - w*)) + sqrt(2 A eps) xi
//   w <- w + p
//   z <- z + (||p||^2 / d - eps)          (after the pass, on the host, in double)
// The parameter step is SGHMC's with friction z and noise scale sqrt(2 A eps), so it reuses
// SghmcRule::apply and adds ||p||^2 for the thermostat. State: s[0] = p; z is
// ChainScalars::thermostat.
#pragma once

#include <cmath>

#include "lib/samplers/sghmc.hpp"

namespace llcb::samplers {

struct SgnhtRule {
  static constexpr int kStates = 1;
  using Coeffs = SghmcRule::Coeffs;
  LLCB_HD static Coeffs coeffs(const SamplerConfig& c, std::int64_t, const ChainScalars& scalars) {
    return {static_cast<float>(1.0 - scalars.thermostat), static_cast<float>(c.step_size),
            static_cast<float>(c.nbeta), static_cast<float>(c.gamma),
            static_cast<float>(sqrt_hd(2.0 * c.diffusion * c.step_size))};
  }
  LLCB_HD static void apply(const Coeffs& k, float& w, float g, float w0, float xi, float* s,
                            StepSums& acc) {
    SghmcRule::apply(k, w, g, w0, xi, s, acc);
    acc.aux += s[0] * s[0];
  }
  static float initial_state(const SamplerConfig&, int) { return 0.0f; }
  LLCB_HD static void after_step(ChainScalars& scalars, const StepTotals& sums, const SamplerConfig& c,
                         std::int64_t d) {
    scalars.thermostat += sums.aux / static_cast<double>(d) - c.step_size;
  }
};

}  // namespace llcb::samplers
