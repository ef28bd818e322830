// Learning problems: a teacher deep linear network W* drawn from (model class, problem seed)
// exactly as benchmark.md section 1 says, with every draw addressed as in lib/core/streams.hpp:
//
//  1. M = uniform_int(kArch block 0) in the class's layer range; width H_j (j = 1..M+1) =
//     uniform_int(kArch block j) in the width range (both inclusive).
//  2. W*_s entries iid N(0, 2 / (H_s + H_{s+1})) (Xavier normal): entry e (row-major) of layer s
//     is component e % 2 of normal2d(kTeacher block e / 2, sub-index s), times the standard
//     deviation. Any entry can be regenerated alone.
//  3. Rank reduction, independently per layer s: with the kRankCut block s, the layer is cut when
//     u01d(words 0, 1) < 0.5; then k = uniform_int(words 2, 3) in 0..min(H_s, H_{s+1}) - 1 and
//     every row (when H_{s+1} <= H_s) or every column (otherwise) with index >= k is zeroed,
//     so rank(W*_s) = k. Keeping the leading indices makes cuts of adjacent layers line up.
//  4. r = numerical rank of W*_M ... W*_1 in double (lib/dln/linalg.hpp).
//  5. The true LLC of (widths, r) (lib/dln/true_llc.hpp).
//  6. The teacher mode (docs/truth.md): `paper` keeps the cuts above (the published draw);
//     `minimal` then cuts every layer to rank r the same way (rows or columns with index >= r
//     zeroed), which puts the teacher on the minimal stratum, where Aoyagi's value is the local
//     LLC; the Gaussian entries are the same, so r and lambda are too.
//  7. The local truth at the teacher (lib/dln/local_llc.hpp) from the numerical ranks of the
//     partial products, or, for networks with a layer wider than kNumericalRankWidth (the 1B
//     class, where each of those SVDs would take minutes), from their ranks in general position,
//     which the numerical ranks equal on every teacher the tests draw.
// Host only; deterministic: the same (class, seed) gives the same problem on every machine with
// an IEEE-754 libm (the rank is an integer computed far from its threshold in practice).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/dln/linalg.hpp"
#include "lib/dln/local_llc.hpp"
#include "lib/dln/model_class.hpp"
#include "lib/dln/true_llc.hpp"

namespace llcb::dln {

// How the teacher's layers are cut (docs/truth.md):
//   paper        a model class's draw as published (each layer cut with probability 1/2);
//   first-layer  a --widths/--rank problem: only layer 0 is cut, to rank r;
//   minimal      every layer cut to rank r (the minimal stratum: the truth is exact).
enum class TeacherMode { kPaper, kFirstLayer, kMinimal };
const char* to_string(TeacherMode mode);
// Throws UsageError naming `what` (the option or key) for any other name.
TeacherMode parse_teacher_mode(const std::string& name, const std::string& what);

constexpr std::int64_t kNumericalRankWidth = 4096;

struct LayerCut {
  bool cut = false;     // rank reduction applied to this layer
  std::int64_t k = 0;   // rank after the cut (when cut)
  bool rows = false;    // rows (true) or columns (false) with index >= k are zero
};

struct Problem {
  std::string class_name;
  std::uint64_t seed = 0;
  std::vector<std::int64_t> widths;  // H_1 .. H_{M+1}
  std::vector<LayerCut> cuts;        // one per layer
  std::int64_t rank = 0;             // numerical rank of the teacher product
  std::int64_t n = 0;                // dataset size
  TeacherMode teacher = TeacherMode::kPaper;
  TrueLlc truth;                     // Aoyagi's value for (widths, rank)
  LocalTruth local;                  // what is certified at this teacher (local_llc.hpp)

  std::int64_t layers() const { return static_cast<std::int64_t>(widths.size()) - 1; }
  // rank(W*_s): k when cut, otherwise min(H_s, H_{s+1}) (Gaussian matrices have full rank).
  std::int64_t layer_rank(std::size_t s) const;
};

// Whether a draw computes the local truth (step 7), which costs SVDs of the partial products;
// code that only runs chains (MPI workers) skips it and leaves `local` empty.
enum class LocalTruthMode { kCompute, kSkip };

// Draws the architecture and cuts, computes the teacher product's rank, the true LLC and the
// local truth. `teacher` is paper or minimal (UsageError for first-layer).
Problem draw_problem(const ModelClass& model, std::uint64_t seed,
                     TeacherMode teacher = TeacherMode::kPaper,
                     LocalTruthMode local = LocalTruthMode::kCompute);

// draw_problem for each seed, one problem per thread (each draw's BLAS and LAPACK calls then run
// in its thread, and gemm()'s results do not depend on it); serially, with threaded BLAS, for
// classes wider than kNumericalRankWidth, whose products would not fit in memory many at a time.
// The first failure is rethrown as it was thrown.
std::vector<Problem> draw_problems(const ModelClass& model, const std::vector<std::uint64_t>& seeds,
                                   TeacherMode teacher);

// The layer ranks of a --widths/--rank teacher of mode first-layer (layer 0 cut to rank, the
// others full) or minimal (every layer of rank `rank`); UsageError for paper.
std::vector<std::int64_t> architecture_layer_ranks(const std::vector<std::int64_t>& widths,
                                                   std::int64_t rank, TeacherMode teacher);

// A problem with a given architecture whose teacher product has rank `rank`: the teacher is drawn
// from `seed` as above (step 2); first-layer cuts only layer 0, to rank `rank` when that is below
// min(H_1, H_2); minimal cuts every layer to `rank`. The numerical rank is then checked to equal
// `rank` (RuntimeError otherwise, which needs a measure-zero draw). class_name is "widths:H1,...".
// Throws UsageError for invalid widths or rank, or teacher paper.
Problem problem_from_architecture(const std::vector<std::int64_t>& widths, std::int64_t rank,
                                  std::uint64_t seed, std::int64_t n,
                                  TeacherMode teacher = TeacherMode::kFirstLayer);

// The teacher layer W*_s (s = 0-based layer index) in double, row-major H_{s+1} x H_s.
MatrixD teacher_layer(const Problem& problem, std::size_t s);

// The teacher product W*_M ... W*_1 in double, H_{M+1} x H_1 (matrix-chain order).
MatrixD teacher_product(const Problem& problem);

// Numerical rank of the teacher product (what draw_problem stores in `rank`).
std::int64_t teacher_product_rank(const Problem& problem);

}  // namespace llcb::dln
