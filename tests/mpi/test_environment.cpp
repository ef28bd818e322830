// The MPI environment under mpiexec -np N (N given as the first argument) and as a singleton.
// Every rank runs the tests; a failure on any rank fails the run.
#include <gtest/gtest.h>

#include <cstdlib>

#include "mpi/environment.hpp"

namespace {

llcb::mpi::Environment* g_env = nullptr;
int g_expected_size = 1;

TEST(MpiEnvironment, WorldAndNodeRanks) {
  EXPECT_EQ(g_env->size(), g_expected_size);
  EXPECT_GE(g_env->rank(), 0);
  EXPECT_LT(g_env->rank(), g_env->size());
  // One machine: the node communicator is the whole world, ordered like it.
  EXPECT_EQ(g_env->node_size(), g_env->size());
  EXPECT_EQ(g_env->node_rank(), g_env->rank());
  EXPECT_FALSE(g_env->host().empty());
}

TEST(MpiEnvironment, CollectivesWork) {
  int sum = 0;
  const int mine = g_env->rank() + 1;
  ASSERT_EQ(MPI_Allreduce(&mine, &sum, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD), MPI_SUCCESS);
  EXPECT_EQ(sum, g_env->size() * (g_env->size() + 1) / 2);
}

}  // namespace

int main(int argc, char** argv) {
  llcb::mpi::Environment env(&argc, &argv);
  g_env = &env;
  ::testing::InitGoogleTest(&argc, argv);
  if (argc > 1) g_expected_size = std::atoi(argv[1]);
  const int failed = RUN_ALL_TESTS();
  int any_failed = 0;
  MPI_Allreduce(&failed, &any_failed, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  return any_failed ? 1 : 0;
}
