// How the true LLC is shown by `truth` and `problem`: the same fields in text and JSON.
//   text: "d:", "subset:", "multiplicity:", "lambda (exact):" lines; the decimal lambda is left to
//         the caller, which prints it as its last line (to 6 decimals, exact when it terminates).
//   JSON: lambda (number, 12 decimals), lambda_exact (string "p/q"), multiplicity, d, l, subset
//         (1-based positions into the width list).
#pragma once

#include <ostream>
#include <string>

#include "lib/core/json.hpp"
#include "lib/dln/true_llc.hpp"

namespace llcb::cli {

constexpr int kTextDecimals = 6;
constexpr int kJsonDecimals = 12;

void write_truth_text(std::ostream& os, const dln::TrueLlc& t);
void write_truth_json(JsonWriter& w, const dln::TrueLlc& t);

}  // namespace llcb::cli
