#include "apps/llcbench/truth_output.hpp"

#include "lib/core/parse.hpp"

namespace llcb::cli {

void write_truth_text(std::ostream& os, const dln::TrueLlc& t) {
  os << "d: " << t.d << "\n"
     << "subset: " << join_ints(t.subset) << " (l = " << t.l << ")\n"
     << "multiplicity: " << t.multiplicity << "\n"
     << "lambda (exact): " << t.lambda.to_string() << "\n";
}

void write_truth_json(JsonWriter& w, const dln::TrueLlc& t) {
  w.key("lambda").raw_number(t.lambda.to_decimal(kJsonDecimals));
  w.field("lambda_exact", t.lambda.to_string());
  w.field("multiplicity", t.multiplicity);
  w.field("d", t.d);
  w.field("l", t.l);
  w.array("subset", t.subset);
}

}  // namespace llcb::cli

namespace llcb::cli {

std::string status_sentence(const dln::LocalTruth& local, const dln::TrueLlc& aoyagi) {
  const std::string lambda = aoyagi.lambda.to_decimal(kTextDecimals);
  switch (local.status) {
    case dln::TruthStatus::kExact:
      return "every layer has the product's rank (the minimal stratum), so the local LLC at "
             "this teacher is exactly " + lambda;
    case dln::TruthStatus::kAbove:
      return "the local LLC at this teacher is at least rank(J)/2 = " +
             local.lambda_smooth.to_decimal(kTextDecimals) + ", above Aoyagi's " + lambda;
    case dln::TruthStatus::kGlobal:
      break;
  }
  return "Aoyagi's " + lambda + " is a lower bound for the local LLC at this teacher (the least "
         "over all true parameters)";
}

void write_local_text(std::ostream& os, const dln::LocalTruth& local, const dln::TrueLlc& aoyagi) {
  os << "rank(J): " << local.jacobian_rank
     << (local.numerical_ranks ? " (numerical partial-product ranks)" : " (partial-product ranks in general position)")
     << "\n"
     << "lambda_smooth: " << local.lambda_smooth.to_decimal(kTextDecimals) << "\n"
     << "lambda_lower: " << local.lambda_lower.to_decimal(kTextDecimals) << "\n"
     << "truth status: " << dln::to_string(local.status) << "; " << status_sentence(local, aoyagi)
     << "\n";
}

void write_local_json(JsonWriter& w, const dln::LocalTruth& local) {
  w.field("jacobian_rank", local.jacobian_rank);
  w.key("lambda_smooth").raw_number(local.lambda_smooth.to_decimal(kJsonDecimals));
  w.field("lambda_smooth_exact", local.lambda_smooth.to_string());
  w.key("lambda_lower").raw_number(local.lambda_lower.to_decimal(kJsonDecimals));
  w.field("lambda_lower_exact", local.lambda_lower.to_string());
  w.field("truth_status", std::string(dln::to_string(local.status)));
  w.field("partial_ranks", std::string(local.numerical_ranks ? "numerical" : "general position"));
  w.array("ranks_after", local.partial.after);
  w.array("ranks_before", local.partial.before);
}

}  // namespace llcb::cli
