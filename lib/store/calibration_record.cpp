#include "lib/store/calibration_record.hpp"

namespace llcb::store {

void put_calibration_record(ByteWriter& w, const CalibrationRecord& r) {
  w.put_string(r.status);
  w.put(r.found);
  for (double d : {r.step_size, r.accepted_low, r.accepted_high, r.seconds}) w.put(d);
  for (const std::string* s : {&r.why, &r.detail, &r.host, &r.backend, &r.finished}) w.put_string(*s);
}

CalibrationRecord get_calibration_record(ByteReader& rd) {
  CalibrationRecord r;
  r.status = rd.get_string();
  r.found = rd.get<std::int64_t>();
  for (double* d : {&r.step_size, &r.accepted_low, &r.accepted_high, &r.seconds}) *d = rd.get<double>();
  for (std::string* s : {&r.why, &r.detail, &r.host, &r.backend, &r.finished}) *s = rd.get_string();
  return r;
}

}  // namespace llcb::store
