// Device minibatches (indices and inputs) are bit-identical to the host's. Skips without a GPU.
#include <gtest/gtest.h>

#include <vector>

#include "lib/backend/cuda/data_kernels.hpp"
#include "lib/backend/cuda/device.hpp"

namespace llcb::cuda {
namespace {

TEST(CudaData, MinibatchesAndInputsAreBitIdenticalToTheHost) {
  if (device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  set_device(0);
  const std::uint64_t n = 1000;
  const std::int64_t batch = 300, h_in = 13;  // batches straddle epochs; h_in not a multiple of 4
  for (auto sampling : {dln::Sampling::kWithoutReplacement, dln::Sampling::kWithReplacement}) {
    const dln::MinibatchStream host(n, batch, 42, sampling);
    DeviceBuffer<std::uint64_t> idx(batch);
    DeviceBuffer<float> x(batch * h_in);
    DeviceBuffer<std::int64_t> dt(1);
    for (std::int64_t t : {0, 3, 7}) {
      copy_to_device(dt.data(), &t, sizeof t);
      minibatch_on_device(n, batch, 42, sampling, dt.data(), idx.data());
      inputs_on_device(9, idx.data(), batch, h_in, x.data());
      std::vector<std::uint64_t> want(batch);
      host.fill(t, want.data());
      EXPECT_EQ(idx.to_host(), want) << "step " << t;
      std::vector<float> xw(batch * h_in);
      for (std::int64_t r = 0; r < batch; ++r) dln::sample_input(9, want[r], h_in, xw.data() + r * h_in);
      EXPECT_EQ(x.to_host(), xw) << "step " << t;
    }
  }
}

}  // namespace
}  // namespace llcb::cuda
