// The sampler registry: names, kinds, state counts, validation, and dispatch to the update rule.
// Adding a sampler costs one rule header and one entry here (and in dispatch below).
//
//   name           kind          states  rule
//   sgld           kSgld         0       sgld.hpp
//   rmsprop_sgld   kRmspropSgld  1 (v)   rmsprop_sgld.hpp
//   adam_sgld      kAdamSgld     2 (v,m) adam_sgld.hpp
//   sghmc          kSghmc        1 (p)   sghmc.hpp
//   sgnht          kSgnht        1 (p)   sgnht.hpp
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "lib/samplers/adam_sgld.hpp"
#include "lib/samplers/config.hpp"
#include "lib/samplers/rmsprop_sgld.hpp"
#include "lib/samplers/sghmc.hpp"
#include "lib/samplers/sgld.hpp"
#include "lib/samplers/sgnht.hpp"

namespace llcb::samplers {

struct SamplerInfo {
  std::string name;
  SamplerKind kind;
  int states;
  std::string summary;
};

const std::vector<SamplerInfo>& all_samplers();
// Throws UsageError naming the known samplers.
const SamplerInfo& find_sampler(std::string_view name);
const SamplerInfo& sampler_info(SamplerKind kind);

// Throws UsageError for a step size that is not finite and positive, nbeta <= 0, gamma < 0,
// decay rates outside [0, 1), alpha < 0, v0 < 0, friction outside (0, 1], diffusion < 0.
void validate(const SamplerConfig& c);

// Initial scalar state: SGNHT's thermostat starts at the diffusion A.
ChainScalars initial_scalars(const SamplerConfig& c);

// Calls f(Rule{}) with the rule type of `kind`; returns what f returns.
template <class F>
decltype(auto) dispatch(SamplerKind kind, F&& f) {
  switch (kind) {
    case SamplerKind::kSgld: return f(SgldRule{});
    case SamplerKind::kRmspropSgld: return f(RmspropSgldRule{});
    case SamplerKind::kAdamSgld: return f(AdamSgldRule{});
    case SamplerKind::kSghmc: return f(SghmcRule{});
    case SamplerKind::kSgnht: return f(SgnhtRule{});
  }
  return f(SgldRule{});
}

}  // namespace llcb::samplers
