// Which thread of a team runs each kLaneChunk chunk of a pass over an array that GEMMs wrote
// (chunked_lane_sums, lane_sums.hpp): the thread that wrote most of the chunk's elements, so that
// a chunk is read and written on the core whose cache holds it. When the cores of a team hand
// data to each other slowly (docs/performance.md, "Two cores") every array that one core writes
// and another reads costs the step; the update pass reads the gradient the GEMMs wrote and writes
// the weights that the next step's GEMMs read in the same split.
//
// The chunks and their order of addition stay fixed, so which thread runs a chunk never changes
// a bit of any result: this is a schedule, not a data path.
//
//   ChunkOwners owners(n, team);            an array of n elements, a team of `team` threads
//   owners.add(offset, ld, part);           elements (offset + i * ld + j) of a GEMM part
//                                           (dln::gemm_parts) were written by part.thread
//   owners.owners()                         one thread a chunk: the one that wrote most of its
//                                           elements (ties to the lower thread); chunks that
//                                           no part wrote go by contiguous shares, as
//                                           chunked_lane_sums' own schedule would have them
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/core/check.hpp"
#include "lib/core/shares.hpp"
#include "lib/dln/linalg.hpp"

namespace llcb::backend::cpu {

class ChunkOwners {
 public:
  ChunkOwners(std::int64_t n, int team)
      : n_(n), team_(team), chunks_(lane_chunks(n)),
        written_(static_cast<std::size_t>(chunks_ * std::max(team, 1)), 0) {
    LLCB_CHECK(team >= 1 && n >= 0, "a team of at least one thread");
  }

  void add(std::int64_t offset, std::int64_t ld, const dln::GemmPart& p) {
    if (p.thread < 0 || p.thread >= team_) return;
    for (std::int64_t i = p.row; i < p.row + p.rows; ++i) {
      std::int64_t e = offset + i * ld + p.col;
      const std::int64_t end = std::min(n_, e + p.cols);
      while (e < end) {  // the row's elements, chunk by chunk
        const std::int64_t c = e / kLaneChunk;
        const std::int64_t stop = std::min(end, (c + 1) * kLaneChunk);
        written_[static_cast<std::size_t>(c * team_ + p.thread)] += stop - e;
        e = stop;
      }
    }
  }

  std::vector<int> owners() const {
    std::vector<int> out(static_cast<std::size_t>(chunks_));
    std::vector<std::int64_t> load(static_cast<std::size_t>(team_), 0);  // elements a thread runs
    for (std::int64_t c = 0; c < chunks_; ++c) {
      const std::int64_t* w = written(c);
      const auto most = std::max_element(w, w + team_);
      int t = static_cast<int>(most - w);
      if (*most == 0) {  // by contiguous shares
        t = 0;
        while (t + 1 < team_ && share_begin(chunks_, t + 1, team_) <= c) ++t;
      }
      out[static_cast<std::size_t>(c)] = t;
      load[static_cast<std::size_t>(t)] += length(c);
    }
    // Even out the threads' shares: move chunks from the busiest thread to the idlest while that
    // shortens the busiest, each time the chunk whose move crosses the fewest elements.
    for (;;) {
      const auto busiest = static_cast<int>(std::max_element(load.begin(), load.end()) - load.begin());
      const auto idlest = static_cast<int>(std::min_element(load.begin(), load.end()) - load.begin());
      std::int64_t pick = -1;
      for (std::int64_t c = 0; c < chunks_; ++c) {
        if (out[static_cast<std::size_t>(c)] != busiest ||
            load[static_cast<std::size_t>(idlest)] + length(c) >= load[static_cast<std::size_t>(busiest)]) {
          continue;
        }
        if (pick < 0 || loss(c, busiest, idlest) < loss(pick, busiest, idlest) ||
            (loss(c, busiest, idlest) == loss(pick, busiest, idlest) && !next_to(out, pick, idlest) &&
             next_to(out, c, idlest))) {
          pick = c;
        }
      }
      if (pick < 0) break;
      out[static_cast<std::size_t>(pick)] = idlest;
      load[static_cast<std::size_t>(busiest)] -= length(pick);
      load[static_cast<std::size_t>(idlest)] += length(pick);
    }
    return out;
  }

 private:
  const std::int64_t* written(std::int64_t c) const { return written_.data() + c * team_; }
  std::int64_t length(std::int64_t c) const { return std::min(n_, (c + 1) * kLaneChunk) - c * kLaneChunk; }
  // Elements of chunk c that would cross cores if thread `to` ran it instead of `from`.
  std::int64_t loss(std::int64_t c, int from, int to) const { return written(c)[from] - written(c)[to]; }

  // Whether a chunk beside c runs on thread t (a move there keeps t's chunks together).
  bool next_to(const std::vector<int>& out, std::int64_t c, int t) const {
    return (c > 0 && out[static_cast<std::size_t>(c - 1)] == t) ||
           (c + 1 < chunks_ && out[static_cast<std::size_t>(c + 1)] == t);
  }

  std::int64_t n_;
  int team_;
  std::int64_t chunks_;
  std::vector<std::int64_t> written_;  // elements written, by chunk and thread
};

}  // namespace llcb::backend::cpu
