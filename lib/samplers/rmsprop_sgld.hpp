// RMSPropSGLD (preconditioner from loss-gradient statistics only; it scales the prior term too):
//   v <- b2 v + (1 - b2) g^2,  vh = bias_correction ? v / (1 - b2^t) : v
//   e = eps / (sqrt(vh) + a)
//   w <- w - (e/2) (nbeta g + gamma (w - w*)) + sqrt(e) xi
// State: s[0] = v (initialised to v0).
#pragma once

#include <cmath>

#include "lib/samplers/config.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::samplers {

struct RmspropSgldRule {
  static constexpr int kStates = 1;
  struct Coeffs {
    float eps, nbeta, gamma, b2, one_minus_b2, inv_bias, a;
  };
  LLCB_HD static Coeffs coeffs(const SamplerConfig& c, std::int64_t t, const ChainScalars&) {
    const double inv_bias = c.bias_correction ? 1.0 / (1.0 - pow_hd(c.beta2, static_cast<double>(t))) : 1.0;
    return {static_cast<float>(c.step_size), static_cast<float>(c.nbeta), static_cast<float>(c.gamma),
            static_cast<float>(c.beta2),     static_cast<float>(1.0 - c.beta2),
            static_cast<float>(inv_bias),    static_cast<float>(c.alpha)};
  }
  LLCB_HD static void apply(const Coeffs& k, float& w, float g, float w0, float xi, float* s,
                            StepSums& acc) {
    const float v = k.b2 * s[0] + k.one_minus_b2 * g * g;
    s[0] = v;
    const float e = k.eps * rsqrt_add(v * k.inv_bias, k.a);
    const float drift = 0.5f * e * (k.nbeta * g + k.gamma * (w - w0));
    const float noise = sqrtf_hd(e) * xi;
    w = w - drift + noise;
    acc.drift2 += drift * drift;
    acc.noise2 += noise * noise;
  }
  static float initial_state(const SamplerConfig& c, int) { return static_cast<float>(c.v0); }
  LLCB_HD static void after_step(ChainScalars&, const StepTotals&, const SamplerConfig&, std::int64_t) {}
};

}  // namespace llcb::samplers
