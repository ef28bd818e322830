// How the true LLC is shown by `truth`, `problem` and `run`: the same fields in text and JSON.
//   text: "d:", "subset:", "multiplicity:", "lambda (exact):" lines; the decimal lambda is left to
//         the caller, which prints it as its last line (to 6 decimals, exact when it terminates).
//   JSON: lambda (number, 12 decimals), lambda_exact (string "p/q"), multiplicity, d, l, subset
//         (1-based positions into the width list).
// The local truth at a teacher (lib/dln/local_llc.hpp, docs/truth.md):
//   text: "rank(J):", "lambda_smooth:", "lambda_lower:" and "truth status:" lines, the status with
//         one sentence saying what it certifies.
//   JSON: jacobian_rank, lambda_smooth, lambda_smooth_exact, lambda_lower, lambda_lower_exact,
//         truth_status, partial_ranks ("numerical" or "general position": how the ranks were
//         found), ranks_after, ranks_before (the partial-product ranks, one per layer).
#pragma once

#include <ostream>
#include <string>

#include "lib/core/json.hpp"
#include "lib/dln/local_llc.hpp"
#include "lib/dln/true_llc.hpp"

namespace llcb::cli {

constexpr int kTextDecimals = 6;
constexpr int kJsonDecimals = 12;

void write_truth_text(std::ostream& os, const dln::TrueLlc& t);
void write_truth_json(JsonWriter& w, const dln::TrueLlc& t);

// What the status certifies, one sentence, e.g. "the local LLC at this teacher is at least 41,
// above Aoyagi's 35".
std::string status_sentence(const dln::LocalTruth& local, const dln::TrueLlc& aoyagi);
void write_local_text(std::ostream& os, const dln::LocalTruth& local, const dln::TrueLlc& aoyagi);
void write_local_json(JsonWriter& w, const dln::LocalTruth& local);

}  // namespace llcb::cli
