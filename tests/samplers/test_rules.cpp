// Each update rule against benchmark.md section 3 evaluated by hand in double, for one parameter
// over a few steps; the registry's names, presets and validation.
#include <gtest/gtest.h>

#include <cmath>

#include "lib/core/error.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::samplers {
namespace {

SamplerConfig config(SamplerKind kind) {
  SamplerConfig c;
  c.kind = kind;
  c.step_size = 1e-3;
  c.nbeta = 50;
  c.gamma = 2;
  return c;
}

// Runs `steps` updates of one parameter through the rule, as a backend does.
template <class Rule>
float run_rule(const SamplerConfig& c, float w, const float* g, const float* xi, int steps,
               ChainScalars& scalars, float* state, StepSums* last = nullptr) {
  for (int q = 0; q < Rule::kStates; ++q) state[q] = Rule::initial_state(c, q);
  for (int t = 1; t <= steps; ++t) {
    StepSums acc;
    Rule::apply(Rule::coeffs(c, t, scalars), w, g[t - 1], 0.25f, xi[t - 1], state, acc);
    StepTotals tot{acc.drift2, acc.noise2, acc.aux};
    Rule::after_step(scalars, tot, c, 1);
    if (last) *last = acc;
  }
  return w;
}

const float kG[3] = {0.3f, -0.2f, 0.05f};
const float kXi[3] = {1.1f, -0.4f, 0.7f};

TEST(Rules, Sgld) {
  const SamplerConfig c = config(SamplerKind::kSgld);
  ChainScalars sc;
  float st[1];
  StepSums last;
  const float w = run_rule<SgldRule>(c, 1.0f, kG, kXi, 3, sc, st, &last);
  double x = 1.0;
  double drift = 0, noise = 0;
  for (int t = 0; t < 3; ++t) {
    drift = c.step_size / 2 * (c.nbeta * kG[t] + c.gamma * (x - 0.25));
    noise = std::sqrt(c.step_size) * kXi[t];
    x = x - drift + noise;
  }
  EXPECT_NEAR(w, x, 1e-6);
  EXPECT_NEAR(last.drift2, drift * drift, 1e-9);
  EXPECT_NEAR(last.noise2, noise * noise, 1e-9);
}

void expect_rmsprop_like(SamplerKind kind, const SamplerConfig& c) {
  ChainScalars sc;
  float st[2];
  const float w = kind == SamplerKind::kAdamSgld ? run_rule<AdamSgldRule>(c, 1.0f, kG, kXi, 3, sc, st)
                                                  : run_rule<RmspropSgldRule>(c, 1.0f, kG, kXi, 3, sc, st);
  double x = 1.0, v = c.v0, m = 0;
  for (int t = 1; t <= 3; ++t) {
    const double g = kG[t - 1];
    v = c.beta2 * v + (1 - c.beta2) * g * g;
    m = c.beta1 * m + (1 - c.beta1) * g;
    const double vh = c.bias_correction ? v / (1 - std::pow(c.beta2, t)) : v;
    const double e = c.step_size / (std::sqrt(vh) + c.alpha);
    const double force = kind == SamplerKind::kAdamSgld ? m / (1 - std::pow(c.beta1, t)) : g;
    x = x - e / 2 * (c.nbeta * force + c.gamma * (x - 0.25)) + std::sqrt(e) * kXi[t - 1];
  }
  EXPECT_NEAR(w, x, 2e-5 * std::max(1.0, std::abs(x)));
  EXPECT_NEAR(st[0], v, 1e-6);
}

TEST(Rules, RmspropSgldBothPresets) {
  SamplerConfig c = config(SamplerKind::kRmspropSgld);
  apply_rmsprop_preset(c, "paper");
  EXPECT_EQ(c.beta2, 0.999);
  EXPECT_TRUE(c.bias_correction);
  expect_rmsprop_like(c.kind, c);
  apply_rmsprop_preset(c, "devinterp");
  EXPECT_EQ(c.beta2, 0.99);
  EXPECT_EQ(c.alpha, 0.1);
  EXPECT_EQ(c.v0, 0.0);
  EXPECT_FALSE(c.bias_correction);
  expect_rmsprop_like(c.kind, c);
  EXPECT_THROW(apply_rmsprop_preset(c, "fancy"), UsageError);
}

TEST(Rules, AdamSgld) {
  const SamplerConfig c = config(SamplerKind::kAdamSgld);
  expect_rmsprop_like(c.kind, c);
}

TEST(Rules, Sghmc) {
  const SamplerConfig c = config(SamplerKind::kSghmc);
  ChainScalars sc;
  float st[1];
  const float w = run_rule<SghmcRule>(c, 1.0f, kG, kXi, 3, sc, st);
  double x = 1.0, p = 0;
  for (int t = 0; t < 3; ++t) {
    p = (1 - c.friction) * p - c.step_size * (c.nbeta * kG[t] + c.gamma * (x - 0.25)) +
        std::sqrt(2 * c.friction * c.step_size) * kXi[t];
    x += p;
  }
  EXPECT_NEAR(w, x, 1e-6);
  EXPECT_NEAR(st[0], p, 1e-6);
}

TEST(Rules, SgnhtThermostat) {
  const SamplerConfig c = config(SamplerKind::kSgnht);
  ChainScalars sc = initial_scalars(c);
  EXPECT_EQ(sc.thermostat, c.diffusion);
  float st[1];
  const float w = run_rule<SgnhtRule>(c, 1.0f, kG, kXi, 3, sc, st);
  double x = 1.0, p = 0, z = c.diffusion;
  for (int t = 0; t < 3; ++t) {
    p = p - z * p - c.step_size * (c.nbeta * kG[t] + c.gamma * (x - 0.25)) +
        std::sqrt(2 * c.diffusion * c.step_size) * kXi[t];
    x += p;
    z += p * p / 1.0 - c.step_size;  // d = 1
  }
  EXPECT_NEAR(w, x, 1e-6);
  EXPECT_NEAR(sc.thermostat, z, 1e-6);
}

TEST(Registry, NamesKindsAndValidation) {
  EXPECT_EQ(all_samplers().size(), 5u);
  for (const auto& s : all_samplers()) {
    EXPECT_EQ(&find_sampler(s.name), &s);
    EXPECT_EQ(sampler_info(s.kind).name, s.name);
    const int states = dispatch(s.kind, [](auto rule) { return decltype(rule)::kStates; });
    EXPECT_EQ(states, s.states) << s.name;
  }
  EXPECT_THROW(find_sampler("langevin"), UsageError);
  SamplerConfig c = config(SamplerKind::kSgld);
  EXPECT_NO_THROW(validate(c));
  for (double bad : {0.0, -1e-3, std::nan(""), static_cast<double>(INFINITY)}) {
    c.step_size = bad;
    EXPECT_THROW(validate(c), UsageError) << bad;
  }
  c = config(SamplerKind::kSgld);
  c.nbeta = 0;
  EXPECT_THROW(validate(c), UsageError);
  c = config(SamplerKind::kSghmc);
  c.friction = 1.5;
  EXPECT_THROW(validate(c), UsageError);
  c = config(SamplerKind::kRmspropSgld);
  c.alpha = 0;
  c.v0 = 0;
  EXPECT_THROW(validate(c), UsageError);
  // SGNHT's diffusion scales its only noise: at 0 the chain is a deterministic descent.
  for (double bad : {0.0, -0.01, std::nan("")}) {
    c = config(SamplerKind::kSgnht);
    c.diffusion = bad;
    EXPECT_THROW(validate(c), UsageError) << bad;
  }
  c = config(SamplerKind::kSgnht);
  c.diffusion = 1e-6;
  EXPECT_NO_THROW(validate(c));
}

}  // namespace
}  // namespace llcb::samplers
