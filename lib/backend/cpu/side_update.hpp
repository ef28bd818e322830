// The update pass run inside the backward pass's two sides (DlnModel::sides_apart), instead of in
// a pass of its own after it. On two threads the products below the cut and those above it run
// at once, one side a thread, and the side below has fewer flops: its thread used to wait at the
// end of the backward pass (on 100K 0.14 ms of the 0.51 the side above takes). Here it spends that
// wait on the update: first the chunks whose gradient lies wholly below the cut (its own
// products wrote them, and only its products read their weights next), then, once the side above
// has written its gradients, chunks from the end of the rest, while the thread above takes them
// from the front, until the two meet.
//
// The chunks, their lanes and the order in which their totals are added are the update pass's
// (chunked_lane_sums), so every bit is the same as the pass on its own; only when and in which
// thread each chunk runs changes.
//
//   SideUpdate split(n, below);        an update over n parameters, of which the first `below`
//                                      (the layers below the cut) are written by the side below
//   split.after_side(side, at_once, chunk)
//                                      in the thread that ran `side` (DlnModel::kBelowThread or
//                                      kAboveThread), once that side's gradients are written;
//                                      at_once: the two sides run in two threads at the same time
//                                      (else one thread runs them, below first)
//   split.finish(chunk)                after the backward pass, in one thread: runs any chunk that
//                                      has not run, returns the four sums in chunk order, and
//                                      readies the split for the next step
//
// chunk is update_chunks' callable (update_pass.hpp): chunk(begin, len, lanes).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include "lib/backend/cpu/dln_model.hpp"
#include "lib/backend/cpu/lane_sums.hpp"
#include "lib/backend/cpu/update_pass.hpp"
#include "lib/core/check.hpp"

namespace llcb::backend::cpu {

class SideUpdate {
 public:
  static constexpr int kSums = 4;  // update_chunks' terms

  SideUpdate(std::int64_t n, std::int64_t below)
      : n_(n), chunks_(lane_chunks(n)), early_(below / kLaneChunk),
        partial_(static_cast<std::size_t>(kSums * chunks_)), ran_(static_cast<std::size_t>(chunks_)) {
    LLCB_CHECK(below >= 0 && below <= n, "the parameters below the cut are some of the update's");
  }

  template <class Chunk>
  void after_side(int side, bool at_once, Chunk& chunk) {
    if (side == DlnModel::kBelowThread) {
      below_done_.store(true, std::memory_order_release);
      for (std::int64_t c = 0; c < early_; ++c) run(c, chunk);
      if (!at_once) return;  // one thread: the side above comes next and takes the rest
      wait_for(above_done_);
      for (std::int64_t c = chunks_ - 1; claim(); --c) run(c, chunk);
    } else {
      above_done_.store(true, std::memory_order_release);
      // The rest starts at the cut, whose chunk holds gradients of both sides.
      if (at_once) wait_for(below_done_);
      if (!below_done_.load(std::memory_order_acquire)) return;  // finish() runs them
      for (std::int64_t c = early_; claim(); ++c) run(c, chunk);
    }
  }

  template <class Chunk>
  PassTotals finish(Chunk& chunk) {
    for (std::int64_t c = 0; c < chunks_; ++c) {
      if (!ran_[static_cast<std::size_t>(c)]) run(c, chunk);
    }
    claimed_.store(0, std::memory_order_relaxed);
    below_done_.store(false, std::memory_order_relaxed);
    above_done_.store(false, std::memory_order_relaxed);
    std::fill(ran_.begin(), ran_.end(), 0);
    return pass_totals(sum_in_chunk_order<kSums>(partial_));
  }

  std::int64_t early_chunks() const { return early_; }

 private:
  // One of the chunks after the early ones, for whichever thread asks first; the thread below
  // counts down from the last, the thread above up from the first, so they never take the same.
  bool claim() { return claimed_.fetch_add(1, std::memory_order_relaxed) < chunks_ - early_; }

  template <class Chunk>
  void run(std::int64_t c, Chunk& chunk) {
    run_lane_chunk<float, kSums>(n_, c, chunk, partial_.data());
    ran_[static_cast<std::size_t>(c)] = 1;
  }

  // Spins briefly, then yields: the other side's thread may share this one's core.
  static void wait_for(const std::atomic<bool>& flag) {
    for (int i = 0; !flag.load(std::memory_order_acquire); ++i) {
      if (i < kSpins) {
#if defined(__x86_64__) || defined(__i386__)
        _mm_pause();
#endif
      } else {
        std::this_thread::yield();
      }
    }
  }
  static constexpr int kSpins = 1 << 10;

  std::int64_t n_, chunks_, early_;
  std::vector<double> partial_;  // kSums a chunk (run_lane_chunk)
  std::vector<char> ran_;        // each written only by the thread that ran its chunk
  // On lines of their own: the threads write them while reading the fields above at every chunk.
  alignas(64) std::atomic<std::int64_t> claimed_{0};
  alignas(64) std::atomic<bool> below_done_{false};
  alignas(64) std::atomic<bool> above_done_{false};
};

}  // namespace llcb::backend::cpu
