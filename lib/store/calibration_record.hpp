// What a finished calibration writes into its /calibrations row (docs/store.md), and its byte
// encoding (the MPI protocol's calibration message and the store's journal).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "lib/core/bytes.hpp"

namespace llcb::store {

struct CalibrationRecord {
  std::string status;  // "done" (a calibration that found no step size is done too: found = 0)
  std::int64_t found = 0;
  double step_size = 0, accepted_low = 0, accepted_high = 0;  // NaN when not found
  std::string why;     // the rule's one line
  std::string detail;  // JSON: the rule, and per step size its statistics and chains' lambda_hat
  double seconds = 0;
  std::string host, backend, finished;
};

void put_calibration_record(ByteWriter& w, const CalibrationRecord& r);
CalibrationRecord get_calibration_record(ByteReader& r);

}  // namespace llcb::store
