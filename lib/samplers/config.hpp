// Sampler configuration: every constant of benchmark.md section 3 with its documented default.
// Defaults marked "unconfirmed" there are defaults, not facts; docs/samplers.md says which.
#pragma once

#include <cstdint>
#include <string>

namespace llcb::samplers {

enum class SamplerKind : std::uint8_t { kSgld, kRmspropSgld, kAdamSgld, kSghmc, kSgnht };

struct SamplerConfig {
  SamplerKind kind = SamplerKind::kSgld;
  double step_size = 0;  // eps
  double nbeta = 0;      // n * beta; the CLI and configs default it to n / ln n
  double gamma = 1.0;    // localisation strength
  // RMSPropSGLD and AdamSGLD (RMSProp "paper" preset; AdamSGLD uses the same defaults)
  double beta1 = 0.9;         // AdamSGLD first moment
  double beta2 = 0.999;       // second moment decay b2
  double alpha = 1e-8;        // a, added to sqrt(v)
  double v0 = 1.0;            // initial second moment
  bool bias_correction = true;
  double friction = 0.01;     // SGHMC alpha
  double diffusion = 0.01;    // SGNHT A (also the initial thermostat z_0)
};

// The two RMSProp parameter sets in use: "paper" (b2 0.999, a 1e-8, v0 1, bias correction on)
// and "devinterp" (b2 0.99, a 0.1, v0 0, bias correction off). Throws UsageError otherwise.
void apply_rmsprop_preset(SamplerConfig& c, const std::string& preset);

}  // namespace llcb::samplers
