// The fused device update against the CPU backend's update pass, for every sampler and two chains
// in one launch: the same parameters, states and sums up to FMA contraction (nvcc contracts
// multiply-adds, the CPU build does not). Skips cleanly when no CUDA device is visible.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "lib/backend/cpu/update_pass.hpp"
#include "lib/backend/cuda/device.hpp"
#include "lib/backend/cuda/update_kernel.hpp"
#include "lib/samplers/registry.hpp"

namespace llcb::cuda {
namespace {

// Two chains in one launch (seeds 77 and 78, the same starting point): each must match the CPU
// pass with its own seed.
template <class Rule>
void compare(samplers::SamplerKind kind) {
  const std::int64_t d = 10'003;  // not a multiple of 4 or of a block
  const std::uint64_t seeds[2] = {77, 78};
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

  // Device: both chains' arrays back to back (chain-major), shared centre.
  const auto twice = [](const std::vector<float>& v) {
    std::vector<float> out = v;
    out.insert(out.end(), v.begin(), v.end());
    return out;
  };
  DeviceBuffer<float> dw(2 * d), dg(2 * d), dw0(d), ds0(2 * d), ds1(2 * d);
  DeviceBuffer<double> partial(2 * 4 * static_cast<std::size_t>(update_blocks(d)));
  copy_to_device(dw.data(), twice(w).data(), 8 * d);
  copy_to_device(dg.data(), twice(g).data(), 8 * d);
  copy_to_device(dw0.data(), w0.data(), 4 * d);
  copy_to_device(ds0.data(), twice(s0).data(), 8 * d);
  copy_to_device(ds1.data(), twice(s1).data(), 8 * d);
  const typename Rule::Coeffs ks[2] = {k, k};
  const std::int64_t ts[2] = {3, 3};
  DeviceBuffer<typename Rule::Coeffs> dk(2);
  DeviceBuffer<std::int64_t> dt(2);
  DeviceBuffer<std::uint64_t> dseeds(2);
  copy_to_device(dk.data(), ks, sizeof ks);
  copy_to_device(dt.data(), ts, sizeof ts);
  copy_to_device(dseeds.data(), seeds, sizeof seeds);
  update_on_device<Rule>(dk.data(), dt.data(), dseeds.data(), 2, dw.data(), dg.data(), dw0.data(),
                         ds0.data(), ds1.data(), d, d, nullptr, 0, partial.data());
  const auto gw = dw.to_host();
  const auto gs0 = ds0.to_host();
  const auto p = partial.to_host();
  const std::size_t blocks = static_cast<std::size_t>(update_blocks(d));

  for (int chain = 0; chain < 2; ++chain) {
    std::vector<float> cw = w, cs0 = s0, cs1 = s1;
    float* states[2] = {cs0.data(), cs1.data()};
    const backend::cpu::PassTotals cpu =
        backend::cpu::update_pass<Rule>(k, cw.data(), g.data(), w0.data(), states, d, seeds[chain], 3);
    double drift2 = 0, dist2 = 0;
    for (std::size_t b = 0; b < blocks; ++b) {
      drift2 += p[4 * (chain * blocks + b)];
      dist2 += p[4 * (chain * blocks + b) + 3];
    }
    // Contraction changes a rounding or two per value, and the device normals differ from the
    // host's by a few ulp (CudaRng): 1e-6 relative is about 8 float ulps. It is taken of the
    // larger of the value and its array's mean magnitude, because a value that came out near 0
    // by cancellation (a momentum whose terms nearly cancel) carries the rounding of its terms,
    // not of itself. A wrong noise draw or index would differ by about the noise, 1e-3 of w here.
    const auto mean_abs = [d](const std::vector<float>& v) {
      double sum = 0;
      for (float x : v) sum += std::abs(x);
      return sum / static_cast<double>(d);
    };
    const double w_scale = mean_abs(cw), s0_scale = mean_abs(cs0);
    for (std::int64_t e = 0; e < d; ++e) {
      const std::size_t at = static_cast<std::size_t>(chain * d + e);
      ASSERT_NEAR(gw[at], cw[e], 1e-6 * std::max<double>(std::abs(cw[e]), w_scale))
          << samplers::sampler_info(kind).name << " chain " << chain << " parameter " << e;
      if (Rule::kStates > 0) {
        ASSERT_NEAR(gs0[at], cs0[e], 1e-6 * std::max<double>(std::abs(cs0[e]), s0_scale))
            << samplers::sampler_info(kind).name << " chain " << chain << " state " << e;
      }
    }
    EXPECT_NEAR(drift2, cpu.step.drift2, 1e-4 * cpu.step.drift2);
    EXPECT_NEAR(dist2, cpu.distance2, 1e-4 * cpu.distance2);
  }
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
