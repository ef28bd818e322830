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
