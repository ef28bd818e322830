// Contiguous shares of `count` items over a group of threads: thread `rank` of `group` takes items
// [share_begin(count, rank, group), share_begin(count, rank + 1, group)). The shares are in rank
// order, cover every item once and differ in size by at most one. Every parallel loop whose
// assignment another part of the code relies on uses them (the CPU GEMM blocks, dln/linalg.hpp;
// the update pass's chunks, lib/backend/cpu/lane_sums.hpp), rather than an OpenMP schedule whose
// assignment is the runtime's.
#pragma once

#include <cstdint>

namespace llcb {

inline std::int64_t share_begin(std::int64_t count, int rank, int group) { return count * rank / group; }

}  // namespace llcb
