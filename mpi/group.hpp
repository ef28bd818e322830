// Chain groups over MPI: the ranks that run one chain together (backend::ChainGroup).
//
// MpiChainGroup is made by exactly its members, in the same member order on each (member 0 first),
// with MPI_Comm_create_group: collective over the members only, so a group forms while the
// other workers keep running their own jobs. Sums gather every member's partial array
// (MPI_Allgather) and add the partials in member order on every member: each member gets the same
// bits whatever collective algorithm MPI picks, and the same as on any other run of that group
// size. agree() gathers one value from each member. Every call is collective over the group and
// blocks until all members make it; errors throw RuntimeError. Not thread-safe.
#pragma once

#include <mpi.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "lib/backend/backend.hpp"

namespace llcb::mpi {

class MpiChainGroup : public backend::ChainGroup {
 public:
  // world_ranks: the members' ranks in MPI_COMM_WORLD in member order; must contain this rank.
  // tag: the same on every member, and different for groups that form at the same time.
  MpiChainGroup(const std::vector<int>& world_ranks, int tag);
  ~MpiChainGroup() override;
  MpiChainGroup(const MpiChainGroup&) = delete;
  MpiChainGroup& operator=(const MpiChainGroup&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  void sum(float* data, std::size_t n) override;
  void sum(double* data, std::size_t n) override;
  bool agree(std::uint64_t value) override;

  MPI_Comm comm() const { return comm_; }

 private:
  template <class T>
  void ordered_sum(T* data, std::size_t n, MPI_Datatype type);

  MPI_Comm comm_ = MPI_COMM_NULL;
  int rank_ = 0, size_ = 1;
  std::vector<char> gathered_;  // the members' partial arrays, reused between calls
};

// The chain group a worker of `backend` needs: NCCL (nccl_group.hpp) for "cuda" in builds with
// NCCL, MPI otherwise (the cuda backend then refuses groups).
std::unique_ptr<backend::ChainGroup> make_chain_group(const std::string& backend,
                                                      const std::vector<int>& world_ranks, int tag);

}  // namespace llcb::mpi
