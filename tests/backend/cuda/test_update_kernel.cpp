// The fused device update against the CPU backend's update pass, for every sampler: the same
// parameters, states and sums up to FMA contraction (nvcc contracts multiply-adds, the CPU build
// does not). Skips cleanly when no CUDA device is visible.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "lib/backend/cpu/update_pass.hpp"
#include "lib/backend/cuda/device.hpp"
#include "lib/backend/cuda/update_kernel.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cuda {
namespace {

template <class Rule>
void compare(samplers::SamplerKind kind) {
  const std::int64_t d = 10'003;  // not a multiple of 4 or of a block
  samplers::SamplerConfig c;
  c.kind = kind;
  c.step_size = 1e-6;
  c.nbeta = 8000;
  std::vector<float> w(d), g(d), w0(d), s0(d), s1(d);
  for (std::int64_t e = 0; e < d; ++e) {
    const Normal4f z = normal4f(draw_block(5, Stream::kInput, static_cast<std::uint64_t>(e)));
    w0[e] = z.z[0];
    w[e] = z.z[0] + 0.01f * z.z[1];
    g[e] = 0.001f * z.z[2];
    s0[e] = Rule::kStates > 0 ? std::abs(z.z[3]) * 1e-6f : 0.0f;
    s1[e] = 1e-4f * z.z[3];
  }
  const samplers::ChainScalars scalars = samplers::initial_scalars(c);
  const auto k = Rule::coeffs(c, 3, scalars);

  std::vector<float> cw = w, cs0 = s0, cs1 = s1;
  float* states[2] = {cs0.data(), cs1.data()};
  const backend::cpu::PassTotals cpu =
      backend::cpu::update_pass<Rule>(k, cw.data(), g.data(), w0.data(), states, d, 77, 3);

  DeviceBuffer<float> dw(d), dg(d), dw0(d), ds0(d), ds1(d);
  DeviceBuffer<double> partial(4 * static_cast<std::size_t>(update_blocks(d)));
  copy_to_device(dw.data(), w.data(), 4 * d);
  copy_to_device(dg.data(), g.data(), 4 * d);
  copy_to_device(dw0.data(), w0.data(), 4 * d);
  copy_to_device(ds0.data(), s0.data(), 4 * d);
  copy_to_device(ds1.data(), s1.data(), 4 * d);
  DeviceBuffer<typename Rule::Coeffs> dk(1);
  DeviceBuffer<std::int64_t> dt(1);
  const std::int64_t t = 3;
  copy_to_device(dk.data(), &k, sizeof k);
  copy_to_device(dt.data(), &t, sizeof t);
  update_on_device<Rule>(dk.data(), dt.data(), dw.data(), dg.data(), dw0.data(), ds0.data(),
                         ds1.data(), d, 77, partial.data());
  const auto gw = dw.to_host();
  const auto gs0 = ds0.to_host();
  const auto p = partial.to_host();
  double drift2 = 0, dist2 = 0;
  for (std::size_t b = 0; b < p.size() / 4; ++b) {
    drift2 += p[4 * b];
    dist2 += p[4 * b + 3];
  }
  for (std::int64_t e = 0; e < d; ++e) {
    // Values of order 1 updated by steps of order 1e-3: a few float ulps of difference.
    ASSERT_NEAR(gw[e], cw[e], 1e-6) << samplers::sampler_info(kind).name << " parameter " << e;
    if (Rule::kStates > 0) {
      ASSERT_NEAR(gs0[e], cs0[e], 1e-6 * std::abs(cs0[e]) + 1e-12) << e;
    }
  }
  EXPECT_NEAR(drift2, cpu.step.drift2, 1e-4 * cpu.step.drift2);
  EXPECT_NEAR(dist2, cpu.distance2, 1e-4 * cpu.distance2);
}

TEST(CudaUpdate, EverySamplerMatchesTheCpuPass) {
  if (device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  set_device(0);
  compare<samplers::SgldRule>(samplers::SamplerKind::kSgld);
  compare<samplers::RmspropSgldRule>(samplers::SamplerKind::kRmspropSgld);
  compare<samplers::AdamSgldRule>(samplers::SamplerKind::kAdamSgld);
  compare<samplers::SghmcRule>(samplers::SamplerKind::kSghmc);
  compare<samplers::SgnhtRule>(samplers::SamplerKind::kSgnht);
}

}  // namespace
}  // namespace llcb::cuda
