// Device minibatches of two chains (indices and inputs, also a group member's share of the rows)
// are bit-identical to the host's; target noise agrees to a few ulp. Skips without a GPU.
#include <gtest/gtest.h>

#include <utility>
#include <vector>

#include "lib/backend/cuda/data_kernels.hpp"
#include "lib/backend/cuda/device.hpp"

namespace llcb::cuda {
namespace {

TEST(CudaData, MinibatchesAndInputsAreBitIdenticalToTheHost) {
  if (device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  set_device(0);
  const std::uint64_t n = 1000;
  const std::int64_t batch = 300, h_in = 13, h_out = 6;  // batches straddle epochs; h_in not a multiple of 4
  const std::uint64_t seeds[2] = {42, 43};
  for (auto sampling : {dln::Sampling::kWithoutReplacement, dln::Sampling::kWithReplacement}) {
    const dln::MinibatchStream host[2] = {{n, batch, seeds[0], sampling}, {n, batch, seeds[1], sampling}};
    DeviceBuffer<dln::MinibatchStream> streams(2);
    copy_to_device(streams.data(), host, sizeof host);
    DeviceBuffer<std::uint64_t> idx(2 * batch);
    DeviceBuffer<std::int64_t> dt(2);
    // A chain group member's share: rows [first, first + rows) of each chain's batch.
    for (const auto& [first, rows] : {std::pair<std::int64_t, std::int64_t>{0, batch}, {100, 150}}) {
      DeviceBuffer<float> x(2 * rows * h_in), y(2 * rows * h_out);
      for (std::int64_t t : {0, 3, 7}) {
        const std::int64_t ts[2] = {t, t};
        copy_to_device(dt.data(), ts, sizeof ts);
        minibatch_on_device(streams.data(), 2, batch, dt.data(), idx.data());
        inputs_on_device(9, idx.data(), 2, batch, first, rows, h_in, x.data(), rows * h_in);
        std::vector<float> zeros(static_cast<std::size_t>(2 * rows * h_out), 0.0f);
        copy_to_device(y.data(), zeros.data(), 4 * zeros.size());
        target_noise_on_device(9, idx.data(), 2, batch, first, rows, h_out, 0.5f, y.data(), rows * h_out);
        std::vector<std::uint64_t> want(2 * batch);
        host[0].fill(t, want.data());
        host[1].fill(t, want.data() + batch);
        EXPECT_EQ(idx.to_host(), want) << "step " << t;
        std::vector<float> xw(2 * rows * h_in), yw(2 * rows * h_out, 0.0f);
        for (int c = 0; c < 2; ++c) {
          for (std::int64_t r = 0; r < rows; ++r) {
            const std::uint64_t sample = want[c * batch + first + r];
            dln::sample_input(9, sample, h_in, xw.data() + (c * rows + r) * h_in);
            dln::add_target_noise(9, sample, h_out, 0.5f, yw.data() + (c * rows + r) * h_out);
          }
        }
        EXPECT_EQ(x.to_host(), xw) << "step " << t;
        // The noise goes through Box-Muller (log, sincos): device and host agree to a few ulp.
        const auto yg = y.to_host();
        for (std::size_t i = 0; i < yw.size(); ++i) ASSERT_NEAR(yg[i], yw[i], 1e-5f) << i;
      }
    }
  }
}

}  // namespace
}  // namespace llcb::cuda
