// Chain groups on GPUs: an MpiChainGroup (its host-side sums serve the agreement on stop requests,
// round-trip sizes and checksums) plus an NCCL communicator for the gradient and loss sums in
// device memory.
//
// Bootstrap as nccl-tests does: member 0 calls ncclGetUniqueId and broadcasts the id over the
// group's MPI communicator; every member then calls ncclCommInitRank on the CUDA device it has
// already selected (the CUDA backend selects it when made). NCCL's all-reduce gives every member
// the same bits (ring and tree reduce each element once, then broadcast it). wait_device()
// polls the stream and ncclCommGetAsyncError; on an error or after the timeout it aborts the
// communicator (ncclCommAbort) and throws, so a dead or hung member ends the job instead of
// hanging the others. The one place outside lib/backend/cuda that uses CUDA (design.md).
#pragma once

#include <memory>
#include <vector>

#include "mpi/group.hpp"

namespace llcb::mpi {

class NcclChainGroup final : public MpiChainGroup {
 public:
  NcclChainGroup(const std::vector<int>& world_ranks, int tag);
  ~NcclChainGroup() override;

  bool device_sums() const override { return true; }
  void sum_device(float* data, std::size_t n, void* stream) override;
  void sum_device(double* data, std::size_t n, void* stream) override;
  void wait_device(void* stream, double timeout_seconds) override;

 private:
  struct Comm;  // the NCCL communicator (nccl_group.cpp)
  std::unique_ptr<Comm> nccl_;
};

}  // namespace llcb::mpi
