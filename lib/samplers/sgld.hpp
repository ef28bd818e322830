// SGLD: w <- w - (eps/2) (nbeta g + gamma (w - w*)) + sqrt(eps) xi
#pragma once

#include <cmath>

#include "lib/samplers/config.hpp"
#include "lib/samplers/rule.hpp"

namespace llcb::samplers {

struct SgldRule {
  static constexpr int kStates = 0;
  struct Coeffs {
    float half_eps, nbeta, gamma, noise;
  };
  LLCB_HD static Coeffs coeffs(const SamplerConfig& c, std::int64_t, const ChainScalars&) {
    return {static_cast<float>(c.step_size / 2), static_cast<float>(c.nbeta),
            static_cast<float>(c.gamma), static_cast<float>(sqrt_hd(c.step_size))};
  }
  LLCB_HD static void apply(const Coeffs& k, float& w, float g, float w0, float xi, float*,
                            StepSums& acc) {
    const float drift = k.half_eps * (k.nbeta * g + k.gamma * (w - w0));
    const float noise = k.noise * xi;
    w = w - drift + noise;
    acc.drift2 += drift * drift;
    acc.noise2 += noise * noise;
  }
  static float initial_state(const SamplerConfig&, int) { return 0.0f; }
  LLCB_HD static void after_step(ChainScalars&, const StepTotals&, const SamplerConfig&, std::int64_t) {}
};

}  // namespace llcb::samplers
