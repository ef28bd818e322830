// SGHMC (Chen, Fox & Guestrin 2014, practical form), momentum p_0 = 0, friction alpha:
//   p <- (1 - alpha) p - eps (nbeta g + gamma (w - w*)) + sqrt(2 alpha eps) xi
//   w <- w + p
// State: s[0] = p.
#pragma once

#include <cmath>

#include "lib/samplers/config.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::samplers {

// The momentum step with "keep" = 1 - friction; SGNHT reuses it with keep = 1 - z.
struct SghmcRule {
  static constexpr int kStates = 1;
  struct Coeffs {
    float keep, eps, nbeta, gamma, noise;
  };
  LLCB_HD static Coeffs coeffs(const SamplerConfig& c, std::int64_t, const ChainScalars&) {
    return {static_cast<float>(1.0 - c.friction), static_cast<float>(c.step_size),
            static_cast<float>(c.nbeta), static_cast<float>(c.gamma),
            static_cast<float>(sqrt_hd(2.0 * c.friction * c.step_size))};
  }
  LLCB_HD static void apply(const Coeffs& k, float& w, float g, float w0, float xi, float* s,
                            StepSums& acc) {
    const float drift = k.eps * (k.nbeta * g + k.gamma * (w - w0));
    const float noise = k.noise * xi;
    const float p = k.keep * s[0] - drift + noise;
    s[0] = p;
    w = w + p;
    acc.drift2 += drift * drift;
    acc.noise2 += noise * noise;
  }
  static float initial_state(const SamplerConfig&, int) { return 0.0f; }
  LLCB_HD static void after_step(ChainScalars&, const StepTotals&, const SamplerConfig&, std::int64_t) {}
};

}  // namespace llcb::samplers
