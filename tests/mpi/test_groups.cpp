// Chain groups under mpiexec -np 3: MpiChainGroup over a subset of the world in a given member
// order (world ranks 2 and 0; rank 1 stays out, as a busy worker would), its ordered sums (the
// same bits on every member, equal to the partials added in member order) and agree(); and, where
// this build has NCCL and a GPU is visible, an NCCL group of one on each rank. Every rank runs
// the tests; a failure on any rank fails the run.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "lib/core/hash.hpp"
#include "mpi/environment.hpp"
#include "mpi/group.hpp"
#if LLCB_HAVE_NCCL
#include "lib/backend/cuda/device.hpp"
#include "mpi/nccl_group.hpp"
#endif

namespace {

llcb::mpi::Environment* g_env = nullptr;

// Partial array of world rank r: values whose float sums depend on the order of addition.
std::vector<float> partial(int r, std::size_t n) {
  std::vector<float> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = std::ldexp(1.0f + 1e-3f * static_cast<float>(i % 997), (r * 7 + static_cast<int>(i % 5)) % 23 - 11);
  return v;
}

// A checksum of bits, gathered from every world rank.
std::vector<std::uint64_t> gather_bits(const std::vector<float>& v) {
  std::uint64_t h = llcb::fnv1a64(std::string_view(reinterpret_cast<const char*>(v.data()), 4 * v.size()));
  std::vector<std::uint64_t> all(static_cast<std::size_t>(g_env->size()));
  MPI_Allgather(&h, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, MPI_COMM_WORLD);
  return all;
}

TEST(MpiChainGroup, SumsInMemberOrderGiveEveryMemberTheSameBits) {
  ASSERT_EQ(g_env->size(), 3);
  const std::size_t n = 300'001;  // odd, and more than one MPI message on shared memory
  std::vector<float> mine = partial(g_env->rank(), n);
  if (g_env->rank() != 1) {
    llcb::mpi::MpiChainGroup group({2, 0}, 5);
    EXPECT_EQ(group.size(), 2);
    EXPECT_EQ(group.rank(), g_env->rank() == 2 ? 0 : 1);  // member order is the list's
    group.sum(mine.data(), n);
    const std::vector<float> p2 = partial(2, n), p0 = partial(0, n);
    for (std::size_t i = 0; i < n; ++i) {
      const float want = p2[i] + p0[i];  // member 0 (world rank 2) first
      ASSERT_EQ(std::memcmp(&mine[i], &want, 4), 0) << i;
    }
    double d[2] = {1.5, static_cast<double>(g_env->rank())};
    group.sum(d, 2);
    EXPECT_EQ(d[0], 3.0);
    EXPECT_EQ(d[1], 2.0);
  }
  const auto bits = gather_bits(mine);
  EXPECT_EQ(bits[0], bits[2]);  // both members hold the same sum
}

TEST(MpiChainGroup, AgreeIsTrueOnlyWhenEveryMemberPassesTheSameValue) {
  if (g_env->rank() == 1) return;
  llcb::mpi::MpiChainGroup group({0, 2}, 6);
  EXPECT_TRUE(group.agree(42));
  EXPECT_FALSE(group.agree(g_env->rank() == 0 ? 42 : 43));
}

TEST(MpiChainGroup, AGroupOfOneLeavesDataAlone) {
  llcb::mpi::MpiChainGroup group({g_env->rank()}, 7);
  std::vector<float> v = {1.0f, 2.5f};
  group.sum(v.data(), v.size());
  EXPECT_EQ(v, (std::vector<float>{1.0f, 2.5f}));
  EXPECT_FALSE(group.device_sums());
}

#if LLCB_HAVE_NCCL
TEST(NcclChainGroup, AGroupOfOnePerRankSumsDeviceMemoryAndWaits) {
  if (llcb::cuda::device_count() == 0) GTEST_SKIP() << "no CUDA device visible";
  llcb::cuda::set_device(g_env->node_rank() % llcb::cuda::device_count());
  llcb::mpi::NcclChainGroup group({g_env->rank()}, 8);
  EXPECT_TRUE(group.device_sums());
  const std::vector<float> host = {1.0f, -2.0f, 3.5f};
  llcb::cuda::DeviceBuffer<float> dev(host.size());
  llcb::cuda::copy_to_device(dev.data(), host.data(), 4 * host.size());
  group.sum_device(dev.data(), host.size(), nullptr);
  group.wait_device(nullptr, 60);
  EXPECT_EQ(dev.to_host(), host);
}
#endif

}  // namespace

int main(int argc, char** argv) {
  llcb::mpi::Environment env(&argc, &argv);
  g_env = &env;
  ::testing::InitGoogleTest(&argc, argv);
  const int failed = RUN_ALL_TESTS();
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any_failed;
}
