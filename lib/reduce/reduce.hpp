// The reducer: per (class, sampler, step size, ranks per chain), the statistics of benchmark.md section 4 over the
// finished ("done") jobs of a sweep.
//
//   count                 finished jobs in the group
//   converged             of them, not diverged
//   mean/std/median_rel_error  of (lambda_hat - lambda) / lambda over converged jobs
//                         (std is the sample standard deviation, n - 1; NaN below 2 jobs)
//   divergence_fraction   diverged / count
//   order_preservation    over all pairs of jobs whose true lambdas differ, the fraction whose
//                         lambda_hat are in the same strict order; a pair with a diverged job, or
//                         with equal estimates, is discordant; NaN when there is no such pair
//   mean_steps_per_second over finished jobs
//   pending, failed       jobs of the group not (yet) done, and failed ones
//   ranks_per_chain       the group size G the jobs ran with (1 for stores without that column)
// Groups are sorted by class, sampler, step size and ranks per chain. No NaN from a diverged chain enters any
// statistic: diverged jobs only count in divergence_fraction and as discordant pairs.
#pragma once

#include "lib/store/table.hpp"

namespace llcb::reduce {

// `jobs` needs the columns class, sampler, step_size, status, lambda_hat, lambda_true, diverged,
// steps_per_second; ranks_per_chain is optional.
store::Table summarize(const store::Table& jobs);

}  // namespace llcb::reduce
