// What every sampler update rule provides (one header per sampler, written once for CPU and GPU):
//
//   static constexpr int kStates;          per-parameter state arrays (0, 1 or 2)
//   struct Coeffs;                         per-step scalars
//   LLCB_HD static Coeffs coeffs(const SamplerConfig&, std::int64_t t, const ChainScalars&)
//                                          t = 1 for the first update (host, or on the device
//                                          between steps: the CUDA backend never syncs for it)
//   LLCB_HD static void apply(const Coeffs&, float& w, float g, float w0, float xi, float* s,
//                             StepSums& acc)
//                                          one parameter: w the parameter, g its loss gradient,
//                                          w0 its centre w*, xi ~ N(0, 1), s[0..kStates) its state;
//                                          adds the squared drift and noise displacements (and
//                                          rule-specific sums) to acc: at most one term to each
//                                          field, so that a pass may start acc at -0 instead of
//                                          +0 (update_pass.hpp) and get the same sums
//   static float initial_state(const SamplerConfig&, int k)
//                                          initial value of state array k
//   LLCB_HD static void after_step(ChainScalars&, const StepTotals&, const SamplerConfig&,
//                                  std::int64_t d)
//                                          scalar updates from the step's sums (host or device)
//
// Drift is the deterministic displacement the step applies (for momentum samplers: the force term
// added to the momentum), noise the injected random one; the chain reports the ratio of their
// norms as a diagnostic.
#pragma once

#include <cstdint>

#include "lib/core/hd.hpp"
#include "lib/core/random.hpp"

namespace llcb::samplers {

struct StepSums {
  float drift2 = 0;  // sum of squared drift displacements
  float noise2 = 0;  // sum of squared noise displacements
  float aux = 0;     // rule-specific (SGNHT: sum of squared momenta after the step)
};

// The step's sums over all parameters, in double (chunk partial sums added in a fixed order).
struct StepTotals {
  double drift2 = 0, noise2 = 0, aux = 0;
};

// Scalar state of a chain carried between steps (by the host, or in device memory).
struct ChainScalars {
  double thermostat = 0;  // SGNHT z
};

LLCB_HD inline float rsqrt_add(float v, float a) {  // 1 / (sqrt(v) + a)
  return 1.0f / (sqrtf_hd(v) + a);
}

}  // namespace llcb::samplers
