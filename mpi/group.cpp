#include "mpi/group.hpp"

#include <algorithm>

#include "lib/core/error.hpp"
#include "mpi/check.hpp"
#if LLCB_HAVE_NCCL
#include "mpi/nccl_group.hpp"
#endif

namespace llcb::mpi {

MpiChainGroup::MpiChainGroup(const std::vector<int>& world_ranks, int tag) {
  MPI_Group world = MPI_GROUP_NULL, members = MPI_GROUP_NULL;
  LLCB_MPI_CHECK(MPI_Comm_group(MPI_COMM_WORLD, &world));
  const int rc = MPI_Group_incl(world, static_cast<int>(world_ranks.size()), world_ranks.data(), &members);
  MPI_Group_free(&world);
  LLCB_MPI_CHECK(rc);
  const int rc2 = MPI_Comm_create_group(MPI_COMM_WORLD, members, tag, &comm_);
  MPI_Group_free(&members);
  LLCB_MPI_CHECK(rc2);
  if (comm_ == MPI_COMM_NULL) throw RuntimeError("chain group: this rank is not one of its members");
  LLCB_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
  LLCB_MPI_CHECK(MPI_Comm_size(comm_, &size_));
}

MpiChainGroup::~MpiChainGroup() {
  if (comm_ != MPI_COMM_NULL) MPI_Comm_free(&comm_);
}

template <class T>
void MpiChainGroup::ordered_sum(T* data, std::size_t n, MPI_Datatype type) {
  if (size_ == 1 || n == 0) return;
  // MPI counts are int: gather in pieces of at most 2^28 elements per member.
  constexpr std::size_t kPiece = std::size_t{1} << 28;
  for (std::size_t first = 0; first < n; first += kPiece) {
    const std::size_t len = std::min(kPiece, n - first);
    gathered_.resize(len * sizeof(T) * static_cast<std::size_t>(size_));
    T* all = reinterpret_cast<T*>(gathered_.data());
    LLCB_MPI_CHECK(MPI_Allgather(data + first, static_cast<int>(len), type, all,
                                 static_cast<int>(len), type, comm_));
    T* out = data + first;
    std::copy(all, all + len, out);
    for (int m = 1; m < size_; ++m) {
      const T* part = all + static_cast<std::size_t>(m) * len;
      for (std::size_t i = 0; i < len; ++i) out[i] += part[i];
    }
  }
}

void MpiChainGroup::sum(float* data, std::size_t n) { ordered_sum(data, n, MPI_FLOAT); }
void MpiChainGroup::sum(double* data, std::size_t n) { ordered_sum(data, n, MPI_DOUBLE); }

std::unique_ptr<backend::ChainGroup> make_chain_group(const std::string& backend,
                                                      const std::vector<int>& world_ranks, int tag) {
#if LLCB_HAVE_NCCL
  if (backend == "cuda") return std::make_unique<NcclChainGroup>(world_ranks, tag);
#endif
  (void)backend;
  return std::make_unique<MpiChainGroup>(world_ranks, tag);
}

bool MpiChainGroup::agree(std::uint64_t value) {
  std::vector<std::uint64_t> all(static_cast<std::size_t>(size_));
  LLCB_MPI_CHECK(MPI_Allgather(&value, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, comm_));
  return std::all_of(all.begin(), all.end(), [&](std::uint64_t v) { return v == all.front(); });
}

}  // namespace llcb::mpi
