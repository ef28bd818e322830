// What a finished job writes into its /jobs row (besides the status), its byte encoding (the MPI
// protocol's result message and the store's journal) and its checksum.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/bytes.hpp"

namespace llcb::store {

struct JobResult {
  std::string status;  // "done" or "failed"
  double lambda_hat = 0, rel_error = 0, mean_drift_noise_ratio = 0, steps_per_second = 0, seconds = 0;
  // Against lambda_lower (the local truth's lower bound; filled in by the store's writer, which
  // knows it); the uncensored estimate (mean of the chains' raw estimates, a number even when a
  // chain diverged) and its standard error.
  double rel_error_lower = 0, raw_estimate = 0, estimate_se = 0;
  std::int64_t diverged = 0, diverged_chains = 0, divergence_step = -1, nonstationary = 0;
  std::string divergence_reason, host, backend, precision, finished, message;
};

void put_job_result(ByteWriter& w, const JobResult& r);
JobResult get_job_result(ByteReader& r);

// The /jobs `checksum` of a finished job: fnv1a64 over the bytes of its trace (float32, rows x
// chains, row-major), then of its result cells lambda_hat, rel_error, raw_estimate, estimate_se,
// rel_error_lower, mean_drift_noise_ratio, steps_per_second, seconds (IEEE doubles), diverged,
// diverged_chains, divergence_step, nonstationary (int64), all little-endian, then of status,
// divergence_reason, host, backend, precision, finished and message (each followed by a zero
// byte); as int64 (the same 64 bits). Every cell a finished job writes, so a cell torn by a
// killed writer fails it.
std::int64_t job_checksum(const JobResult& r, const std::vector<float>& trace);

}  // namespace llcb::store
