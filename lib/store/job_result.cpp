#include "lib/store/job_result.hpp"

#include <bit>

#include "lib/core/hash.hpp"

namespace llcb::store {
void put_job_result(ByteWriter& w, const JobResult& r) {
  w.put_string(r.status);
  for (double d : {r.lambda_hat, r.rel_error, r.mean_drift_noise_ratio, r.steps_per_second, r.seconds,
                   r.rel_error_lower, r.raw_estimate, r.estimate_se}) {
    w.put(d);
  }
  for (std::int64_t i : {r.diverged, r.diverged_chains, r.divergence_step, r.nonstationary}) w.put(i);
  for (const std::string* s : {&r.divergence_reason, &r.host, &r.backend, &r.precision, &r.finished, &r.message}) {
    w.put_string(*s);
  }
}

JobResult get_job_result(ByteReader& rd) {
  JobResult r;
  r.status = rd.get_string();
  for (double* d : {&r.lambda_hat, &r.rel_error, &r.mean_drift_noise_ratio, &r.steps_per_second, &r.seconds,
                    &r.rel_error_lower, &r.raw_estimate, &r.estimate_se}) {
    *d = rd.get<double>();
  }
  for (std::int64_t* i : {&r.diverged, &r.diverged_chains, &r.divergence_step, &r.nonstationary}) {
    *i = rd.get<std::int64_t>();
  }
  for (std::string* s : {&r.divergence_reason, &r.host, &r.backend, &r.precision, &r.finished, &r.message}) {
    *s = rd.get_string();
  }
  return r;
}

std::int64_t job_checksum(const JobResult& r, const std::vector<float>& trace) {
  std::uint64_t h = fnv1a64_bytes(kFnv1a64Offset, trace.data(), trace.size() * sizeof(float));
  for (const double d : {r.lambda_hat, r.rel_error, r.raw_estimate, r.estimate_se, r.rel_error_lower,
                         r.mean_drift_noise_ratio, r.steps_per_second, r.seconds}) {
    h = fnv1a64_bytes(h, &d, sizeof d);
  }
  for (const std::int64_t i : {r.diverged, r.diverged_chains, r.divergence_step, r.nonstationary}) {
    h = fnv1a64_bytes(h, &i, sizeof i);
  }
  for (const std::string* s : {&r.status, &r.divergence_reason, &r.host, &r.backend, &r.precision, &r.finished,
                               &r.message}) {
    h = fnv1a64_bytes(h, s->c_str(), s->size() + 1);
  }
  return std::bit_cast<std::int64_t>(h);
}

}  // namespace llcb::store
