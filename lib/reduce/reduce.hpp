// The reducer: per (class, sampler, step size, ranks per chain, truth status), the statistics of
// benchmark.md section 4 over the finished ("done") jobs of a sweep.
//
//   truth_status          "all" (every job: the published pooled statistics) and one row for each
//                         status present (exact, above, global: docs/truth.md); stores written
//                         before statuses existed give "all" rows only
//   count                 finished jobs in the group
//   converged             of them, not diverged
//   mean/std/median_rel_error  of (lambda_hat - lambda) / lambda over converged jobs, lambda
//                         Aoyagi's value (std is the sample standard deviation, n - 1; NaN below 2
//                         jobs)
//   mean_rel_error_lower  the mean of (lambda_hat - lambda_lower) / lambda_lower over converged
//                         jobs (lambda_lower = max(Aoyagi, rank(J)/2); equal to the above unless
//                         some job's status is "above"; stores without it use lambda)
//   divergence_fraction   diverged / count
//   order_preservation    over all pairs of jobs whose true lambdas differ, the fraction whose
//                         lambda_hat are in the same strict order; a pair with a diverged job, or
//                         with equal estimates, is discordant; NaN when there is no such pair
//   order_preservation_lower  the same against lambda_lower
//   mean_steps_per_second over finished jobs
//   pending, failed       jobs of the group not (yet) done, and failed ones
//   ranks_per_chain       the group size G the jobs ran with (1 for stores without that column)
//   teacher               the teacher mode of the jobs (paper for stores without that column)
//   slot                  only in sweeps with calibrated samplers (docs/calibration.md): "" for a
//                         fixed step size, else the slot ("calibrated", "calibrated-1", ...), whose
//                         jobs are grouped whatever step size each problem's calibration chose;
//                         step_size is then the median step size they ran with (the geometric
//                         mean of the two middle ones for an even count)
// Rows are sorted by class, sampler, slot, step size, ranks per chain, then truth status (all, exact,
// above, global). No NaN from a diverged chain enters any statistic: diverged jobs only count in
// divergence_fraction and as discordant pairs.
#pragma once

#include "lib/store/table.hpp"

namespace llcb::reduce {

// `jobs` needs the columns class, sampler, step_size, status, lambda_hat, lambda_true, diverged,
// steps_per_second; ranks_per_chain, truth_status, lambda_lower and teacher are optional.
store::Table summarize(const store::Table& jobs);

}  // namespace llcb::reduce
