// AdamSGLD: RMSPropSGLD with a bias-corrected first moment in the drift in place of g:
//   m <- b1 m + (1 - b1) g,  mh = m / (1 - b1^t)       (m_0 = 0)
//   v, vh, e as RMSPropSGLD
//   w <- w - (e/2) (nbeta mh + gamma (w - w*)) + sqrt(e) xi
// State: s[0] = v (initialised to v0), s[1] = m (initialised to 0). The first moment is always
// bias-corrected (benchmark.md); bias_correction applies to v as for RMSPropSGLD.
#pragma once

#include <cmath>

#include "lib/samplers/config.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::samplers {

struct AdamSgldRule {
  static constexpr int kStates = 2;
  struct Coeffs {
    float eps, nbeta, gamma, b1, one_minus_b1, inv_bias1, b2, one_minus_b2, inv_bias2, a;
  };
  LLCB_HD static Coeffs coeffs(const SamplerConfig& c, std::int64_t t, const ChainScalars&) {
    const double td = static_cast<double>(t);
    const double inv_bias1 = 1.0 / (1.0 - pow_hd(c.beta1, td));
    const double inv_bias2 = c.bias_correction ? 1.0 / (1.0 - pow_hd(c.beta2, td)) : 1.0;
    return {static_cast<float>(c.step_size),  static_cast<float>(c.nbeta),
            static_cast<float>(c.gamma),      static_cast<float>(c.beta1),
            static_cast<float>(1.0 - c.beta1), static_cast<float>(inv_bias1),
            static_cast<float>(c.beta2),      static_cast<float>(1.0 - c.beta2),
            static_cast<float>(inv_bias2),    static_cast<float>(c.alpha)};
  }
  LLCB_HD static void apply(const Coeffs& k, float& w, float g, float w0, float xi, float* s,
                            StepSums& acc) {
    const float v = k.b2 * s[0] + k.one_minus_b2 * g * g;
    const float m = k.b1 * s[1] + k.one_minus_b1 * g;
    s[0] = v;
    s[1] = m;
    const float e = k.eps * rsqrt_add(v * k.inv_bias2, k.a);
    const float drift = 0.5f * e * (k.nbeta * (m * k.inv_bias1) + k.gamma * (w - w0));
    const float noise = sqrtf_hd(e) * xi;
    w = w - drift + noise;
    acc.drift2 += drift * drift;
    acc.noise2 += noise * noise;
  }
  static float initial_state(const SamplerConfig& c, int k) { return k == 0 ? static_cast<float>(c.v0) : 0.0f; }
  LLCB_HD static void after_step(ChainScalars&, const StepTotals&, const SamplerConfig&, std::int64_t) {}
};

}  // namespace llcb::samplers
