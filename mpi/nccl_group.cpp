#include "mpi/nccl_group.hpp"

#include <cuda_runtime.h>
#include <nccl.h>

#include <chrono>
#include <thread>

#include "lib/core/check.hpp"
#include "lib/core/error.hpp"
#include "mpi/check.hpp"

namespace llcb::mpi {
namespace {

std::string describe_nccl(ncclResult_t r) { return ncclGetErrorString(r); }

}  // namespace

#define LLCB_NCCL_CHECK(call) \
  LLCB_CHECK_STATUS(call, ncclSuccess, ::llcb::mpi::describe_nccl, ::llcb::RuntimeError)

struct NcclChainGroup::Comm {
  ncclComm_t comm = nullptr;
  bool aborted = false;
  ~Comm() {
    if (comm && !aborted) ncclCommDestroy(comm);
  }
  void abort() {
    if (comm && !aborted) ncclCommAbort(comm);
    aborted = true;
  }
};

NcclChainGroup::NcclChainGroup(const std::vector<int>& world_ranks, int tag)
    : MpiChainGroup(world_ranks, tag), nccl_(std::make_unique<Comm>()) {
  ncclUniqueId id{};
  if (rank() == 0) LLCB_NCCL_CHECK(ncclGetUniqueId(&id));
  LLCB_MPI_CHECK(MPI_Bcast(&id, static_cast<int>(sizeof id), MPI_BYTE, 0, comm()));
  LLCB_NCCL_CHECK(ncclCommInitRank(&nccl_->comm, size(), id, rank()));
}

NcclChainGroup::~NcclChainGroup() = default;

void NcclChainGroup::sum_device(float* data, std::size_t n, void* stream) {
  LLCB_NCCL_CHECK(ncclAllReduce(data, data, n, ncclFloat32, ncclSum, nccl_->comm,
                                static_cast<cudaStream_t>(stream)));
}

void NcclChainGroup::sum_device(double* data, std::size_t n, void* stream) {
  LLCB_NCCL_CHECK(ncclAllReduce(data, data, n, ncclFloat64, ncclSum, nccl_->comm,
                                static_cast<cudaStream_t>(stream)));
}

void NcclChainGroup::wait_device(void* stream, double timeout_seconds) {
  const auto start = std::chrono::steady_clock::now();
  const auto s = static_cast<cudaStream_t>(stream);
  while (true) {
    const cudaError_t q = cudaStreamQuery(s);
    if (q == cudaSuccess) return;
    if (q != cudaErrorNotReady) {
      nccl_->abort();
      throw RuntimeError(std::string("chain group: the device stream failed: ") + cudaGetErrorString(q));
    }
    ncclResult_t async = ncclSuccess;
    LLCB_NCCL_CHECK(ncclCommGetAsyncError(nccl_->comm, &async));
    if (async != ncclSuccess) {
      nccl_->abort();
      throw RuntimeError("chain group: NCCL reported " + describe_nccl(async));
    }
    const double waited =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (waited > timeout_seconds) {
      nccl_->abort();
      throw RuntimeError("chain group: no progress for " + std::to_string(static_cast<int>(waited)) +
                         " s (a member died or hangs); NCCL communicator aborted");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace llcb::mpi
