// Deep linear network architectures: widths H_1 (input), ..., H_{M+1} (output), M >= 1 layers,
// layer s (0-based in code, W_{s+1} in benchmark.md) maps H_s -> H_{s+1} and has shape
// H_{s+1} x H_s. d = sum_s H_s * H_{s+1}.
#pragma once

#include <cstdint>
#include <vector>

namespace llcb::dln {

// Limits for architectures given by hand (truth, custom problems). They keep every exact LLC
// computation far inside 128-bit arithmetic and d inside 64 bits.
constexpr std::int64_t kMaxWidth = 10'000'000;
constexpr std::int64_t kMaxLayers = 10'000;

// Throws UsageError unless there are 2..kMaxLayers+1 widths, each in 1..kMaxWidth.
void validate_widths(const std::vector<std::int64_t>& widths);

// Parameter count d = sum_s H_s * H_{s+1}. Requires valid widths.
std::int64_t parameter_count(const std::vector<std::int64_t>& widths);

std::int64_t min_width(const std::vector<std::int64_t>& widths);

}  // namespace llcb::dln
