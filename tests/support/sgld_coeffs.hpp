// The coefficients of the first SGLD step at a given step size (nbeta 100): the update pass's
// tests in tests/backend/cpu build theirs here.
#pragma once

#include "lib/samplers/registry.hpp"

namespace llcb::test_support {

inline samplers::SgldRule::Coeffs sgld_coeffs(double step_size) {
  samplers::SamplerConfig c;
  c.kind = samplers::SamplerKind::kSgld;
  c.step_size = step_size;
  c.nbeta = 100;
  return samplers::SgldRule::coeffs(c, 1, samplers::initial_scalars(c));
}

}  // namespace llcb::test_support
