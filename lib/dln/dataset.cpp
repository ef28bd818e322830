#include "lib/dln/dataset.hpp"

#include <algorithm>

#include "lib/core/error.hpp"
#include "lib/core/philox_blocks.hpp"

namespace llcb::dln {

Sampling parse_sampling(const std::string& text, const std::string& what) {
  if (text == "without_replacement") return Sampling::kWithoutReplacement;
  if (text == "with_replacement") return Sampling::kWithReplacement;
  throw UsageError(what + ": '" + text + "' is not without_replacement or with_replacement");
}

void sample_input_host(std::uint64_t problem_seed, std::uint64_t i, std::int64_t h_in, float* x) {
  constexpr std::int64_t kBlocks = 256;  // blocks drawn together (1,024 coordinates)
  alignas(64) std::uint32_t words[4][kBlocks];
  const BlockWords out{{words[0], words[1], words[2], words[3]}};
  for (std::int64_t j0 = 0; j0 < h_in; j0 += 4 * kBlocks) {
    const std::int64_t coords = std::min(h_in - j0, 4 * kBlocks);
    const std::int64_t blocks = (coords + 3) / 4, whole = coords / 4;
    draw_blocks(problem_seed, Stream::kInput, i, static_cast<std::uint32_t>(j0 / 4), blocks, out);
    float* y = x + j0;
#pragma omp simd
    for (std::int64_t j = 0; j < whole; ++j) {
      for (int k = 0; k < 4; ++k) y[4 * j + k] = mul_rn(20.0f, u01f(words[k][j])) - 10.0f;
    }
    for (std::int64_t c = 4 * whole; c < coords; ++c) y[c] = mul_rn(20.0f, u01f(words[c % 4][c / 4])) - 10.0f;
  }
}

void sample_inputs_host(std::uint64_t problem_seed, const std::uint64_t* idx, std::int64_t rows, std::int64_t h_in,
                        float* x) {
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) sample_input_host(problem_seed, idx[r], h_in, x + r * h_in);
}

}  // namespace llcb::dln
